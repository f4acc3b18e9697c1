"""``smm-pulse bench``: throughput, freshness, start-up and memory on the embedded broker.

``smm-pulse bench --soak-minutes N`` instead runs the service under a steady
load for N minutes and samples its memory (``soak``).

Each run starts a fresh embedded broker, pre-loads a realistic mix of events,
then starts the service as users do (``smm-pulse up``) and measures it. One-event
messages, and two workers in one group, each get their own app and a backlog of
their own. Figures are medians over ``runs``; the raw ceiling is measured in the
same run, so the ratio is meaningful on a noisy machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import operator
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from dataclasses import asdict, astuple, dataclass
from pathlib import Path
from typing import Any, ClassVar

import orjson
import psutil
import requests
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from smm_pulse.agents.ingest import READING_INPUT
from smm_pulse.config import Kafka
from smm_pulse.connections import aiokafka_args
from smm_pulse.kpi.formulas import nearest_rank
from smm_pulse.runtime.broker import EmbeddedBroker

# Faust's "Ready" (the KPI agents have their partitions) and the ingest's line: the
# worker is ready once both are logged (the ingest joins its own consumer group).
READY_LINES = (b"[^Worker]: Ready", READING_INPUT.encode())
# The bench runs its own embedded broker, which speaks plaintext: an operator's TLS and
# SASL settings (SMM_KAFKA_*) are not for it, neither in its clients nor in its workers.
EMBEDDED = Kafka()

CONTRACT_PLATFORMS = ("vk", "telegram", "instagram", "x", "youtube")
WINDOWS = ("5m", "1h", "24h")
PARTITIONS = 4


@dataclass(frozen=True)
class Mix:
    """Whom the bench's events are about: ``brands`` brands on ``platforms`` platforms.

    The default is the mix every earlier figure was measured on (50 brands, 5
    platforms, no competitors). Platforms past the contract's five are
    declared in the configuration's ``platforms`` (``extra1``, ...), as an
    operator declares a platform the contract does not list. Each brand
    competes with the ``competitors`` brands after it (wrapping round) and has
    an engagement-rate goal, so the configuration also yields a realistic rule
    file and dashboards (``--print-config``).
    """

    brands: int = 50
    platforms: int = len(CONTRACT_PLATFORMS)
    competitors: int = 0
    # The configuration's series budget (``export``): families and windows; empty: all.
    export_families: tuple[str, ...] = ()
    export_windows: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.brands < 1 or self.platforms < 1:
            raise ValueError("a mix needs at least one brand and one platform")
        if not 0 <= self.competitors < self.brands:
            raise ValueError("competitors must be fewer than the brands")
        # Freshness markers are interactions counted over the shortest window.
        if self.export_families and "engagement" not in self.export_families:
            raise ValueError("the freshness markers need the engagement family exported")
        if self.export_windows and WINDOWS[0] not in self.export_windows:
            raise ValueError(f"the freshness markers need the {WINDOWS[0]} window exported")

    @property
    def brand_names(self) -> list[str]:
        return [f"brand{i}" for i in range(self.brands)]

    @property
    def platform_names(self) -> tuple[str, ...]:
        extra = self.platforms - len(CONTRACT_PLATFORMS)
        return CONTRACT_PLATFORMS[:self.platforms] + tuple(f"extra{i}"
                                                           for i in range(1, extra + 1))

    def config(self, windows: Sequence[str] = WINDOWS) -> str:
        """The configuration's YAML for this mix (without ``app_id`` and topics)."""
        names = self.brand_names
        lines = ["brands:"]
        for i, name in enumerate(names):
            rivals = [names[(i + k) % self.brands] for k in range(1, self.competitors + 1)]
            lines.append(f"  {name}: {{competitors: [{', '.join(rivals)}], targets: "
                         f"{{engagement_rate: {{min: 0.03, window: {windows[-1]}}}}}}}")
        # Freshness markers have a platform of their own (declared: others are refused).
        declared = ["marker", *self.platform_names[len(CONTRACT_PLATFORMS):]]
        lines += [f"windows: [{', '.join(windows)}]", f"partitions: {PARTITIONS}",
                  f"platforms: [{', '.join(declared)}]"]
        if self.export_families or self.export_windows:
            lines.append("export:")
            lines += [f"  {key}: [{', '.join(values)}]" for key, values in
                      (("families", self.export_families), ("windows", self.export_windows))
                      if values]
        return "\n".join([*lines, ""])


DEFAULT_MIX = Mix()


