"""What a whole ``/metrics`` render and a flush cost at N brands x M platforms, in-process.

``python -m smm_pulse.scrape_cost --brands 1000 --platforms 6`` wires the
service as ``smm-pulse up`` does (``create_pipeline``: the agents, their state,
the exporter) without starting it: no broker, no web server. It declares N
brands (each with two competitors and a goal) on windows 5m, 1h and 24h, owns
every partition, and hands the family agents internal messages built by the
ingest's own packing from a mix of events over every (brand, platform), so
every pair has a value in every KPI family. Then it measures, on the event loop:

- a whole render of ``/metrics``: the first, then (medians) one a second
  after the last with nothing handled in between, and one after a commit
  interval's events; CPU and wall time, size and samples, and the loop's
  longest turn during them (how long an event waits behind a render);
- the flush before an offset commit (``Pipeline.flush_state``): after a
  commit interval's worth of events at a given rate, and after a handful.

Figures are medians of ``repeats``; CPU time is ``time.process_time``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
from faust.types import TP

from smm_pulse.agents.ingest import Packer
from smm_pulse.config import Config
from smm_pulse.kpi.catalog import Family
from smm_pulse.runtime.memory import GcSettings
from smm_pulse.runtime.pipeline import Pipeline
from smm_pulse.scrape_load import brand_events
from smm_pulse.streams.events import parse_message
from smm_pulse.web.exporter import SeriesTexts, render_metrics
from smm_pulse.wiring import create_pipeline

# Platforms every configuration accepts (the contract's known ones).
PLATFORMS = ("vk", "telegram", "instagram", "youtube", "x", "tiktok")
EVENTS_PER_MESSAGE = 100  # as the bench's collectors send them, one brand a message
MESSAGES_PER_POLL = 500  # the ingest's poll (``Ingest.poll_messages``)


def config(brands: int, platforms: int) -> Config:
    """``brands`` brands, each with the next two as competitors and an ER goal."""
    if not 1 <= platforms <= len(PLATFORMS):
        raise ValueError(f"platforms: 1 to {len(PLATFORMS)}")
    declared = {
        f"brand{i}": {"competitors": [f"brand{(i + k) % brands}" for k in (1, 2)
                                      if (i + k) % brands != i],
                      "targets": {"engagement_rate": {"min": 0.01}}}
        for i in range(brands)}
    return Config.model_validate({
        "brands": declared, "windows": ["5m", "1h", "24h"], "partitions": 4,
        "changelog_end_markers": "off", "sentiment": {"scorer": "rules"}})


class InProcess:
    """The service's pipeline and agents, fed internal messages without a broker."""

    def __init__(self, brands: int, platforms: int, workdir: Path) -> None:
        self.config = config(brands, platforms)
        self.brands = [f"brand{i}" for i in range(brands)]
        self.platforms = PLATFORMS[:platforms]
        self.pipeline: Pipeline = create_pipeline(self.config, "127.0.0.1:1", web_port=1,
                                                  data_dir=workdir)
        app = self.pipeline.app
        # This worker owns every partition of every family topic.
        actives = {TP(self.pipeline.names.family(family), p)
                   for family in Family for p in range(self.config.partitions)}
        app.assignor.assigned_actives = lambda: actives  # type: ignore[method-assign]
        # Forwards to the voice family are handed to its agent here, not to a producer.
        self.forwards: list[tuple[int, bytes]] = []
        voice = self.pipeline.family_topics[Family.VOICE]
        voice.send_soon = (  # type: ignore[method-assign]
            lambda key, value, partition, **_: self.forwards.append((partition, value)))
        self.pipeline.dead_letter_topic.send_soon = lambda **_: None  # type: ignore[union-attr]
        self.agents = {family: app.agents[family.value].fun for family in Family}
        self.offsets: dict[tuple[Family, int], int] = {}
        self.events = 0

    async def feed(self, events: list[dict[str, Any]]) -> None:
        """Events as the ingest packs them (collectors' messages of one brand each),
        handed to the family agents a poll at a time; voice forwards after each poll."""
        declared = self.pipeline.declared
        by_brand: dict[str, list[dict[str, Any]]] = {}
        for event in events:
            by_brand.setdefault(event["brand"], []).append(event)
        raw = [orjson.dumps(group[i:i + EVENTS_PER_MESSAGE])
               for group in by_brand.values() for i in range(0, len(group), EVENTS_PER_MESSAGE)]
        random.Random(len(raw)).shuffle(raw)
        for first in range(0, len(raw), MESSAGES_PER_POLL):
            packer = Packer(self.pipeline.partition_of, self.config.ingest.pack_bytes)
            now = time.time()
            for body in raw[first:first + MESSAGES_PER_POLL]:
                accepted = parse_message(body, declared, now).accepted
                packer.add("smm.engagement", accepted, len(body))
                self.events += len(accepted)
            for family, partition, message in packer.messages():
                await self.handle(family, partition, message)
            forwards, self.forwards = self.forwards, []
            for partition, message in forwards:
                await self.handle(Family.VOICE, partition, message)

    async def handle(self, family: Family, partition: int, value: bytes) -> None:
        offset = self.offsets.get((family, partition), 0)
        self.offsets[family, partition] = offset + 1
        message = SimpleNamespace(partition=partition, offset=offset)
        await self.agents[family](_Stream([SimpleNamespace(value=value, message=message)]))

    def seed_events(self, now: float) -> list[dict[str, Any]]:
        """Events that give every (brand, platform) a value in every KPI family."""
        return [event for brand in self.brands for platform in self.platforms
                for event in brand_events(brand, platform, now)]

    def mix(self, n: int, rng: random.Random, now: float) -> list[dict[str, Any]]:
        """``n`` events over every (brand, platform), a minute old at most: interactions,
        post snapshots, mentions, messages, follower snapshots, visits."""
        return [self._one(rng, now, i) for i in range(n)]

    def _one(self, rng: random.Random, now: float, i: int) -> dict[str, Any]:
        base = {"event_id": uuid.UUID(int=rng.getrandbits(128)).hex,
                "ts": now - rng.random() * 60, "brand": rng.choice(self.brands),
                "platform": rng.choice(self.platforms), "account": "main"}
        kind = rng.random()
        if kind < 0.45:
            return {**base, "type": "interaction",
                    "action": rng.choice(("like", "like", "comment", "share", "view"))}
        if kind < 0.75:
            return {**base, "type": "post_metrics", "post_id": f"p{rng.randrange(200)}",
                    "likes": i, "reach": 10 * i}
        if kind < 0.93:
            del base["account"]
            return {**base, "type": "mention", "text": "ok", "sentiment": 0.3}
        if kind < 0.95:
            del base["account"]
            return {**base, "type": "visit", "bounced": rng.random() < 0.4,
                    "duration_seconds": rng.randrange(300)}
        if kind < 0.98:
            return {**base, "type": "message", "thread_id": f"t{rng.randrange(100)}",
                    "direction": rng.choice(("in", "out"))}
        return {**base, "type": "account_metrics", "followers": rng.randrange(1000, 100000)}


