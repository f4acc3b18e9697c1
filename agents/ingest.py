"""Ingest stage: validates collector messages and packs valid events for the KPI agents.

A plain aiokafka consumer, not a Faust agent: Faust's per-message cost (~250 µs,
docs/benchmarks.md, "Ingest outside Faust") would cap one-event-per-message
traffic near 4,000 events/s.
A poll gathers messages for ``ingest.gather_seconds`` (the configuration) after
its first one, up to ``ingest.poll_bytes``; their valid events leave as one
message per (KPI family, brand partition, input topic), packed up to
``ingest.pack_bytes``, and rejected
events go to the dead-letter topic with the original bytes and their reason
in headers, counted; nothing is dropped silently. Offsets are committed only
once the broker has acknowledged all of that (at-least-once: a replayed poll
is deduplicated downstream by event id).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    ConsumerRecord,
    TopicPartition,
)
from aiokafka.errors import CommitFailedError, IllegalStateError

from smm_pulse.config import Ingest as IngestSettings
from smm_pulse.connections import aiokafka_args
from smm_pulse.kpi.catalog import Family
from smm_pulse.runtime.faust_app import PRODUCER_BATCH_BYTES
from smm_pulse.runtime.pipeline import Pipeline
from smm_pulse.runtime.transport import FETCH_MAX_WAIT_MS
from smm_pulse.streams.dead_letters import DeadLetter, Source, dead_letter, dead_letters
from smm_pulse.streams.events import (
    BRAND,
    Declared,
    Event,
    ParsedMessage,
    Rejection,
    by_kind,
    parse_message,
)
from smm_pulse.streams.internal import BLOCK_OF, Packed, encoded
from smm_pulse.streams.topics import FAMILY_OF

# Input bytes per internal message: their events take fewer as columns of the fields
# the KPIs use (streams/internal.py splits a message that would be too big).
POLL_TIMEOUT_MS = 100
# Logged when the ingest is given its input partitions: from then on the worker reads
# its input (Faust's "Ready" says only that the KPI agents are; ``smm-pulse bench``).
READING_INPUT = "Ingest: reading input partitions"

log = logging.getLogger(__name__)


def triage(message: ConsumerRecord, declared: Declared, now: float) -> Triage:
    """A message's valid events and the dead-letter records of its rejections.

    Raises nothing: an unexpected failure rejects the whole message with
    reason ``internal_error`` and the error's text, and the ingest goes on.
    """
    raw = message.value or b""
    try:
        parsed = parse_message(raw, declared, now)
    except Exception as exc:  # parse_message raises nothing known: a bug, not the input
        log.exception("ingest: a message of %s failed validation", message.topic)
        parsed = ParsedMessage([], [Rejection("internal_error", f"{type(exc).__name__}: {exc}",
                                              "unknown")])
    source = Source(message.topic, message.partition, message.offset)
    if not parsed.rejected:
        return Triage(parsed.accepted, [], [])
    try:
        letters = dead_letters(raw, message.key, parsed.rejected, source)
    except Exception as exc:  # a bug, not the input: the message is kept whole
        log.exception("ingest: the dead letters of a message of %s failed", message.topic)
        letters = [dead_letter(Rejection("internal_error", f"{type(exc).__name__}: {exc}",
                                         "unknown"), raw, message.key, source)]
    return Triage(parsed.accepted, parsed.rejected, letters)


@dataclass(frozen=True, slots=True)
class Triage:
    accepted: list[Event]
    rejected: list[Rejection]
    dead_letters: list[DeadLetter]


def count_rejected(pipeline: Pipeline, rejection: Rejection, topic: str) -> None:
    """Every rejected event is counted, whether its record is its own or folded; ``topic``
    is where it came from (an input topic, or ``http:<collector>`` for ``POST /ingest``)."""
    pipeline.events_total.labels(topic, rejection.event_type, "rejected").inc()
    pipeline.dead_letters_total.labels(topic, rejection.reason).inc()


@dataclass(slots=True)
class _Filling:
    """An internal message being filled: events by brand and kind, and the input bytes
    they came in."""

    events: dict[str, dict[type[Event], list[Event]]] = field(default_factory=dict)
    size: int = 0


class Packer:
    """Accepted events as internal messages: ``Packed`` by (family, brand partition, topic).

    A collector's message usually holds one brand: its events join their
    internal message a kind at a time. Messages mixing brands are grouped
    together once the poll is read (``messages``): taken one by one, each
    brand of each message was a list of its own to place.
    """

    def __init__(self, partition_of: Callable[[str], int],
                 pack_bytes: int = IngestSettings().pack_bytes) -> None:
        self.partition_of = partition_of
        self.pack_bytes = pack_bytes
        self._open: dict[tuple[Family, int, str], _Filling] = {}  # by (family, partition, topic)
        self._mixed: dict[str, tuple[list[Event], list[int]]] = {}  # by topic: events, bytes
        self.full: list[tuple[Family, int, bytes]] = []

    def add(self, topic: str, events: list[Event], size: int) -> None:
        """``size``: the bytes of the message the events came in, which bounds their
        share of an internal message (``pack_bytes``)."""
        brands = set(map(BRAND, events))
        if len(brands) == 1:
            self._put_brand(brands.pop(), topic, events, size)
            return
        mixed, mixed_size = self._mixed.setdefault(topic, ([], [0]))
        mixed += events
        mixed_size[0] += size

    def _put_brand(self, brand: str, topic: str, events: list[Event], size: int) -> None:
        for kind, group in by_kind(events).items():
            self._put(brand, kind, topic, group, size * len(group) // len(events))

    def _put(self, brand: str, kind: type[Event], topic: str, events: list[Event],
             size: int) -> None:
        where = (FAMILY_OF[kind], self.partition_of(brand), topic)
        filling = self._open.get(where)
        if filling is not None and filling.size + size > self.pack_bytes:
            self._close(where)
            filling = None
        if filling is None:
            filling = self._open[where] = _Filling()
        filling.events.setdefault(brand, {}).setdefault(kind, []).extend(events)
        filling.size += size

    def messages(self) -> list[tuple[Family, int, bytes]]:
        """(family, partition, body) of every message, the open ones closed."""
        for topic, (events, size) in self._mixed.items():
            by_brand: dict[str, list[Event]] = defaultdict(list)
            for event in events:  # cheaper than sorting by brand (string comparisons)
                by_brand[event.brand].append(event)
            for brand, brand_events in by_brand.items():
                self._put_brand(brand, topic, brand_events,
                                size[0] * len(brand_events) // len(events))
        self._mixed.clear()
        for where in list(self._open):
            self._close(where)
        return self.full

    def _close(self, where: tuple[Family, int, str]) -> None:
        family, partition, topic = where
        blocks = {brand: [BLOCK_OF[kind].of(events) for kind, events in kinds.items()]
                  for brand, kinds in self._open.pop(where).events.items()}
        self.full += [(family, partition, body) for body in encoded(Packed(topic, blocks))]


class _ReportAssignment(ConsumerRebalanceListener):
    """Logs the ingest's input partitions at each rebalance (operators, and the bench)."""

    def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        log.info("Ingest: input partitions revoked: %s", sorted(revoked))

    def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        log.info("%s %s", READING_INPUT, sorted(assigned))


