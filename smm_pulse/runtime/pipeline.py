"""The pipeline: what the agents, the janitor and the web layer share about one worker's state.

It holds the configuration, the Faust app, the topics and tables, the state
sections of each KPI family and the service's own counters; the agents add
their state to it when they register (smm_pulse/wiring.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from faust.types import TableT, TopicT
from prometheus_client import CollectorRegistry, Counter, Histogram

from smm_pulse.config import Config
from smm_pulse.kpi.catalog import COMMIT_FLUSH, DEAD_LETTERS, EVENTS, INTERNAL_ERRORS, LATE_EVENTS
from smm_pulse.runtime.faust_app import App
from smm_pulse.state import Expiring, Parts, Section, SeenEventIds, Views, WindowBuckets
from smm_pulse.streams.dead_letters import DeadLetter
from smm_pulse.streams.events import KNOWN_PLATFORMS, Declared
from smm_pulse.streams.topics import BrandPartitions, Family, TopicNames
from smm_pulse.windows import Window

# Seconds; 2.8 is Faust's commit interval (broker_commit_interval): a flush over it delays
# the next commit.
FLUSH_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 2.8, 5.0, 10.0, 30.0)


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
    window_buckets: list[tuple[Family, WindowBuckets]] = field(default_factory=list)
    views: dict[Family, Callable[[float], Views]] = field(default_factory=dict)
    # The views per (brand, campaign) of families with figures per campaign (business).
    campaign_views: dict[Family, Callable[[float], Views]] = field(default_factory=dict)
    # Rankings read by the API and the live page ("top-posts", "top-authors"):
    # (brand, platform or None for all, window name, limit, now) -> rows, best first.
    rankings: dict[str, Callable[[str, str | None, str, int, float], list[dict[str, Any]]]] = (
        field(default_factory=dict))
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
        self.commit_flush_seconds = Histogram(COMMIT_FLUSH.name, COMMIT_FLUSH.help,
                                              registry=self.registry, buckets=FLUSH_BUCKETS)

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
        brands = self.config.brands
        return Declared(brands.__contains__, platforms.__contains__,
                        lambda brand: brands[brand].currency)

    def owned_partitions(self, family: Family) -> set[int]:
        """Partitions of a family's topic this worker actively owns (not standbys)."""
        return self.family_partitions(self.app.assignor.assigned_actives(), family)

    def buckets(self, family: Family, name: str = "buckets", *,
                totals: bool = True) -> WindowBuckets:
        """Window buckets in a section of the family's table, expired by the janitor."""
        buckets = WindowBuckets(self.section(family, name), self.windows, totals=totals)
        self.on_restore(family, buckets.on_restored)
        self.expiring.append((family, buckets))
        self.window_buckets.append((family, buckets))
        return buckets

    def seen_ids(self, family: Family) -> SeenEventIds:
        """A family's duplicate detection, expired by the janitor."""
        # Keyed by the batch's (partition, offset): the partition is the first part.
        seen = SeenEventIds(self.section(family, "seen", partition_of=lambda parts: parts[0]),
                            self.horizon_seconds + self.config.dedup_extra_seconds)
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

    def flush_state(self) -> dict[TableT, set[int]]:
        """Send every section's changes to the changelogs; the partitions written per table.

        Baseline sections go last: a crash during the flush may keep counters
        that already include a snapshot's difference while losing the post
        state it came from (the replay then recomputes it and the counters'
        offset guards skip it), never the other way round. Buckets settle
        first, so the counters hold every post snapshot written so far.
        """
        self.settle_buckets()
        written: dict[TableT, set[int]] = {}
        for family, table in self.tables.items():
            owned = self.owned_partitions(family)
            for section in sorted(self.sections_of(family), key=lambda s: s.baseline):
                written.setdefault(table, set()).update(section.flush(owned))
        return written

    def flushed(self, seconds: float) -> None:
        self.commit_flush_seconds.observe(seconds)

    def settle_buckets(self) -> None:
        """Add the batches window buckets keep until read (``WindowBuckets.settle``)."""
        for _family, buckets in self.window_buckets:
            buckets.settle()

    def hold_changes(self, revoked: set[int], family: Family) -> None:
        """Set aside unflushed changes of revoked partitions (``Section.hold_changes``).

        Kept bucket batches are added first: memory holds every batch
        processed, as it did when batches were added one by one.
        """
        for owner, buckets in self.window_buckets:
            if owner is family:
                buckets.settle()
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
