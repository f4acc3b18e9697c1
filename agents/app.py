"""The Faust application: settings, topics, tables, and the agents wired to them."""

from __future__ import annotations

import asyncio
import functools
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faust
from faust.types import TableT, TopicT
from prometheus_client import CollectorRegistry, Counter

from agents.transport import Transport
from smm_pulse.broker import end_offsets_skip_last_batch
from smm_pulse.config import Config
from smm_pulse.kpi.catalog import DEAD_LETTERS, EVENTS, INTERNAL_ERRORS, LATE_EVENTS, Family
from smm_pulse.state import Expiring, Parts, Section, SeenEventIds, Views, WindowBuckets
from smm_pulse.windows import Window
from streams import codec
from streams.dead_letters import DeadLetter
from streams.events import KNOWN_PLATFORMS, Declared
from streams.topics import BrandPartitions, TopicNames

# Event ids are remembered for the longest window plus this long (default an hour), so
# a collector's retry of an event that is already outside every window is still caught.
DEDUP_EXTRA_ENV = "SMM_PULSE_DEDUP_EXTRA_SECONDS"
DEDUP_EXTRA_SECONDS = 3600.0


@dataclass
class Pipeline:
    """Everything the agents, the janitor and the exporter share."""

    config: Config
    app: App
    names: TopicNames
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    family_topics: dict[Family, TopicT] = field(default_factory=dict)
    # One table per family (why: smm_pulse/state/section.py); sections by "<family>-<name>".
    tables: dict[Family, TableT] = field(default_factory=dict)
    sections: dict[str, Section] = field(default_factory=dict)
    # Called with (key, value) for each record a family's table restores from its changelog.
    restore_listeners: dict[Family, list[Callable[[str, Any], None]]] = field(
        default_factory=dict)
    # What the janitor expires, and where the exporter reads each family's KPI views.
    expiring: list[tuple[Family, Expiring]] = field(default_factory=list)
    # Each family's window buckets: what they keep is added before any read of state.
    window_buckets: dict[Family, WindowBuckets] = field(default_factory=dict)
    views: dict[Family, Callable[[float], Views]] = field(default_factory=dict)
    # Messages not yet read per input topic (the ingest stage reads them, not Faust).
    input_lag: Callable[[], dict[str, int]] = dict
    # Where the agents write dead letters (the ingest has a producer of its own).
    dead_letter_topic: TopicT | None = None

    def __post_init__(self) -> None:
        self.windows = tuple(Window.parse(w) for w in self.config.windows)
        # The brand partition of a brand (a dict lookup: called for every post and bucket).
        self.partition_of: Callable[[str], int] = BrandPartitions(
            self.config.partitions).__getitem__
        (self.events_total, self.dead_letters_total, self.late_events_total,
         self.internal_errors_total) = (
            Counter(m.name, m.help, m.labels, registry=self.registry)
            for m in (EVENTS, DEAD_LETTERS, LATE_EVENTS, INTERNAL_ERRORS)
        )
        for family in Family:  # exported at 0 from the start: alerts see the series
            self.internal_errors_total.labels(family.value)

    def send_dead_letter(self, letter: DeadLetter) -> None:
        """Queue a record for the dead-letter topic; sent before the next offset commit."""
        assert self.dead_letter_topic is not None, "create_pipeline sets the topic"
        self.dead_letter_topic.send_soon(key=letter.key, value=letter.value,
                                         headers=letter.headers)

    @property
    def horizon_seconds(self) -> int:
        return self.config.longest_window_seconds

    @functools.cached_property
    def declared(self) -> Declared:
        """The brands and platforms the ingest accepts."""
        platforms = KNOWN_PLATFORMS | set(self.config.platforms)
        return Declared(self.config.brands.__contains__, platforms.__contains__)

    def owned_partitions(self, family: Family) -> set[int]:
        """Partitions of a family's topic this worker actively owns (not standbys)."""
        return self.family_partitions(self.app.assignor.assigned_actives(), family)

    def buckets(self, family: Family) -> WindowBuckets:
        """A family's window buckets, expired by the janitor."""
        buckets = WindowBuckets(self.section(family, "buckets"), self.windows)
        self.on_restore(family, buckets.on_restored)
        self.expiring.append((family, buckets))
        self.window_buckets[family] = buckets
        return buckets

    def seen_ids(self, family: Family) -> SeenEventIds:
        """A family's duplicate detection, expired by the janitor."""
        # Keyed by the batch's (partition, offset): the partition is the first part.
        seen = SeenEventIds(self.section(family, "seen", partition_of=lambda parts: parts[0]),
                            self.horizon_seconds + dedup_extra_seconds())
        self.on_restore(family, seen.on_changelog_value)
        self.expiring.append((family, seen))
        return seen

    def section(
        self,
        family: Family,
        name: str,
        *,
        baseline: bool = False,
        partition_of: Callable[[Parts], int] | None = None,
    ) -> Section:
        """A kind of state inside the family's table; keys start with the brand by default."""
        partition_of_brand = self.partition_of
        section = Section(self.table(family), name,
                          partition_of or (lambda parts: partition_of_brand(parts[0])),
                          baseline=baseline)
        self.sections[f"{family.value}-{name}"] = section
        self.on_restore(family, section.on_restored)
        return section

    def flush_state(self) -> dict[Family, set[int]]:
        """Send every section's changes to the changelogs; the partitions written per family.

        Baseline sections go last: a crash during the flush may keep counters
        that already include a snapshot's difference while losing the post
        state it came from (the replay then recomputes it and the counters'
        offset guards skip it), never the other way round. Buckets settle
        first, so the counters hold every post snapshot written so far.
        """
        self.settle_buckets()
        written: dict[Family, set[int]] = {}
        for family in self.tables:
            owned = self.owned_partitions(family)
            for section in sorted(self.sections_of(family), key=lambda s: s.baseline):
                written.setdefault(family, set()).update(section.flush(owned))
        return written

    def settle_buckets(self) -> None:
        """Add the batches window buckets keep until read (``WindowBuckets.settle``)."""
        for buckets in self.window_buckets.values():
            buckets.settle()

    def hold_changes(self, revoked: set[int], family: Family) -> None:
        """Set aside unflushed changes of revoked partitions (``Section.hold_changes``).

        Kept bucket batches are added first: memory holds every batch
        processed, as it did when batches were added one by one.
        """
        if family in self.window_buckets:
            self.window_buckets[family].settle()
        for section in self.sections_of(family):
            section.hold_changes(revoked)

    def resume_changes(self, assigned: set[int], family: Family) -> None:
        """Held changes of partitions assigned (back) to this worker are flushed again."""
        for section in self.sections_of(family):
            section.resume_changes(assigned)

    def family_partitions(self, tps: set[Any], family: Family) -> set[int]:
        """The partitions of the family's topic among ``tps`` (Faust's topic partitions)."""
        topic = self.names.family(family)
        return {tp.partition for tp in tps if tp.topic == topic}

    def sections_of(self, family: Family) -> list[Section]:
        return [s for s in self.sections.values() if s.table is self.tables.get(family)]

    def on_restore(self, family: Family, listener: Callable[[str, Any], None]) -> None:
        """Call ``listener(key, value)`` for each record the family's table restores."""
        self.restore_listeners.setdefault(family, []).append(listener)

    def table(self, family: Family) -> TableT:
        if family not in self.tables:
            listeners = self.restore_listeners.setdefault(family, [])

            async def on_restored(event: Any) -> None:
                for listener in listeners:
                    listener(event.key, event.value)

            self.tables[family] = self.app.Table(
                f"{family.value}-state",
                default=None,
                partitions=self.config.partitions,
                on_changelog_event=on_restored,
                # keys and values are JSON (Faust's default, with orjson)
            )
        return self.tables[family]