# Freshness polls the marker's metric alone (/metrics?name[]=...) every 0.25 s,
# while the whole /metrics is scraped every 15 s as deploy/prometheus.yml does: a
# whole scrape renders every series, which takes the worker's loop a while, and
# polling that four times a second would load the worker more than the events do.
FRESHNESS_POLL_SECONDS = 0.25
# A scrape not answered within this long is given up: a full one counts as infinitely slow,
# a marker poll as no news (its markers show late).
SCRAPE_TIMEOUT_SECONDS = 60.0
FULL_SCRAPE_SECONDS = 15.0
MARKER_TIMEOUT_SECONDS = 60.0  # a marker later than this counts as infinitely late
# The steady load runs this long before the first marker. A worker near its capacity
# keeps up for tens of seconds and then falls behind (queues grow): markers taken
# in the first seconds looked fresh at a load it cannot sustain (docs/benchmarks.md).
LOAD_SETTLE_SECONDS = 30.0
FRESHNESS_MARKERS = 60  # one a second; the nearest-rank p99 of 60 is the worst
# Labels are written sorted: brand, platform, window.
PAIR = re.compile(rb'^smm_window_interactions\{brand="([^"]*)",platform="([^"]*)"', re.M)
COMMIT_INTERVAL_SECONDS = 2.8  # Faust's broker_commit_interval, which the service keeps
SCRAPES_AFTER_BACKLOG = 3
MARKER_SERIES = re.compile(
    r'^smm_window_interactions\{brand="brand0",platform="marker",window="5m"\} (\S+)$', re.M)


# A whole scrape within this long of the last render's end gets that render
# (smm_pulse.web.exporter): timed scrapes wait longer between them.
WHOLE_SCRAPE_REUSE_SECONDS = 1.1

SCALED_WORKERS = 2  # a worker per core on this machine class

# The soak: windows of a minute and ids kept a minute more, so every kind of state
# reaches its steady size within minutes and memory can be seen to level off.
SOAK_WINDOWS = ("1m",)
SOAK_ENV = {"SMM_PULSE_DEDUP_EXTRA_SECONDS": "60"}
SOAK_SAMPLE_SECONDS = 30.0
SOAK_CATCH_UP_SECONDS = 60.0


@dataclass
class Figures:
    batched_events_per_second: float
    # The worker's CPU time (user + system) over the backlog per event: less sensitive than
    # rates to what else the machine runs.
    batched_worker_cpu_us_per_event: float
    raw_ceiling_events_per_second: float
    ratio_to_ceiling: float
    single_events_per_second: float
    # SCALED_WORKERS workers in one group on a backlog like the batched one (as many events,
    # the same mix, fresh times), and that rate over one worker's: more workers must scale
    # the service out.
    scaled_events_per_second: float
    scale_out_ratio: float
    freshness_load_events_per_second: float
    freshness_p50_seconds: float
    freshness_p99_seconds: float
    start_to_ready_seconds: float
    memory_per_key_bytes: float
    # After the batched backlog: a whole /metrics scrape (the median of three, a second and
    # more apart so none gets the previous one's render), its size, and its samples that
    # carry a brand per (brand, platform) pair exported.
    full_scrape_seconds: float
    full_scrape_bytes: float
    samples_per_key: float
    # The slowest whole scrape while freshness was measured (one every 15 s under the load).
    full_scrape_under_load_seconds: float
    # Flushes before offset commits (smm_commit_flush_seconds): mean seconds, and how many
    # took longer than Faust's commit interval, reading the backlog and then under the
    # steady load of the freshness measurement.
    backlog_flush_mean_seconds: float
    backlog_flushes_over_commit_interval: float
    steady_flush_mean_seconds: float
    steady_flushes_over_commit_interval: float
    rss_after_backlog_bytes: float
    # Of all CPUs' time during the run, the share the hypervisor gave to other guests:
    # these machines are shared, and a run with much stolen time is slower in everything.
    cpu_steal_ratio: float


