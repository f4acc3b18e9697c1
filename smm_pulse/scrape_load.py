"""How late an event is counted while many clients scrape a large ``/metrics``.

``python -m smm_pulse.scrape_load`` starts an embedded broker and one worker as
users do (``smm-pulse up``) with many declared brands, gives every brand data
in every KPI family on a few platforms (so ``/metrics`` is megabytes), then
runs ``scrapers`` clients fetching the whole ``/metrics`` (in waves of all of
them at once, or each back to back) while a marker event is produced every
second. A marker's delay runs from its produce to its count on ``/api/events``
(cheap: no KPI work), polled from another process than the scrapers'. All
traffic goes to 127.0.0.1, and the run is bounded: ``seconds`` of markers, each
request with a timeout, the scraping process stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiokafka import AIOKafkaProducer

from smm_pulse.bench import Worker, _free_port
from smm_pulse.config import Topics
from smm_pulse.runtime.broker import EmbeddedBroker
from smm_pulse.sdk import CollectorClient

REQUEST_TIMEOUT_SECONDS = 60.0
MARKER_TIMEOUT_SECONDS = 60.0  # a marker not counted by then is infinitely late
POLL_SECONDS = 0.05
START_SECONDS = 30.0  # for the scraping process to start
# Platforms every configuration accepts (the contract's): at most this many per brand.
PLATFORMS = ("vk", "telegram", "instagram", "x", "youtube")


@dataclass
class ScrapeLoad:
    brands: int
    platforms: int
    scrapers: int
    waves: bool  # all scrapers at once (scrape_waves), or each back to back
    gzip: bool  # whether the scrapers accept gzip, as Prometheus does
    metrics_bytes: int
    metrics_bytes_if_gzip_accepted: int  # as sent to a client that accepts gzip
    # One /metrics fetch with nothing else running, as its client sees it (the worker's
    # render and the transfer, uncompressed); the second of two, so no first-render
    # costs count.
    idle_scrape_seconds: float
    scrapes: int  # whole scrapes completed during the load
    scrape_errors: int
    scrape_p50_seconds: float
    marker_p50_seconds: float
    marker_max_seconds: float
    markers: int


def config_text(brands: int, prefix: str) -> str:
    """``brands`` declared brands (``brand0``...), each its own topics and app id."""
    return ("brands:\n" + "".join(f"  brand{i}: {{}}\n" for i in range(brands))
            + f"windows: [5m, 1h, 24h]\npartitions: 4\napp_id: {prefix}\n"
            + f"topics: {{engagement: {prefix}.engagement, mentions: {prefix}.mentions,"
            + f" dlq: {prefix}.dlq}}\n")


def brand_events(brand: str, platform: str, now: float) -> Iterator[dict[str, Any]]:
    """Events that give one (brand, platform) a value in every KPI family."""
    base = {"ts": now - 10, "platform": platform, "brand": brand, "account": "main"}
    uid = uuid.uuid4().hex
    yield {**base, "type": "account_metrics", "event_id": f"a-{uid}", "followers": 1000}
    yield {**base, "type": "post_metrics", "event_id": f"p-{uid}", "post_id": "1",
           "likes": 10, "comments": 2, "shares": 1, "saves": 1, "views": 500, "reach": 400,
           "impressions": 600, "clicks": 5}
    yield {**base, "type": "interaction", "event_id": f"i-{uid}", "action": "follow"}
    yield {**base, "type": "mention", "event_id": f"m-{uid}", "text": "ok", "sentiment": 0.4}
    for direction in ("in", "out"):
        yield {**base, "type": "message", "event_id": f"{direction}-{uid}", "thread_id": "t",
               "direction": direction, "ts": now - (10 if direction == "in" else 5)}


def feed(bootstrap: str, topics: Topics, brands: int, platforms: int) -> int:
    """Every brand's events on ``platforms`` platforms, one message per (brand, platform).

    Returns the events sent.
    """
    if not 1 <= platforms <= len(PLATFORMS):
        raise ValueError(f"platforms: 1 to {len(PLATFORMS)}")
    now = time.time()
    with CollectorClient(bootstrap, topics) as client:
        for i in range(brands):
            for p in range(platforms):
                client.send(list(brand_events(f"brand{i}", PLATFORMS[p], now)))
        return client.report.events


async def counted(session: aiohttp.ClientSession, port: int) -> float:
    async with session.get(f"http://127.0.0.1:{port}/api/events") as response:
        return sum((await response.json()).values())


async def wait_counted(session: aiohttp.ClientSession, port: int, total: float,
                       timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while await counted(session, port) < total:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the worker did not count {total} events in {timeout} s")
        await asyncio.sleep(0.2)


async def scrape(session: aiohttp.ClientSession, url: str, took: list[float],
                 errors: list[str]) -> None:
    """One whole scrape: its time in ``took``, or what went wrong in ``errors``."""
    started = time.monotonic()
    try:
        async with session.get(url) as response:
            await response.read()
            if response.status != 200:
                errors.append(str(response.status))
                return
    except (aiohttp.ClientError, TimeoutError) as exc:
        errors.append(type(exc).__name__)
        return
    took.append(time.monotonic() - started)


Stopped = Callable[[], bool]


async def scrape_waves(session: aiohttp.ClientSession, url: str, scrapers: int,
                       stopped: Stopped, took: list[float], errors: list[str]) -> None:
    """Waves of ``scrapers`` scrapes sent at once, each wave once the last has ended.

    Prometheus servers with one scrape interval fire together like this: the
    worker gets every request of a wave in one turn of its loop, the worst case
    for a loop that renders each request on its own.
    """
    while not stopped():
        await asyncio.gather(*(scrape(session, url, took, errors) for _ in range(scrapers)))


async def scrape_back_to_back(session: aiohttp.ClientSession, url: str, stopped: Stopped,
                              took: list[float], errors: list[str]) -> None:
    """One client's scrapes, each sent as soon as the last one ended."""
    while not stopped():
        await scrape(session, url, took, errors)