# Producer record batches (aiokafka's default: 16 KiB). A producer keeps one batch in
# flight per partition, so a flush of thousands of changelog records took a broker
# round trip per 16 KiB; on a busy event loop each took a loop turn too: 5-30 s a
# flush at 11,000 events/s (docs/benchmarks.md). Under the brokers' 1 MB request limit.
PRODUCER_BATCH_BYTES = 512 * 1024

END_MARKERS_ENV = "SMM_PULSE_CHANGELOG_END_MARKERS"  # auto (default), on, off
END_MARKER_KEY = '["~end"]'  # a tombstone no section owns


def dedup_extra_seconds() -> float:
    text = os.environ.get(DEDUP_EXTRA_ENV)
    if text is None:
        return DEDUP_EXTRA_SECONDS
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise ValueError(f"{DEDUP_EXTRA_ENV} must be a number of seconds >= 0, not {text!r}")
    return seconds


def changelog_end_markers(bootstrap: str) -> bool:
    """Whether each flush ends with a one-record batch per changelog partition (docs/design.md)."""
    choice = os.environ.get(END_MARKERS_ENV, "auto")
    if choice not in ("auto", "on", "off"):
        raise ValueError(f"{END_MARKERS_ENV} must be auto, on or off, not {choice!r}")
    return choice == "on" or (choice == "auto" and end_offsets_skip_last_batch(bootstrap))