def realistic_events(n: int, rng: random.Random, now: float,
                     mix: Mix = DEFAULT_MIX) -> list[dict[str, Any]]:
    """A mix like the demo's: interactions, post snapshots, mentions, messages, followers,
    and a few visits, conversions and ad snapshots, spread evenly over ``mix``."""
    events = []
    platforms = mix.platform_names
    for i in range(n):
        brand, platform = f"brand{rng.randrange(mix.brands)}", rng.choice(platforms)
        base = {"event_id": uuid.UUID(int=rng.getrandbits(128)).hex, "ts": now - rng.random() * 60,
                "platform": platform, "brand": brand}
        kind = rng.random()
        if kind < 0.45:
            events.append({**base, "type": "interaction", "account": "main",
                           "action": rng.choice(("like", "like", "comment", "share", "view"))})
        elif kind < 0.75:
            events.append({**base, "type": "post_metrics", "account": "main",
                           "post_id": f"p{rng.randrange(200)}", "likes": i, "reach": 10 * i})
        elif kind < 0.93:
            events.append({**base, "type": "mention", "text": "ok", "sentiment": 0.3})
        elif kind < 0.94:
            events.append({**base, "type": "visit", "bounced": rng.random() < 0.4,
                           "duration_seconds": rng.randrange(300)})
        elif kind < 0.945:
            events.append({**base, "type": "conversion", "kind": "lead"})
        elif kind < 0.95:
            events.append({**base, "type": "ad_metrics", "account": "ads", "ad_id": "a1",
                           "spend": float(i), "clicks": i, "impressions": 20 * i})
        elif kind < 0.98:
            events.append({**base, "type": "message", "account": "main",
                           "thread_id": f"t{rng.randrange(100)}",
                           "direction": rng.choice(("in", "out"))})
        else:
            events.append({**base, "type": "account_metrics", "account": "main",
                           "followers": rng.randrange(1000, 100000)})
    return events


def topic_for(event: dict[str, Any], prefix: str) -> str:
    return f"{prefix}.mentions" if event["type"] == "mention" else f"{prefix}.engagement"


async def preload(bootstrap: str, prefix: str, events: list[dict[str, Any]],
                  per_message: int) -> int:
    """Send events in messages of ``per_message`` (per topic and brand); returns messages."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5,
                                max_batch_size=1 << 20, **aiokafka_args(EMBEDDED))
    await producer.start()
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    sent = 0
    try:
        for event in events:
            key = (topic_for(event, prefix), event["brand"])
            group = groups.setdefault(key, [])
            group.append(event)
            if len(group) == per_message:
                await producer.send(key[0], orjson.dumps(group if per_message > 1 else group[0]),
                                    key=key[1].encode())
                sent += 1
                group.clear()
        for (topic, brand), group in groups.items():
            if group:
                await producer.send(topic, orjson.dumps(group), key=brand.encode())
                sent += 1
        await producer.flush()
    finally:
        await producer.stop()
    return sent


async def raw_ceiling(bootstrap: str, topics: list[str], messages: int) -> float:
    """Events/s of an aiokafka consumer that only parses the messages with orjson."""
    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap,
                                auto_offset_reset="earliest", group_id=f"raw-{uuid.uuid4()}",
                                enable_auto_commit=False, **aiokafka_args(EMBEDDED))
    await consumer.start()
    read = events = 0
    started = None
    try:
        while read < messages:
            batch = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            started = started or time.perf_counter()
            for records in batch.values():
                for record in records:
                    decoded = orjson.loads(record.value)
                    events += len(decoded) if isinstance(decoded, list) else 1
                    read += 1
    finally:
        await consumer.stop()
    return events / (time.perf_counter() - (started or time.perf_counter()))


class Worker:
    """The service, started the way users start it."""

    def __init__(self, bootstrap: str, config: Path, workdir: Path,
                 env: Mapping[str, str] | None = None) -> None:
        self.port = _free_port()
        self.log = workdir / f"worker-{self.port}.log"
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "smm_pulse.cli", "up", "--config", str(config), "--port",
             str(self.port), "--loglevel", "info",
             "--data-dir", str(workdir / f"data-{self.port}")],
            stdout=self.log.open("wb"), stderr=subprocess.STDOUT,
            env={**{name: value for name, value in os.environ.items()
                    if not name.startswith("SMM_KAFKA_")},
                 "SMM_KAFKA_BOOTSTRAP": bootstrap, **(env or {})})

    def wait_ready(self, timeout: float = 120) -> float:
        """Seconds from start until the KPI agents are ready and the ingest reads its input."""
        deadline = time.perf_counter() + timeout
        while not all(line in self.log.read_bytes() for line in READY_LINES):
            if time.perf_counter() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"worker did not start; see {self.log}")
            time.sleep(0.05)
        return time.perf_counter() - self.started

    def scrape(self, names: Collection[str] = ()) -> str:
        """/metrics: all metrics, or only ``names``."""
        return requests.get(f"http://127.0.0.1:{self.port}/metrics",
                            params={"name[]": list(names)}, timeout=SCRAPE_TIMEOUT_SECONDS).text

    def samples(self, names: Collection[str] = ()) -> dict[tuple[str, frozenset], float]:
        """A scrape, parsed."""
        return {(s.name, frozenset(s.labels.items())): s.value
                for f in text_string_to_metric_families(self.scrape(names)) for s in f.samples}

    def marker_likes(self) -> float | None:
        """The marker series' 5m interactions, from a scrape of that metric only; None when
        the worker did not answer within the scrape timeout (markers then show late)."""
        try:
            text = self.scrape(["smm_window_interactions"])
        except requests.Timeout:
            return None
        found = MARKER_SERIES.search(text)
        return float(found.group(1)) if found else 0.0

    def counted(self) -> float:
        """Events counted so far, from the cheap /api/events (a /metrics scrape costs seconds
        with large state and would slow the worker it measures)."""
        counts = requests.get(f"http://127.0.0.1:{self.port}/api/events", timeout=30).json()
        return sum(counts.values())

    def timed_scrape(self) -> tuple[float, bytes]:
        """Seconds a whole /metrics scrape took (gzipped, as Prometheus asks), and its text."""
        started = time.perf_counter()
        body = requests.get(f"http://127.0.0.1:{self.port}/metrics",
                            timeout=SCRAPE_TIMEOUT_SECONDS).content
        return time.perf_counter() - started, body

    def flushes(self) -> Flushes:
        """The worker's flushes so far (``smm_commit_flush_seconds``)."""
        name = "smm_commit_flush_seconds"
        samples = self.samples([f"{name}_count", f"{name}_sum", f"{name}_bucket"])
        within = samples[(f"{name}_bucket", frozenset({("le", str(COMMIT_INTERVAL_SECONDS))}))]
        count = samples[(f"{name}_count", frozenset())]
        return Flushes(count, samples[(f"{name}_sum", frozenset())], count - within)

    def state_keys(self) -> float:
        """Keys in all of the worker's tables (``smm_state_keys``)."""
        return sum(self.samples(["smm_state_keys"]).values())

    def cpu_seconds(self) -> float:
        """User and system CPU time the worker has used."""
        times = psutil.Process(self.process.pid).cpu_times()
        return times.user + times.system

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


