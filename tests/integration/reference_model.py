"""A generated event set and an independent, naive computation of every KPI for it.

Nothing here imports the service's formulas or state code: the model re-reads the
contract (sections 2 and 3) in the plainest way, so a shared mistake is unlikely.
All events are recent, so every window covers them and the values are exact.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import orjson

from smm_pulse.sentiment import scorer

BRANDS = {"acme": ["globex", "initech"], "globex": ["acme"], "initech": []}
PLATFORMS = ["vk", "telegram", "x"]
MENTION_TEXTS = ["…", "love this bank!", "ужасная поддержка 😡", "acme", "не советую", "спасибо)"]
COUNTERS = ["likes", "comments", "shares", "saves", "views", "reach", "impressions", "clicks"]
ACTIONS = {"like": ("likes", 1), "unlike": ("likes", -1), "comment": ("comments", 1),
           "share": ("shares", 1), "save": ("saves", 1), "view": ("views", 1),
           "click": ("clicks", 1), "follow": ("follows", 1), "unfollow": ("unfollows", 1)}

CONFIG = """
brands:
  acme: {competitors: [globex, initech]}
  globex: {competitors: [acme]}
  initech: {}
windows: [5m, 1h, 24h]
partitions: 4
"""


@dataclass
class Generated:
    lines: list[bytes] = field(default_factory=list)
    events_in_order: list[dict[str, Any]] = field(default_factory=list)  # valid ones, as sent
    total: int = 0  # events the service will count (accepted + duplicate + rejected)


def generate(now: float, seed: int) -> Generated:
    rng = random.Random(seed)
    out = Generated()
    events: list[dict[str, Any]] = []
    n = 0

    def new(kind: str, brand: str, platform: str, ts: float, **fields: Any) -> dict[str, Any]:
        nonlocal n
        n += 1
        stamp: Any = ts
        if rng.random() < 0.5:
            offset = dt.timezone(dt.timedelta(hours=rng.choice([-5, 0, 3])))
            stamp = dt.datetime.fromtimestamp(ts, offset).isoformat()
        return {"type": kind, "event_id": f"g{seed}-{n}", "ts": stamp, "platform": platform,
                "brand": brand, **fields}

    def recent() -> float:
        return now - rng.uniform(1, 120)

    for brand in BRANDS:
        for platform in PLATFORMS:
            for a in range(rng.randint(1, 2)):
                account = f"{brand}-{platform}-{a}"
                for _ in range(rng.randint(0, 3)):
                    events.append(new("account_metrics", brand, platform, recent(),
                                      account=account, followers=rng.randint(0, 5000)))
                for p in range(rng.randint(0, 3)):
                    published = rng.choice([None, now - 2 * 86400, now - rng.uniform(120, 150)])
                    totals = {c: rng.randint(0, 50) for c in COUNTERS}
                    for _ in range(rng.randint(1, 4)):
                        totals = {c: max(0, v + rng.randint(-3, 20)) for c, v in totals.items()}
                        shown = {c: v for c, v in totals.items() if rng.random() < 0.8}
                        extra = {"published_at": published} if published else {}
                        events.append(new("post_metrics", brand, platform, recent(),
                                          account=account, post_id=f"p{p}", **shown, **extra))
                for _ in range(rng.randint(0, 6)):
                    events.append(new("interaction", brand, platform, recent(), account=account,
                                      action=rng.choice(list(ACTIONS)),
                                      count=rng.randint(1, 5)))
                for t in range(rng.randint(0, 3)):
                    for _ in range(rng.randint(1, 3)):
                        events.append(new("message", brand, platform, recent(), account=account,
                                          thread_id=f"t{t}", direction=rng.choice(["in", "out"])))
            for _ in range(rng.randint(0, 6)):
                extra = {"sentiment": round(rng.uniform(-1, 1), 3)} if rng.random() < 0.7 else {}
                if extra:  # the author's audience on some (no draw: the feed stays the same)
                    extra["author_followers"] = 10 * len(events)
                events.append(new("mention", brand, platform, recent(),
                                  text=rng.choice(MENTION_TEXTS), **extra))
    rng.shuffle(events)  # arrival order differs from event time: out-of-order snapshots
    events += [dict(e) for e in rng.sample(events, k=len(events) // 10)]  # duplicates
    i = 0
    while i < len(events):
        size = rng.choice([1, 1, 3, 10])
        chunk = events[i:i + size]
        i += size
        if rng.random() < 0.1:
            chunk = [*chunk, {"type": "interaction", "event_id": "bad"}]  # rejected neighbour
        out.lines.append(orjson.dumps(chunk if len(chunk) > 1 or rng.random() < 0.5
                                      else chunk[0]))
        out.total += len(chunk)
    out.events_in_order = events
    return out


def unix(ts: Any) -> float:
    return float(ts) if not isinstance(ts, str) else dt.datetime.fromisoformat(ts).timestamp()


def expected_metrics(events: list[dict[str, Any]], now: float) -> dict[tuple, float]:
    """(metric, brand, platform or None, window or None, stat or None) -> value, all windows."""
    first: dict[tuple[str, str], dict[str, Any]] = {}
    for e in events:
        first.setdefault((e["brand"], e["event_id"]), e)
    accepted = list(first.values())

    gained: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    posts: dict[tuple, tuple[float, dict[str, int]]] = {}
    snapshots: dict[tuple, list[tuple[float, int]]] = defaultdict(list)
    mentions: dict[tuple[str, str], list[float]] = defaultdict(list)
    authors_followers: dict[tuple[str, str], int] = defaultdict(int)
    threads: dict[tuple, dict[str, list[float]]] = defaultdict(lambda: {"in": [], "out": []})
    for e in accepted:
        pair, ts = (e["brand"], e["platform"]), unix(e["ts"])
        if e["type"] == "interaction":
            counter, sign = ACTIONS[e["action"]]
            gained[pair][counter] += sign * e["count"]
        elif e["type"] == "post_metrics":
            key = (*pair, e["account"], e["post_id"])
            if key not in posts:
                totals = {c: e.get(c, 0) for c in COUNTERS}
                posts[key] = (ts, totals)
                published = e.get("published_at")
                if published is None or unix(published) >= now - 86400:
                    for c, v in totals.items():
                        gained[pair][c] += v
            elif ts > posts[key][0]:
                kept = posts[key][1]
                totals = {c: e.get(c, kept[c]) for c in COUNTERS}
                for c in COUNTERS:
                    gained[pair][c] += totals[c] - kept[c]
                posts[key] = (ts, totals)
        elif e["type"] == "account_metrics":
            snapshots[(*pair, e["account"])].append((ts, e["followers"]))
        elif e["type"] == "mention":
            # the collector's score wins; else the service's scorer (not a KPI formula)
            score = e.get("sentiment")
            mentions[pair].append(score if score is not None else
                                  scorer(kind="model").score(e["text"], e.get("lang")).score)
            authors_followers[pair] += e.get("author_followers", 0)
        else:
            threads[(*pair, e["account"], e["thread_id"])][e["direction"]].append(ts)

    result: dict[tuple, float] = {}
    windows = ["5m", "1h", "24h"]

    def put(metric: str, pair: tuple[str, str] | tuple[str], value: float | None,
            stat: str | None = None, windowed: bool = True) -> None:
        if value is None:
            return
        platform = pair[1] if len(pair) > 1 else None
        for w in windows if windowed else [None]:
            result[metric, pair[0], platform, w, stat] = value

    def div(a: float, b: float) -> float | None:
        return a / b if b > 0 else None

    followers: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for (brand, platform, _account), snaps in snapshots.items():
        ordered = sorted(snaps)  # every snapshot is inside every window: start = earliest
        followers[brand, platform].append((ordered[0][1], ordered[-1][1]))
    for pair in set(gained) | set(followers):
        g = gained[pair]
        inter = g["likes"] + g["comments"] + g["shares"] + g["saves"]
        fol = sum(end for _, end in followers[pair]) if followers[pair] else None
        start = sum(s for s, _ in followers[pair]) if followers[pair] else None
        put("smm_window_interactions", pair, inter)
        for metric, counter in [("smm_window_reach", "reach"), ("smm_window_views", "views"),
                                ("smm_window_follows", "follows"),
                                ("smm_window_unfollows", "unfollows")]:
            put(metric, pair, g[counter])
        put("smm_engagement_rate_ratio", pair, div(inter, fol or 0))
        put("smm_engagement_rate_reach_ratio", pair, div(inter, g["reach"]))
        put("smm_engagement_rate_views_ratio", pair, div(inter, g["views"]))
        put("smm_like_rate_ratio", pair, div(g["likes"], fol or 0))
        put("smm_talk_rate_ratio", pair, div(g["comments"], fol or 0))
        put("smm_amplification_rate_ratio", pair, div(g["shares"], fol or 0))
        put("smm_virality_rate_ratio", pair, div(g["shares"], g["views"]))
        put("smm_click_through_rate_ratio", pair, div(g["clicks"], g["impressions"]))
        if fol is not None:
            put("smm_followers", pair, fol, windowed=False)
            put("smm_audience_growth_ratio", pair, div(fol - start, start))
    for pair, scores in mentions.items():
        put("smm_window_mentions", pair, len(scores))
        put("smm_window_potential_reach", pair, authors_followers[pair])
        for w, seconds in (("5m", 300), ("1h", 3600), ("24h", 86400)):
            result["smm_mention_rate_per_second", *pair, w, None] = len(scores) / seconds
        put("smm_mentions_total", pair, len(scores), windowed=False)
        scored = scores
        put("smm_window_scored_mentions", pair, len(scored))
        pos = sum(1 for s in scored if s > 0.05)
        neg = sum(1 for s in scored if s < -0.05)
        put("smm_sentiment_score", pair, div(sum(scored), len(scored)))
        put("smm_sentiment_positive_ratio", pair, div(pos, len(scored)))
        put("smm_sentiment_negative_ratio", pair, div(neg, len(scored)))
        put("smm_sentiment_neutral_ratio", pair, div(len(scored) - pos - neg, len(scored)))
        put("smm_net_sentiment_ratio", pair, div(pos - neg, pos + neg))
    volume = {b: sum(len(m) for (brand, _), m in mentions.items() if brand == b) for b in BRANDS}
    for brand, competitors in BRANDS.items():
        put("smm_share_of_voice_ratio", (brand,),
            div(volume[brand], volume[brand] + sum(volume[c] for c in competitors)))
    responses: dict[tuple[str, str], list[float]] = defaultdict(list)
    unanswered: dict[tuple[str, str], int] = defaultdict(int)
    for (brand, platform, _a, _t), sides in threads.items():
        for t_in in sides["in"]:
            later = [t for t in sides["out"] if t >= t_in]
            if later:
                responses[brand, platform].append(min(later) - t_in)
            else:
                unanswered[brand, platform] += 1
    # Every pair with a message has counts, even with only the brand's replies (0 and 0).
    for pair in {(brand, platform) for brand, platform, _a, _t in threads}:
        times = sorted(responses[pair])
        put("smm_window_answered_messages", pair, len(times))
        put("smm_window_unanswered_messages", pair, unanswered[pair])
        if times:
            put("smm_response_time_seconds", pair, sum(times) / len(times), stat="mean")
            put("smm_response_time_seconds", pair, times[math.ceil(0.9 * len(times)) - 1],
                stat="p90")
    return result