class Table(faust.Table):
    """A Faust table whose changelog records are sent by the app's flush, not one by one.

    Faust's ``send_changelog`` puts each record in its producer buffer, which
    is drained one record at a time, and every incoming message waits while
    that buffer holds over 100: a flush of thousands of keys held up every
    agent for seconds (docs/benchmarks.md). Records here wait in
    ``App.changelog`` for ``App.before_commit``, which hands them all to the
    producer at once (it batches them; order within a partition is kept).
    """

    def send_changelog(  # type: ignore[override]  # nothing to await per record
        self,
        partition: int | None,
        key: str,
        value: Any,
        key_serializer: Any = None,
        value_serializer: Any = None,
    ) -> None:
        """Keys and values as JSON, the table's serializers; a ``None`` value is a tombstone.

        Encoded by orjson directly (streams/codec.py), the bytes Faust's JSON
        serializers write (tests/unit/test_changelog_sends.py): their chain of
        calls cost as much as the encoding. The serializer arguments (Faust's
        signature) are unused.
        """
        self.app.changelog.append((self._changelog_name, partition, codec.dumps(key),
                                   None if value is None else codec.dumps(value)))

    @functools.cached_property
    def _changelog_name(self) -> str:
        return self.changelog_topic.get_topic_name()


class TableManager(faust.tables.TableManager):
    """Faust's, without the second it sleeps at start for tables declared late.

    Every table here is declared by ``create_pipeline`` before the app starts
    (a later one fails: "Too late to add tables"), so the sleep only delayed
    the consumer's subscription, and readiness, by a second.
    """

    async def on_start(self) -> None:
        if not self.should_stop:
            await self._update_channels()
            await self.recovery.start()


class App(faust.App):
    """Faust's app with our consumer (agents/transport.py) and table state written behind."""

    pipeline: Pipeline | None = None
    end_markers = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, Table=Table, TableManager=TableManager, **kwargs)
        # (topic, partition, key, value) of changelog records not yet sent
        self.changelog: list[tuple[str, int | None, bytes | None, bytes | None]] = []
        # Started once the app's services are, without waiting for table recovery.
        self.tasks_before_recovery: list[Callable[[], Awaitable[None]]] = []

    async def on_started(self) -> None:
        """Start ``tasks_before_recovery``, then what Faust starts after recovery.

        Faust starts ``app.task`` tasks only once the tables are recovered,
        after its consumer group join. The ingest stage needs no table: started
        here its own group join overlaps Faust's instead of following it (each
        takes half the session timeout on Tansu, docs/benchmarks.md).
        """
        for task in self.tasks_before_recovery:
            self.add_future(task())
        await super().on_started()

    def _new_transport(self) -> Transport:
        return Transport(self.conf.broker_consumer, self)

    async def before_commit(self) -> None:
        """Make the tables' changes durable; the consumer commits offsets only after this.

        Where the broker reports a changelog's end at the start of its last
        batch (Tansu), a flush ends with a tombstone sent alone per partition,
        so recovery reads every record up to it.
        """
        if self.pipeline is None:
            return
        written = self.pipeline.flush_state()
        await self.producer.flush()  # what agents sent with send_soon (voice forwards)
        await self._send_changelog()
        if self.end_markers and written:
            for family, partitions in written.items():
                for partition in partitions:
                    self.pipeline.tables[family].send_changelog(partition, END_MARKER_KEY, None)
            await self._send_changelog()

    async def _send_changelog(self) -> None:
        """Send the changelog records flushed so far and wait for the broker.

        Record batches per partition are built here: aiokafka's send per record
        (a future, a metadata lookup and a callback each) cost a flush of
        thousands of records more than building the records did.
        """
        records, self.changelog = self.changelog, []
        by_partition: dict[tuple[str, int | None], list[tuple[bytes | None, bytes | None]]] = {}
        for topic, partition, key, value in records:
            by_partition.setdefault((topic, partition), []).append((key, value))
        producer = self.producer._ensure_producer()  # aiokafka's: Faust's has no batch API
        sent = []
        for (topic, partition), items in by_partition.items():
            batch = producer.create_batch()
            for key, value in items:
                if batch.append(key=key, value=value, timestamp=None) is None:  # full
                    sent.append(await producer.send_batch(batch, topic, partition=partition))
                    batch = producer.create_batch()
                    batch.append(key=key, value=value, timestamp=None)  # the first always fits
            sent.append(await producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*sent)