class _Stream:
    """What a family agent reads of its Faust stream: ``events()``."""

    def __init__(self, events: list[Any]) -> None:
        self._events = events

    async def events(self) -> AsyncIterator[Any]:
        for event in self._events:
            yield event


@dataclass
class Render:
    cpu_seconds: float
    wall_seconds: float
    # The most CPU time the render took between two turns of the loop's other tasks:
    # how long an event waits behind it (CPU time, which other processes do not stretch).
    longest_turn_cpu_seconds: float
    body_bytes: int
    samples: int


async def timed_render(pipeline: Pipeline, texts: SeriesTexts) -> Render:
    """A whole /metrics render on the loop, with a ticker measuring the loop's turns."""
    gaps: list[float] = []
    rendering = True

    async def ticker() -> None:
        last = time.process_time()
        while rendering:
            await asyncio.sleep(0)
            now = time.process_time()
            gaps.append(now - last)
            last = now

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    cpu, wall = time.process_time(), time.perf_counter()
    body = await render_metrics(pipeline, texts=texts)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    rendering = False
    await task
    samples = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
    return Render(cpu, wall, max(gaps, default=cpu), len(body), samples)


@dataclass
class Flush:
    events: int  # events handled since the last flush
    cpu_seconds: float  # the whole flush, settling included
    settle_cpu_seconds: float  # adding the batches window buckets kept (agents' work)
    records: int  # changelog records it queued
    record_bytes: int  # their keys and values


def timed_flush(pipeline: Pipeline, events: int) -> Flush:
    cpu = time.process_time()
    pipeline.settle_buckets()
    settled = time.process_time()
    pipeline.flush_state()
    done = time.process_time()
    records, pipeline.app.changelog = pipeline.app.changelog, []
    size = sum(len(key or b"") + len(value or b"") for _topic, _partition, key, value in records)
    return Flush(events, done - cpu, settled - cpu, len(records), size)