@dataclass(frozen=True)
class Flushes:
    count: float
    seconds: float
    over_commit_interval: float

    def since(self, earlier: Flushes) -> Flushes:
        return Flushes(*(now - then for now, then in zip(astuple(self), astuple(earlier),
                                                          strict=True)))

    @property
    def mean_seconds(self) -> float:
        return self.seconds / self.count if self.count else 0.0


def scrape_figures(text: bytes) -> tuple[int, float]:
    """(brand, platform) pairs with interactions (the pairs memory is counted over, as
    before), and samples labelled with a brand per pair."""
    pairs = set(PAIR.findall(text))
    branded = text.count(b'{brand="') + text.count(b',brand="')
    return len(pairs), branded / max(1, len(pairs))


def _progress(line: str) -> None:
    """A figure as soon as it is measured (on stderr): long runs are not a black box."""
    print(line, file=sys.stderr, flush=True)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(condition: Callable[[], bool], timeout: float, poll: float = 0.2) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the benchmark waited too long")
        time.sleep(poll)


def throughput(workers: Sequence[Worker], total: int, timeout: float) -> float:
    """Events/s from the first newly counted event until ``total`` are counted (/api/events).

    Polled every 0.05 s at both ends: a backlog of 100,000 events takes well under a second.
    """
    def counted() -> float:
        return sum(worker.counted() for worker in workers)

    before = counted()
    _wait(lambda: counted() > before, timeout, poll=0.05)
    first = time.perf_counter()
    _wait(lambda: counted() >= total, timeout, poll=0.05)
    return (total - before) / (time.perf_counter() - first)


def backlog_rate(bootstrap: str, workdir: Path, prefix: str, events: list[dict[str, Any]],
                 per_message: int, workers: int = 1, mix: Mix = DEFAULT_MIX) -> float:
    """Events/s of ``workers`` workers in one group reading ``events`` sent before they start.

    A new app with its own topics (``prefix``), ``per_message`` events a message.
    """
    asyncio.run(preload(bootstrap, prefix, events, per_message=per_message))
    config = _config(workdir, prefix, mix.config())
    group = [Worker(bootstrap, config, workdir) for _ in range(workers)]
    try:
        for worker in group:
            worker.wait_ready()
        return throughput(group, len(events), timeout=600)
    finally:
        for worker in group:
            worker.stop()