def reachable_host(web_bind: str) -> str:
    """The host other workers can reach us at: our name when bound to every interface."""
    return socket.getfqdn() if web_bind in ("0.0.0.0", "::") else web_bind


def create_pipeline(
    config: Config,
    bootstrap: str,
    web_port: int,
    web_bind: str = "127.0.0.1",
    data_dir: Path | None = None,
) -> Pipeline:
    from smm_pulse.web import FAUST_VIEWS_OFF, check_faust_views_off

    app = App(
        config.app_id,
        broker=[f"kafka://{host}" for host in bootstrap.split(",")],
        store="memory://",
        datadir=str(data_dir or f"{config.app_id}-data"),
        topic_partitions=config.partitions,
        topic_replication_factor=1,
        web_bind=web_bind,
        web_port=web_port,
        # Other workers redirect API clients here: the address they can reach us at.
        canonical_url=f"http://{reachable_host(web_bind)}:{web_port}",
        web_in_thread=False,
        # The port serves /metrics, the API and a health route, not Faust's views of
        # tables, routing and statistics (smm_pulse/web.py).
        **FAUST_VIEWS_OFF,
        # Table state is idempotent by offset guards; exactly-once is not needed.
        processing_guarantee="at_least_once",
        producer_max_batch_size=PRODUCER_BATCH_BYTES,  # changelog flushes: see its comment
        # Faster failure detection than the defaults, which suit bigger clusters.
        broker_session_timeout=10.0,
        broker_heartbeat_interval=1.0,
        stream_wait_empty=False,
        # No standby replicas (Faust's default is one): a standby applies every changelog
        # record the other workers flush, through Faust's per-record path. With one, two
        # workers together read a backlog at 52,000-94,000 events/s where one alone did
        # 169,000; without, 216,000-356,000. A survivor took over a stopped worker's brands
        # 1-2 s later without (docs/benchmarks.md, session 29).
        table_standby_replicas=0,
    )
    check_faust_views_off(app.conf)
    app.end_markers = changelog_end_markers(bootstrap)
    pipeline = app.pipeline = Pipeline(config, app, TopicNames(
        (config.topics.engagement, config.topics.mentions), config.app_id))

    @app.on_partitions_revoked.connect
    async def hold_revoked_changes(_app: Any, revoked: set[Any], **_kwargs: Any) -> None:
        for family in Family:
            pipeline.hold_changes(pipeline.family_partitions(revoked, family), family)

    @app.on_partitions_assigned.connect
    async def resume_assigned_changes(_app: Any, assigned: set[Any], **_kwargs: Any) -> None:
        for family in Family:
            pipeline.resume_changes(pipeline.family_partitions(assigned, family), family)

    for family in Family:
        pipeline.family_topics[family] = app.topic(
            pipeline.names.family(family),
            key_serializer="raw",
            value_serializer="raw",
            partitions=config.partitions,
            internal=True,
        )
    pipeline.dead_letter_topic = app.topic(config.topics.dlq, key_serializer="raw",
                                           value_serializer="raw")
    # Imported here: each module registers its agent on this pipeline.
    from agents import engagement, ingest, janitor, mentions, response_time, share_of_voice
    from smm_pulse import api, exporter

    ingest.register(pipeline, bootstrap)
    engagement.register(pipeline)
    mentions.register(pipeline)
    share_of_voice.register(pipeline)
    response_time.register(pipeline)
    janitor.register(pipeline)
    exporter.register(pipeline)
    api.register(pipeline)
    return pipeline