@dataclass
class ScrapeCost:
    brands: int
    platforms: int
    events: int  # events the state holds
    pairs: int  # (brand, platform) pairs exported
    body_bytes: int
    samples: int
    samples_per_pair: float
    first_render: Render  # every series written for the first time
    # Medians of whole renders a second after the last, nothing handled in between
    # (trailing windows still move), and after a commit interval's events (every pair
    # changed), each after the flush of those events; the loop's longest turn, the worst.
    idle_render_cpu_seconds: float
    idle_render_wall_seconds: float
    changed_render_cpu_seconds: float
    changed_render_wall_seconds: float
    render_longest_turn_cpu_seconds: float
    flush_after_interval: Flush  # a commit interval of events at ``rate``
    flush_after_few: Flush  # ten events
    flush_idle_cpu_seconds: float  # nothing changed


async def measure(brands: int, platforms: int, events: int, rate: float,
                  interval: float, repeats: int, workdir: Path) -> ScrapeCost:
    service = InProcess(brands, platforms, workdir)
    rng = random.Random(7)
    now = time.time()
    await service.feed(service.seed_events(now) + service.mix(events, rng, now))
    pipeline = service.pipeline
    held = service.events
    timed_flush(pipeline, 0)
    texts = SeriesTexts()  # as the exporter keeps them from one whole render to the next
    first = await timed_render(pipeline, texts)
    idle, changed, flushes, few, unchanged = [], [], [], [], []
    for _ in range(repeats):
        await asyncio.sleep(1.0)  # as whole scrapes come: a shared render a second at most
        idle.append(await timed_render(pipeline, texts))
        batch = service.mix(int(rate * interval), rng, time.time())
        await service.feed(batch)
        flushes.append(timed_flush(pipeline, len(batch)))
        changed.append(await timed_render(pipeline, texts))
        await service.feed(service.mix(10, rng, time.time()))
        few.append(timed_flush(pipeline, 10))
        unchanged.append(timed_flush(pipeline, 0).cpu_seconds)
    pairs = len(service.brands) * len(service.platforms)
    return ScrapeCost(
        brands=brands, platforms=platforms, events=held, pairs=pairs,
        body_bytes=first.body_bytes, samples=first.samples,
        samples_per_pair=round(first.samples / pairs, 1), first_render=first,
        idle_render_cpu_seconds=statistics.median(r.cpu_seconds for r in idle),
        idle_render_wall_seconds=statistics.median(r.wall_seconds for r in idle),
        changed_render_cpu_seconds=statistics.median(r.cpu_seconds for r in changed),
        changed_render_wall_seconds=statistics.median(r.wall_seconds for r in changed),
        render_longest_turn_cpu_seconds=max(r.longest_turn_cpu_seconds for r in idle + changed),
        flush_after_interval=_median_flush(flushes), flush_after_few=_median_flush(few),
        flush_idle_cpu_seconds=statistics.median(unchanged))


def _median_flush(flushes: list[Flush]) -> Flush:
    return sorted(flushes, key=lambda f: f.cpu_seconds)[len(flushes) // 2]


def run(brands: int = 1000, platforms: int = 6, events: int = 500_000, rate: float = 55_000,
        interval: float = 2.8, repeats: int = 5) -> ScrapeCost:
    gc_settings = GcSettings()  # the worker's, as ``smm-pulse up`` installs them
    gc_settings.install()
    try:
        with tempfile.TemporaryDirectory(prefix="smm-scrape-cost-") as tmp:
            return asyncio.run(measure(brands, platforms, events, rate, interval, repeats,
                                       Path(tmp)))
    finally:
        gc_settings.uninstall()


def main(argv: list[str] | None = None, out: Callable[[str], Any] = print) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--brands", type=int, default=1000)
    parser.add_argument("--platforms", type=int, default=6, help=f"1 to {len(PLATFORMS)}")
    parser.add_argument("--events", type=int, default=500_000,
                        help="events of the mix handled before measuring")
    parser.add_argument("--rate", type=float, default=55_000,
                        help="events/s between two commits (the flush measured)")
    parser.add_argument("--interval", type=float, default=2.8,
                        help="seconds between two commits (Faust's commit interval)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    out(json.dumps(asdict(run(args.brands, args.platforms, args.events, args.rate,
                              args.interval, args.repeats)), indent=2))


if __name__ == "__main__":
    main()
