"""Synthetic but realistic traffic for ``smm-pulse up --demo``.

Every second it sends, per brand, a batch through the collector SDK: follower
snapshots, post snapshots whose counters grow and level off, webhook
interactions, customer messages and replies, mentions in Russian and English
whose volume follows a daily rhythm with occasional spikes, and business
outcomes (``smm_pulse.demo.business``): website visits from the platforms, the
conversions that follow them and the snapshots of an ad campaign driving them.
"""

from __future__ import annotations

import math
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from smm_pulse.config import Config
from smm_pulse.demo.business import BusinessTraffic
from smm_pulse.sdk import CollectorClient

PLATFORMS = ("vk", "telegram", "instagram", "x", "youtube")
# The campaigns started this long before the feed, whose first batches send that history:
# business KPIs show at once instead of after the first visitors converted.
WARM_UP_SECONDS = 600
BATCH_EVENTS = 500  # per message at most (the history is thousands)
MENTION_TEXTS = {
    "ru": [
        ("Отличное приложение у {b}, перевод за секунду!", 0.7),
        ("Спасибо {b}, поддержка быстро помогла 👍", 0.6),
        ("{b} снова не работает, третий день не могу войти 😡", -0.7),
        ("Не советую {b}: списали комиссию без предупреждения", -0.6),
        ("Кто пользуется {b}? Как у них с кешбэком?", 0.0),
        ("Открыл вклад в {b}, посмотрим", 0.0),
    ],
    "en": [
        ("Love the new {b} app, transfers are instant!", 0.7),
        ("{b} support sorted my card in 5 minutes, great job", 0.6),
        ("{b} charged me twice and nobody answers. Terrible.", -0.8),
        ("Not bad at all, {b} fixed the login bug", 0.3),
        ("Anyone tried the {b} savings account?", 0.0),
        ("{b} outage again?", -0.4),
    ],
}


def default_config_path() -> str:
    return str(resources.files("smm_pulse.demo") / "demo.yaml")


@dataclass
class _Post:
    account: str
    post_id: str
    published_at: float
    potential: int  # final interactions the post will reach
    counters: dict[str, int] = field(default_factory=dict)


@dataclass
class _Account:
    brand: str
    platform: str
    name: str
    followers: int
    posts: list[_Post] = field(default_factory=list)