async def scrape_concurrently(port: int, scrapers: int, waves: bool, gzip: bool,
                              ready: Callable[[], None],
                              stopped: Stopped) -> tuple[list[float], list[str]]:
    """(scrape times, errors) of ``scrapers`` concurrent scrapers until ``stopped()``.

    Bodies are read, not decompressed: the load is on the worker, not on this client.
    """
    took: list[float] = []
    errors: list[str] = []
    url = f"http://127.0.0.1:{port}/metrics"
    async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS),
            connector=aiohttp.TCPConnector(limit=scrapers), auto_decompress=False,
            headers={"Accept-Encoding": "gzip" if gzip else "identity"}) as session:
        ready()
        if waves:
            await scrape_waves(session, url, scrapers, stopped, took, errors)
        else:
            await asyncio.gather(*(scrape_back_to_back(session, url, stopped, took, errors)
                                   for _ in range(scrapers)))
    return took, errors


def scraping_process(port: int, scrapers: int, waves: bool, gzip: bool, longest: float,
                     stop: Any, results: Any) -> None:
    """``scrape_concurrently`` in a process of its own, so the scrapers' work does not delay the
    marker probe: says "ready" on ``results``, scrapes until ``stop`` is set (or for
    ``longest`` seconds), then puts (times, errors) on ``results``."""
    deadline = time.monotonic() + longest
    outcome = asyncio.run(scrape_concurrently(
        port, scrapers, waves, gzip, lambda: results.put("ready"),
        lambda: stop.is_set() or time.monotonic() > deadline))
    results.put(outcome)