def freshness(worker: Worker, bootstrap: str, prefix: str, rate: float,
              samples: int, mix: Mix = DEFAULT_MIX,
              scrapes: list[float] | None = None) -> list[float]:
    """Seconds from producing each marker event to seeing it on /metrics, under a steady load.

    The load is ``rate`` events/s in messages of 100 spread evenly over time (as
    collectors send them), not a burst per second with the marker behind it,
    which would measure how long a burst takes rather than how fresh the data is.
    A marker goes out every second, between load messages, whether or not the
    last one has shown: a worker falling behind makes later markers later, and
    the measurement still ends on time. A marker not shown within
    ``MARKER_TIMEOUT_SECONDS`` counts as infinitely late.
    """

    async def run() -> list[float]:
        sent: list[float] = []  # when each marker was produced (perf_counter)
        seen: list[float] = []  # when each was first counted on /metrics
        async with steady_traffic(worker, bootstrap, prefix, rate, mix=mix,
                                  scrapes=scrapes) as producer:
            await asyncio.sleep(LOAD_SETTLE_SECONDS)
            watching = asyncio.create_task(_watch_markers(worker, sent, seen, samples))
            for i in range(samples):
                marker = {"type": "interaction", "event_id": f"marker-{i}", "ts": time.time(),
                          "platform": "marker", "brand": "brand0", "account": "m",
                          "action": "like"}
                sent.append(time.perf_counter())
                await producer.send_and_wait(f"{prefix}.engagement", orjson.dumps(marker))
                await asyncio.sleep(max(0.0, 1 - (time.perf_counter() - sent[-1])))
            await watching
        return [seen[i] - at if i < len(seen) else math.inf for i, at in enumerate(sent)]

    return asyncio.run(run())


async def _watch_markers(worker: Worker, sent: list[float], seen: list[float],
                         samples: int) -> None:
    """Poll the marker count, noting when each marker shows, until all have or one is too late.

    Markers are counted in the order they were sent (one partition), so a count
    of n means markers 0..n-1 have shown.
    """
    while len(seen) < samples:
        likes = await asyncio.to_thread(worker.marker_likes)
        now = time.perf_counter()
        seen.extend([now] * (int(likes or 0) - len(seen)))
        if len(seen) < len(sent) and now - sent[len(seen)] > MARKER_TIMEOUT_SECONDS:
            return  # the worker fell behind the load: no figure, not a crash
        await asyncio.sleep(FRESHNESS_POLL_SECONDS)


async def full_scrapes(worker: Worker, seconds: list[float] | None = None) -> None:
    """A whole /metrics scrape every ``FULL_SCRAPE_SECONDS``, until cancelled; each one's
    duration is added to ``seconds``.

    Fetched, not parsed: the scrape is load on the worker, and parsing it took the
    bench process a tenth of a core that the worker and broker compete for.
    """
    while True:
        started = time.perf_counter()
        try:
            await asyncio.to_thread(worker.scrape)
            took = time.perf_counter() - started
        except requests.Timeout:
            took = math.inf
        if seconds is not None:
            seconds.append(took)
        await asyncio.sleep(FULL_SCRAPE_SECONDS)


LOAD_TICK_SECONDS = 0.01


@dataclass
class Sent:
    events: int = 0