class Ingest:
    """The consumer loop; one per worker, in the ``<app_id>-ingest`` consumer group."""

    def __init__(self, pipeline: Pipeline, bootstrap: str) -> None:
        self.pipeline = pipeline
        self.bootstrap = bootstrap
        self._positions: dict[TopicPartition, int] = {}  # next offset to read, per partition

    async def run(self) -> None:
        """Poll, handle, commit, until cancelled (aiokafka clients need the running loop)."""
        security = aiokafka_args(self.pipeline.config.kafka)
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=f"{self.pipeline.config.app_id}-ingest",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
            fetch_max_wait_ms=FETCH_MAX_WAIT_MS,  # aiokafka's 500 ms delays each event as much
            **security,
        )
        self.producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, linger_ms=2,
                                         max_batch_size=PRODUCER_BATCH_BYTES, **security)
        self.consumer.subscribe(list(self.pipeline.names.inputs), listener=_ReportAssignment())
        for topic in self.pipeline.family_topics.values():
            await topic.maybe_declare()  # before the first send creates it with broker defaults
        await self.producer.start()
        await self.consumer.start()
        try:
            while True:
                polled = await self.poll()
                if polled:
                    await self.handle(polled)
                self._positions = {tp: await self.consumer.position(tp)
                                   for tp in self.consumer.assignment()}
        finally:
            await self.consumer.stop()
            await self.producer.stop()

    async def poll(self) -> dict[TopicPartition, list[ConsumerRecord]]:
        """Messages for up to ``gather_seconds`` after the first, up to ``poll_bytes``.

        Events trickling in one message at a time would otherwise leave as one
        small internal message per poll and family partition, and the agents
        pay Faust's cost per message: gathering keeps internal messages, and
        so the table writes per event, few.
        """
        polled: dict[TopicPartition, list[ConsumerRecord]] = defaultdict(list)
        size = 0
        settings = self.pipeline.config.ingest
        fetched = await self.consumer.getmany(timeout_ms=POLL_TIMEOUT_MS,
                                              max_records=settings.poll_messages)
        deadline = time.monotonic() + settings.gather_seconds
        while fetched:
            for tp, messages in fetched.items():
                polled[tp] += messages
                size += sum(len(m.value or b"") for m in messages)
            left_ms = int((deadline - time.monotonic()) * 1000)
            if size >= settings.poll_bytes or left_ms <= 0:
                break
            fetched = await self.consumer.getmany(timeout_ms=left_ms,
                                                  max_records=settings.poll_messages)
        return polled

    async def handle(self, polled: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        pipeline = self.pipeline
        names = pipeline.names
        now = time.time()
        packer = Packer(pipeline.partition_of, pipeline.config.ingest.pack_bytes)
        sent: list[Awaitable[Any]] = []
        for messages in polled.values():
            for message in messages:
                triaged = triage(message, pipeline.declared, now)
                for rejection in triaged.rejected:
                    count_rejected(pipeline, rejection, message.topic)
                for letter in triaged.dead_letters:
                    sent.append(await self.producer.send(
                        pipeline.config.topics.dlq, letter.value, key=letter.key,
                        headers=letter.headers))
                if triaged.accepted:
                    packer.add(message.topic, triaged.accepted, len(message.value or b""))
        for family, partition, body in packer.messages():
            sent.append(await self.producer.send(names.family(family), body,
                                                 partition=partition))
        await asyncio.gather(*sent)
        try:
            await self.consumer.commit({tp: messages[-1].offset + 1
                                        for tp, messages in polled.items()})
        except (CommitFailedError, IllegalStateError) as exc:
            # A rebalance took the partitions: their new owner reads the poll again.
            log.warning("ingest commit skipped, partitions moved: %s", exc)

    def lag(self) -> dict[str, int]:
        """Messages not yet read, per input topic, over the partitions this worker reads."""
        lag: dict[str, int] = {}
        for tp, position in self._positions.items():
            end = self.consumer.highwater(tp)
            if end is not None:
                lag[tp.topic] = lag.get(tp.topic, 0) + max(0, end - position)
        return lag


def register(pipeline: Pipeline, bootstrap: str) -> Ingest:
    ingest = Ingest(pipeline, bootstrap)
    pipeline.input_lag = ingest.lag
    app = pipeline.app

    async def ingest_stage() -> None:
        try:
            await ingest.run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a stopped ingest must stop the worker, not idle it
            log.exception("ingest stage failed")
            await app.crash(exc)

    app.tasks_before_recovery.append(ingest_stage)
    return ingest