async def markers(bootstrap: str, topic: str, port: int, seconds: float) -> list[float]:
    """Delay of each marker, one sent to ``topic`` a second for ``seconds`` (inf if never
    counted); brand0 must be declared."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    await producer.start()
    delays: list[float] = []
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            before = await counted(session, port)
            started = time.monotonic()
            for i in range(max(1, int(seconds))):
                event = {"type": "interaction", "event_id": f"marker-{uuid.uuid4().hex}",
                         "ts": time.time(), "platform": "vk", "brand": "brand0",
                         "account": "m", "action": "like"}
                sent = time.monotonic()
                await producer.send_and_wait(topic, orjson.dumps(event), key=b"brand0")
                while await counted(session, port) < before + i + 1:
                    if time.monotonic() - sent > MARKER_TIMEOUT_SECONDS:
                        return [*delays, math.inf]  # the worker is stuck: no more figures
                    await asyncio.sleep(POLL_SECONDS)
                delays.append(time.monotonic() - sent)
                await asyncio.sleep(max(0.0, started + i + 1 - time.monotonic()))
    finally:
        await producer.stop()
    return delays


def load(bootstrap: str, topic: str, port: int, scrapers: int, seconds: float,
         waves: bool, gzip: bool) -> tuple[list[float], list[float], list[str]]:
    """(marker delays, scrape times, scrape errors) under ``scrapers`` concurrent scrapers.

    Scraping starts a second before the first marker and ends once the last is counted.
    """
    context = multiprocessing.get_context("spawn")
    results, stop = context.Queue(), context.Event()
    # However late the markers, the scrapers stop by then.
    longest = seconds + MARKER_TIMEOUT_SECONDS + 10
    process = context.Process(target=scraping_process,
                              args=(port, scrapers, waves, gzip, longest, stop, results))
    process.start()
    try:
        if results.get(timeout=START_SECONDS) != "ready":
            raise RuntimeError("the scraping process did not start")
        time.sleep(1)  # the scrapers' first requests are under way
        delays = asyncio.run(markers(bootstrap, topic, port, seconds))
        stop.set()
        took, errors = results.get(timeout=longest + REQUEST_TIMEOUT_SECONDS)
    finally:
        stop.set()
        process.join(timeout=REQUEST_TIMEOUT_SECONDS)
        if process.is_alive():
            process.kill()
    return delays, took, errors


async def idle_scrape(port: int, gzip: bool) -> tuple[int, float]:
    """(bytes, seconds) of the second of two lone /metrics fetches (as sent, if gzipped)."""
    headers = {"Accept-Encoding": "gzip" if gzip else "identity"}
    async with aiohttp.ClientSession(auto_decompress=False, headers=headers) as session:
        for _ in range(2):
            started = time.monotonic()
            async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                body = await response.read()
            took = time.monotonic() - started
            await asyncio.sleep(1.5)  # past any cached render's lifetime
    return len(body), took


def run(brands: int = 360, platforms: int = 1, scrapers: int = 200, seconds: float = 20.0,
        waves: bool = True, gzip: bool = True) -> ScrapeLoad:
    with tempfile.TemporaryDirectory(prefix="smm-scrape-") as tmp, \
            EmbeddedBroker(port=_free_port(), log_file=Path(tmp) / "broker.log") as broker:
        prefix = f"scrape{uuid.uuid4().hex[:6]}"
        config = Path(tmp) / "smm.yaml"
        config.write_text(config_text(brands, prefix))
        worker = Worker(broker.bootstrap, config, Path(tmp))
        try:
            worker.wait_ready()
            topics = Topics(engagement=f"{prefix}.engagement", mentions=f"{prefix}.mentions",
                            dlq=f"{prefix}.dlq")
            sent = feed(broker.bootstrap, topics, brands, platforms)

            async def prepare() -> tuple[int, float, int]:
                async with aiohttp.ClientSession() as session:
                    await wait_counted(session, worker.port, sent, timeout=120)
                size, idle = await idle_scrape(worker.port, gzip=False)
                return size, idle, (await idle_scrape(worker.port, gzip=True))[0]

            size, idle, sent_size = asyncio.run(prepare())
            delays, took, errors = load(broker.bootstrap, topics.engagement, worker.port,
                                        scrapers, seconds, waves, gzip)
        finally:
            worker.stop()
    return ScrapeLoad(
        brands=brands, platforms=platforms, scrapers=scrapers, waves=waves, gzip=gzip,
        metrics_bytes=size, metrics_bytes_if_gzip_accepted=sent_size, idle_scrape_seconds=idle,
        scrapes=len(took), scrape_errors=len(errors),
        scrape_p50_seconds=statistics.median(took) if took else math.inf,
        marker_p50_seconds=statistics.median(delays), marker_max_seconds=max(delays),
        markers=len(delays))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--brands", type=int, default=360)
    parser.add_argument("--platforms", type=int, default=1)
    parser.add_argument("--scrapers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0, help="markers, one a second")
    parser.add_argument("--back-to-back", action="store_true",
                        help="each scraper sends its next scrape when its last ends "
                             "(default: waves of all scrapers at once)")
    parser.add_argument("--identity", action="store_true",
                        help="scrapers refuse gzip (default: they accept it, as Prometheus)")
    args = parser.parse_args()
    print(json.dumps(asdict(run(args.brands, args.platforms, args.scrapers, args.seconds,
                                waves=not args.back_to_back, gzip=not args.identity)),
                     indent=2))


if __name__ == "__main__":
    main()