class LoadMessages:
    """Messages of 100 realistic events made from a pool of templates, keyed by brand.

    A message holds one brand's events for one topic, as the pre-load sends
    them and as the contract asks collectors to key them, so the steady load
    is the traffic the batched rate was measured on. Each template is such a
    message of ``realistic_events`` written once, with placeholders for what
    changes from message to message as it does there: the brand, event ids,
    times (the last minute), the growing counters of post snapshots, and
    which of a (brand, platform)'s 200 posts and 100 threads an event is
    about. Making every message's events afresh cost ~10 us an
    event: at tens of thousands of events/s the bench took 0.4 of a core of
    the 2-core machine from the worker and the broker it measures
    (docs/benchmarks.md).
    """

    # How each placeholder is written, and the order of a message's values by kind.
    _FORMAT: ClassVar[dict[str, str]] = {"brand": '"%s"', "id": '"%s"', "ts": "%r",
                                         "likes": "%d", "reach": "%d", "post": '"p%d"',
                                         "thread": '"t%d"'}
    _PLACEHOLDER = re.compile(r'"@(' + "|".join(_FORMAT) + r')@"')

    def __init__(self, rng: random.Random, prefix: str, templates: int = 64,
                 mix: Mix = DEFAULT_MIX) -> None:
        self.rng = rng
        self.brands = mix.brands
        self._next_id = rng.getrandbits(64) << 64
        by_topic: dict[str, list[dict[str, Any]]] = {}
        for event in realistic_events(100 * templates, rng, 0.0, mix):
            by_topic.setdefault(topic_for(event, prefix), []).append(event)
        self._templates = [self._template(topic, events[i:i + 100])
                           for topic, events in by_topic.items()
                           for i in range(0, len(events) - 99, 100)]

    def _template(self, topic: str, chunk: list[dict[str, Any]]) -> _Template:
        for event in chunk:
            event.update(brand="@brand@", event_id="@id@", ts="@ts@")
            if event["type"] == "post_metrics":
                event.update(likes="@likes@", reach="@reach@", post_id="@post@")
            elif event["type"] == "message":
                event.update(thread_id="@thread@")
        text = orjson.dumps(chunk).decode().replace("%", "%%")
        kinds = self._PLACEHOLDER.findall(text)
        counts = {kind: kinds.count(kind) for kind in self._FORMAT}
        # A message's values are laid out kind after kind (``_FORMAT``'s order); each
        # placeholder takes the next value of its kind.
        starts = dict(zip(self._FORMAT, itertools.accumulate(counts.values(), initial=0),
                          strict=False))
        order = [starts[kind] + kinds[:i].count(kind) for i, kind in enumerate(kinds)]
        return _Template(topic, self._PLACEHOLDER.sub(lambda m: self._FORMAT[m.group(1)], text),
                         counts, operator.itemgetter(*order))

    def next(self) -> tuple[str, bytes, bytes]:
        """(topic, value, key) of a new message of 100 events."""
        template = self._templates[self.rng.randrange(len(self._templates))]
        counts, random_, randrange = template.counts, self.rng.random, self.rng.randrange
        brand = f"brand{randrange(self.brands)}"  # as realistic_events names them
        first, now = self._next_id, time.time()
        self._next_id += counts["id"]
        likes = list(range(first & 0xFFFFFFFF, (first & 0xFFFFFFFF) + counts["likes"]))
        values = {
            "brand": [brand] * counts["brand"],
            "id": [f"{i:032x}" for i in range(first, first + counts["id"])],
            "ts": [now - random_() * 60 for _ in range(counts["ts"])],
            "likes": likes,  # post counters grow, as realistic_events makes them
            "reach": [10 * n for n in likes],
            "post": [randrange(200) for _ in range(counts["post"])],
            "thread": [randrange(100) for _ in range(counts["thread"])],
        }
        laid_out = list(itertools.chain.from_iterable(values[kind] for kind in self._FORMAT))
        return (template.topic, (template.text % template.order(laid_out)).encode(),
                brand.encode())


@dataclass(frozen=True)
class _Template:
    topic: str
    text: str  # a %-format string
    counts: dict[str, int]  # placeholders of each kind
    order: Callable[[list[Any]], tuple[Any, ...]]  # the values in placeholder order


async def steady_load(producer: AIOKafkaProducer, prefix: str, rate: float,
                      sent: Sent | None = None, mix: Mix = DEFAULT_MIX) -> None:
    """Messages of 100 realistic events at ``rate`` events/s, evenly spread, until cancelled.

    The messages due are sent every ``LOAD_TICK_SECONDS``: waking for every
    message cost the bench process as much as making the messages.
    """
    messages = LoadMessages(random.Random(3), prefix, mix=mix)
    sent = sent or Sent()
    started = time.perf_counter()
    while True:
        due = int((time.perf_counter() - started) * rate / 100) * 100
        while sent.events < due:
            topic, value, key = messages.next()
            await producer.send(topic, value, key=key)
            sent.events += 100
        await asyncio.sleep(LOAD_TICK_SECONDS)