class DemoFeeder:
    """Generates and sends demo traffic until ``stop()``."""

    def __init__(self, config: Config, bootstrap: str, seed: int = 7) -> None:
        self.config = config
        self.bootstrap = bootstrap
        self.rng = random.Random(seed)
        self._stop = threading.Event()
        self.accounts = [
            _Account(brand, platform, f"{brand}-{platform}", self.rng.randint(20_000, 400_000))
            for brand in config.brands
            for platform in self.rng.sample(PLATFORMS, 3)
        ]
        self._spike_until: dict[str, float] = {}
        self._open_threads: list[tuple[_Account, str, float]] = []
        # Event and ad ids differ from run to run: a restarted feed on a broker that kept
        # the last run's events is not taken for duplicates, nor its ads for older reports.
        self.run_id = f"{int(time.time()):x}"
        platforms: dict[str, list[str]] = {}
        for account in self.accounts:
            platforms.setdefault(account.brand, []).append(account.platform)
        self.business = BusinessTraffic(config, platforms, self.rng, self.run_id)

    def _id(self) -> str:
        return uuid.UUID(int=self.rng.getrandbits(128)).hex

    def _emit(self, kind: str, brand: str, platform: str, ts: float, /,
              **fields: Any) -> dict[str, Any]:
        return {"type": kind, "event_id": f"{self.run_id}-{self._id()}", "ts": ts,
                "platform": platform, "brand": brand, **fields}

    def _event(self, kind: str, owner: _Account, ts: float, **fields: Any) -> dict[str, Any]:
        return self._emit(kind, owner.brand, owner.platform, ts, **fields)

    def _daily_factor(self, now: float) -> float:
        hour = (now / 3600 + 3) % 24  # Moscow time: quiet at night, busy in the evening
        return 0.35 + 0.65 * (1 + math.sin((hour - 9) / 24 * 2 * math.pi)) / 2

    def tick(self, now: float, seconds: float) -> list[dict[str, Any]]:
        """All events of the last ``seconds`` up to ``now``."""
        events: list[dict[str, Any]] = []
        rhythm = self._daily_factor(now)
        for account in self.accounts:
            if self.rng.random() < seconds / 30:
                account.followers += self.rng.randint(-20, 60)
                events.append(self._event("account_metrics", account, now,
                                          account=account.name, followers=account.followers))
            if not account.posts or self.rng.random() < seconds / 600:
                account.posts.append(_Post(account.name, self._id()[:12], now,
                                           int(account.followers * self.rng.uniform(0.01, 0.08))))
                account.posts = account.posts[-5:]
            for post in account.posts:
                events.append(self._snapshot(account, post, now))
            if account.platform in ("telegram", "x"):
                for _ in range(self._poisson(2 * rhythm * seconds)):
                    action = self.rng.choice(["like", "like", "like", "comment", "share", "unlike"])
                    events.append(self._event("interaction", account, now, account=account.name,
                                              action=action))
            events.extend(self._messages(account, now, seconds * rhythm))
            events.extend(self._mentions(account, now, seconds * rhythm))
        events.extend(self.business.tick(self._emit, now, seconds, rhythm, self._poisson))
        return events

    def history(self, now: float) -> list[dict[str, Any]]:
        """The business events of the ``WARM_UP_SECONDS`` before ``now``, in time order."""
        return [event for ago in range(WARM_UP_SECONDS, 0, -1)
                for event in self.business.tick(self._emit, now - ago, 1.0,
                                                self._daily_factor(now - ago), self._poisson)]

    def _snapshot(self, account: _Account, post: _Post, now: float) -> dict[str, Any]:
        age_hours = (now - post.published_at) / 3600
        progress = 1 - math.exp(-age_hours * 3)  # most engagement arrives in the first hour
        interactions = int(post.potential * progress)
        post.counters = {
            "likes": int(interactions * 0.8),
            "comments": int(interactions * 0.12),
            "shares": int(interactions * 0.05),
            "saves": int(interactions * 0.03),
            "reach": int(interactions * 9),
            "views": int(interactions * 14),
            "impressions": int(interactions * 16),
            "clicks": int(interactions * 0.4),
        }
        return self._event("post_metrics", account, now, account=account.name,
                           post_id=post.post_id, published_at=post.published_at, **post.counters)

    def _messages(self, account: _Account, now: float, weight: float) -> list[dict[str, Any]]:
        events = []
        for _ in range(self._poisson(0.05 * weight)):
            thread = self._id()[:10]
            events.append(self._event("message", account, now, account=account.name,
                                      thread_id=thread, direction="in"))
            self._open_threads.append((account, thread, now + self.rng.expovariate(1 / 300)))
        still_open = []
        for owner, thread, reply_at in self._open_threads:
            if reply_at <= now:
                events.append(self._event("message", owner, now, account=owner.name,
                                          thread_id=thread, direction="out"))
            else:
                still_open.append((owner, thread, reply_at))
        self._open_threads = still_open
        return events

    def _mentions(self, account: _Account, now: float, weight: float) -> list[dict[str, Any]]:
        spike_until = self._spike_until.get(account.brand, 0)
        if spike_until < now and self.rng.random() < 1 / 1800:
            self._spike_until[account.brand] = spike_until = now + self.rng.uniform(60, 240)
        rate = 0.4 * weight * (6 if spike_until >= now else 1)
        events = []
        for _ in range(self._poisson(rate)):
            lang = self.rng.choice(("ru", "ru", "en"))
            text, score = self.rng.choice(MENTION_TEXTS[lang])
            fields: dict[str, Any] = {
                "text": text.format(b=account.brand), "lang": lang,
                "author": f"user{self.rng.randint(1, 99999)}",
                "author_followers": self.rng.randint(10, 20000),
                "reach": self.rng.randint(50, 30000),
            }
            if self.rng.random() < 0.5:  # half the collectors precompute sentiment
                fields["sentiment"] = score
            events.append(self._event("mention", account, now, **fields))
        return events

    def _poisson(self, mean: float) -> int:
        # Knuth's method: fine for the small means used here.
        limit, k, p = math.exp(-mean), 0, self.rng.random()
        while p > limit:
            k += 1
            p *= self.rng.random()
        return k

    def run(self, interval: float = 1.0) -> None:
        with CollectorClient(self.bootstrap, self.config.topics, self.config.kafka) as client:
            self._send(client, self.history(time.time()))
            while not self._stop.wait(interval):
                self._send(client, self.tick(time.time(), interval))

    @staticmethod
    def _send(client: CollectorClient, events: list[dict[str, Any]]) -> None:
        by_brand: dict[str, list[dict[str, Any]]] = {}
        for event in events:
            by_brand.setdefault(event["brand"], []).append(event)
        for batch in by_brand.values():
            for start in range(0, len(batch), BATCH_EVENTS):
                client.send(batch[start:start + BATCH_EVENTS])
        client.flush()

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="demo-feeder", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()
