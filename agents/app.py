"""The Faust application: settings, topics, tables, and the agents wired to them."""

from __future__ import annotations

import functools
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faust
from faust.types import TableT, TopicT
from prometheus_client import CollectorRegistry, Counter

from agents.state import Expiring, Section, Views, WindowBuckets
from agents.transport import Transport
from smm_pulse.broker import end_offsets_skip_last_batch
from smm_pulse.config import Config
from smm_pulse.kpi.catalog import DEAD_LETTERS, EVENTS, LATE_EVENTS, Family
from smm_pulse.windows import Window
from streams.topics import TopicNames, partition_for

DEDUP_EXTRA_SECONDS = 3600  # ids are remembered for the longest window plus one hour


@dataclass
class Pipeline:
    """Everything the agents, the janitor and the exporter share."""

    config: Config
    app: faust.App
    names: TopicNames
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    family_topics: dict[Family, TopicT] = field(default_factory=dict)
    # One table per family (why: agents/state.py, Section); sections by "<family>-<name>".
    tables: dict[Family, TableT] = field(default_factory=dict)
    sections: dict[str, Section] = field(default_factory=dict)
    # Called with (key, value) for each record a family's table restores from its changelog.
    restore_listeners: dict[Family, list[Callable[[str, Any], None]]] = field(
        default_factory=dict)
    # What the janitor expires, and where the exporter reads each family's KPI views.
    expiring: list[tuple[Family, Expiring]] = field(default_factory=list)
    views: dict[Family, Callable[[float], Views]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.windows = tuple(Window.parse(w) for w in self.config.windows)
        # murmur2 is pure Python and brands are few: hash each once.
        self._partitions = functools.lru_cache(maxsize=4096)(
            lambda brand: partition_for(brand, self.config.partitions))
        self.events_total, self.dead_letters_total, self.late_events_total = (
            Counter(m.name, m.help, m.labels, registry=self.registry)
            for m in (EVENTS, DEAD_LETTERS, LATE_EVENTS)
        )

    @property
    def horizon_seconds(self) -> int:
        return self.config.longest_window_seconds

    def is_declared(self, brand: str) -> bool:
        return brand in self.config.brands

    def partition_of(self, brand: str) -> int:
        return self._partitions(brand)

    def owned_partitions(self, family: Family) -> set[int]:
        """Partitions of a family's topic this worker actively owns (not standbys)."""
        topic = self.names.family(family)
        return {tp.partition for tp in self.app.assignor.assigned_actives() if tp.topic == topic}

    def buckets(self, family: Family) -> WindowBuckets:
        """A family's window buckets, expired by the janitor."""
        buckets = WindowBuckets(self.section(family, "buckets"), self.windows, self.partition_of)
        self.expiring.append((family, buckets))
        return buckets

    def section(self, family: Family, name: str) -> Section:
        """A kind of state inside the family's table."""
        section = Section(self.table(family), name)
        self.sections[f"{family.value}-{name}"] = section
        self.on_restore(family, section.on_restored)
        return section

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


SINGLE_RECORD_BATCHES_ENV = "SMM_PULSE_SINGLE_RECORD_BATCHES"  # auto (default), on, off


def single_record_batches(bootstrap: str) -> bool:
    """Whether to trade produce throughput for exact table recovery (see docs/design.md)."""
    choice = os.environ.get(SINGLE_RECORD_BATCHES_ENV, "auto")
    if choice not in ("auto", "on", "off"):
        raise ValueError(f"{SINGLE_RECORD_BATCHES_ENV} must be auto, on or off, not {choice!r}")
    return choice == "on" or (choice == "auto" and end_offsets_skip_last_batch(bootstrap))


class App(faust.App):
    """Faust's app with our consumer fix (agents/transport.py)."""

    def _new_transport(self) -> Transport:
        return Transport(self.conf.broker_consumer, self)


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
        # Table state is idempotent by offset guards; exactly-once is not needed.
        processing_guarantee="at_least_once",
        # Faster failure detection than the defaults, which suit bigger clusters.
        broker_session_timeout=10.0,
        broker_heartbeat_interval=1.0,
        stream_wait_empty=False,
        # One record per produce batch where the broker misreports end offsets.
        **({"producer_max_batch_size": 1} if single_record_batches(bootstrap) else {}),
    )
    pipeline = Pipeline(config, app, TopicNames(config.topics, config.app_id))
    for family in Family:
        pipeline.family_topics[family] = app.topic(
            pipeline.names.family(family),
            key_serializer="raw",
            value_serializer="raw",
            partitions=config.partitions,
            internal=True,
        )
    # Imported here: each module registers its agent on this pipeline.
    from agents import engagement, ingest, janitor, mentions, response_time, share_of_voice
    from smm_pulse import api, exporter

    ingest.register(pipeline)
    engagement.register(pipeline)
    mentions.register(pipeline)
    share_of_voice.register(pipeline)
    response_time.register(pipeline)
    janitor.register(pipeline)
    exporter.register(pipeline)
    api.register(pipeline)
    return pipeline