@contextlib.asynccontextmanager
async def steady_traffic(worker: Worker, bootstrap: str, prefix: str, rate: float,
                         sent: Sent | None = None, mix: Mix = DEFAULT_MIX,
                         scrapes: list[float] | None = None
                         ) -> AsyncIterator[AIOKafkaProducer]:
    """A steady load and Prometheus-like whole scrapes (their durations added to ``scrapes``)
    while the block runs; its producer."""
    # Produce requests every 20 ms, not 5: each costs the bench process a few hundred
    # microseconds, which the worker and the broker would otherwise not have.
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20,
                                max_batch_size=1 << 20, **aiokafka_args(EMBEDDED))
    await producer.start()
    loading = asyncio.create_task(steady_load(producer, prefix, rate, sent, mix))
    scraping = asyncio.create_task(full_scrapes(worker, scrapes))
    try:
        yield producer
    finally:
        loading.cancel()
        scraping.cancel()
        await producer.stop()


def _config(workdir: Path, prefix: str, body: str) -> Path:
    config = workdir / f"{prefix}.yaml"
    config.write_text(body + f"app_id: {prefix}\ntopics: {{engagement: {prefix}.engagement,"
                      f" mentions: {prefix}.mentions, dlq: {prefix}.dlq}}\n")
    return config


def one_run(batched: int, single: int, workdir: Path, freshness_rate: float | None = None,
            mix: Mix = DEFAULT_MIX) -> Figures:
    """``freshness_rate``: the load while freshness is measured; half the batched rate if None."""
    rng = random.Random(1)
    psutil.cpu_times_percent()  # starts the interval the call after the run reports on
    with EmbeddedBroker(port=_free_port(), log_file=workdir / "broker.log") as broker:
        prefix = f"bench{uuid.uuid4().hex[:6]}"
        config = _config(workdir, prefix, mix.config())
        events = realistic_events(batched, rng, time.time(), mix)
        messages = asyncio.run(preload(broker.bootstrap, prefix, events, per_message=100))
        ceiling = asyncio.run(raw_ceiling(
            broker.bootstrap, [f"{prefix}.engagement", f"{prefix}.mentions"], messages))
        worker = Worker(broker.bootstrap, config, workdir)
        try:
            ready = worker.wait_ready()
            idle_rss, idle_cpu = worker.rss_bytes(), worker.cpu_seconds()
            batched_rate = throughput([worker], batched, timeout=600)
            cpu_per_event = (worker.cpu_seconds() - idle_cpu) / batched * 1e6
            _progress(f"batched: {batched_rate:,.0f} events/s, {cpu_per_event:.1f} us of the "
                      "worker's CPU an event")
            after_backlog = worker.flushes()
            rss = worker.rss_bytes()
            scrapes = []
            for _ in range(SCRAPES_AFTER_BACKLOG):  # each past the last render's reuse
                scrapes.append(worker.timed_scrape())
                time.sleep(WHOLE_SCRAPE_REUSE_SECONDS)
            pairs, samples_per_key = scrape_figures(scrapes[0][1])
            _progress(f"whole scrapes: {[round(s, 2) for s, _ in scrapes]} s, "
                      f"{len(scrapes[0][1]):,} bytes, {pairs} pairs")
            per_key = (rss - idle_rss) / max(1, pairs)
            load = freshness_rate or batched_rate / 2
            under_load: list[float] = []
            delays = freshness(worker, broker.bootstrap, prefix, load, FRESHNESS_MARKERS, mix,
                               under_load)
            steady = worker.flushes().since(after_backlog)
            _progress(f"freshness at {load:,.0f} events/s: p50 {statistics.median(delays):.2f} s"
                      f", p99 {nearest_rank(delays, 0.99):.2f} s; whole scrapes {under_load}")
        finally:
            worker.stop()
        # One event a message, read as a backlog as the batched events are: sent to a worker
        # while it ran, the figure would be the producer's pace, not the worker's.
        single_rate = backlog_rate(broker.bootstrap, workdir, f"{prefix}-single",
                                   realistic_events(single, rng, time.time(), mix),
                                   per_message=1, mix=mix)
        _progress(f"single: {single_rate:,.0f} events/s")
        scaled_rate = backlog_rate(broker.bootstrap, workdir, f"{prefix}-scaled",
                                   realistic_events(batched, rng, time.time(), mix),
                                   per_message=100, workers=SCALED_WORKERS, mix=mix)
    steal_percent = getattr(psutil.cpu_times_percent(), "steal", 0.0)  # Linux only
    return Figures(
        batched_events_per_second=batched_rate,
        batched_worker_cpu_us_per_event=cpu_per_event,
        raw_ceiling_events_per_second=ceiling,
        ratio_to_ceiling=batched_rate / ceiling,
        single_events_per_second=single_rate,
        scaled_events_per_second=scaled_rate,
        scale_out_ratio=scaled_rate / batched_rate,
        freshness_load_events_per_second=load,
        freshness_p50_seconds=statistics.median(delays),
        freshness_p99_seconds=nearest_rank(delays, 0.99),
        start_to_ready_seconds=ready,
        memory_per_key_bytes=per_key,
        full_scrape_seconds=statistics.median(seconds for seconds, _ in scrapes),
        full_scrape_bytes=len(scrapes[0][1]),
        samples_per_key=samples_per_key,
        full_scrape_under_load_seconds=max(under_load, default=math.nan),
        backlog_flush_mean_seconds=after_backlog.mean_seconds,
        backlog_flushes_over_commit_interval=after_backlog.over_commit_interval,
        steady_flush_mean_seconds=steady.mean_seconds,
        steady_flushes_over_commit_interval=steady.over_commit_interval,
        rss_after_backlog_bytes=rss,
        cpu_steal_ratio=steal_percent / 100,
    )


def run(runs: int, batched: int, single: int, freshness_rate: float | None = None,
        mix: Mix = DEFAULT_MIX) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="smm-bench-") as tmp:
        results = [one_run(batched, single, Path(tmp), freshness_rate, mix)
                   for _ in range(runs)]
    medians = {name: statistics.median(getattr(r, name) for r in results)
               for name in asdict(results[0])}
    return {"runs": runs, "batched_events": batched, "single_events": single,
            "mix": asdict(mix), "median": medians, "each": [asdict(r) for r in results]}


def soak(minutes: float, rate: float, mix: Mix = DEFAULT_MIX) -> dict[str, Any]:
    """Memory of a worker under a steady load of ``rate`` events/s for ``minutes``.

    The worker's resident memory is sampled every 30 s (``minutes`` >= 1) while Prometheus-like
    whole scrapes run every 15 s. Growth is the least-squares slope over the
    second half, after the state has had time to reach its steady size.
    """
    with tempfile.TemporaryDirectory(prefix="smm-soak-") as tmp, EmbeddedBroker(
            port=_free_port(), log_file=Path(tmp) / "broker.log") as broker:
        prefix = f"soak{uuid.uuid4().hex[:6]}"
        config = _config(Path(tmp), prefix, mix.config(SOAK_WINDOWS))
        worker = Worker(broker.bootstrap, config, Path(tmp), SOAK_ENV)
        try:
            worker.wait_ready()
            sent = Sent()
            samples = asyncio.run(_soak_samples(worker, broker.bootstrap, prefix, rate, minutes,
                                                sent, mix))
            with contextlib.suppress(TimeoutError):  # reported as events behind
                _wait(lambda: worker.counted() >= sent.events, SOAK_CATCH_UP_SECONDS, 1.0)
            behind = sent.events - worker.counted()
        finally:
            worker.stop()
    second_half = samples[len(samples) // 2:]  # at least 2: minutes >= 1 gives 3 samples
    slope, _ = statistics.linear_regression([t for t, _, _ in second_half],
                                            [rss for _, rss, _ in second_half])
    return {"minutes": minutes, "mix": asdict(mix), "load_events_per_second": rate,
            "events_sent": sent.events,
            "events_behind_after_catch_up": behind,
            "rss_bytes_first": samples[0][1], "rss_bytes_half": second_half[0][1],
            "rss_bytes_last": samples[-1][1], "state_keys_half": second_half[0][2],
            "state_keys_last": samples[-1][2],
            "second_half_growth_bytes_per_hour": slope * 3600,
            "samples_seconds_rss_bytes_state_keys": [[round(t), rss, keys]
                                                     for t, rss, keys in samples]}


async def _soak_samples(worker: Worker, bootstrap: str, prefix: str, rate: float,
                        minutes: float, sent: Sent, mix: Mix
                        ) -> list[tuple[float, int, float]]:
    """(seconds since the load started, worker RSS, state keys) every ``SOAK_SAMPLE_SECONDS``."""
    samples: list[tuple[float, int, float]] = []
    async with steady_traffic(worker, bootstrap, prefix, rate, sent, mix):
        started = time.perf_counter()
        while True:  # a sample every SOAK_SAMPLE_SECONDS, and one at the end
            elapsed = time.perf_counter() - started
            keys = await asyncio.to_thread(worker.state_keys)
            samples.append((elapsed, worker.rss_bytes(), keys))
            if elapsed >= minutes * 60:
                break
            await asyncio.sleep(min(SOAK_SAMPLE_SECONDS, minutes * 60 - elapsed))
    return samples
