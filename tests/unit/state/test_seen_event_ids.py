"""Duplicate detection state (smm_pulse/state) on an in-memory stand-in for a Faust table."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from smm_pulse.state import Section, SeenEventIds, WindowBuckets
from smm_pulse.streams.internal import Block
from smm_pulse.windows import Window


class DictTable(dict):
    """The part of a Faust table the state classes use: a mapping with ``data``, and the
    changelog records a flush sends ((partition, key, value), in order)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.changelog: list[tuple[int, str, Any]] = []

    @property
    def data(self) -> dict:
        return self

    def send_changelog(self, partition: int, key: str, value: Any) -> None:
        self.changelog.append((partition, key, value))


def cells(platform: str, contributions: Iterable[tuple[float, dict[str, float]]]
          ) -> dict[tuple[str, float, str], float]:
    """Contributions (event time, counters) of one platform as ``WindowBuckets.apply``
    takes them: summed per (platform, time, counter)."""
    found: dict[tuple[str, float, str], float] = {}
    for ts, deltas in contributions:
        for counter, amount in deltas.items():
            found[platform, ts, counter] = found.get((platform, ts, counter), 0) + amount
    return found


def section(table: DictTable | None = None, name: str = "seen") -> Section:
    # seen ids are keyed by (partition, offset); every test brand is on partition 0
    return Section(DictTable() if table is None else table, name,
                   lambda parts: parts[0] if name == "seen" else 0)


def records(*ids: str, ts: float = 1_000.0, brand: str = "acme") -> dict[str, list[Block]]:
    """A message's events of one brand (what the state reads of them)."""
    return {brand: [Block(event_id=list(ids), ts=[ts] * len(ids))]}


def event_ids(by_brand: dict[str, list[Block]], brand: str = "acme") -> list[str]:
    return [event_id for block in by_brand.get(brand, []) for event_id in block.event_id]


def test_ids_seen_in_an_earlier_batch_or_earlier_in_the_batch_are_duplicates():
    seen = SeenEventIds(section(), retention_seconds=3_600)
    fresh, dups = seen.split(0, 1, records("a", "b", "a"))
    assert event_ids(fresh) == ["a", "b"]
    assert event_ids(dups) == ["a"]
    fresh, dups = seen.split(0, 2, records("b", "c"))
    assert (event_ids(fresh), event_ids(dups)) == (["c"], ["b"])


def test_ids_are_duplicates_per_brand():
    seen = SeenEventIds(section(), retention_seconds=3_600)
    seen.split(0, 1, records("a"))
    fresh, dups = seen.split(0, 2, {**records("a", brand="globex"), **records("a", "b")})
    assert (event_ids(fresh, "globex"), event_ids(fresh), event_ids(dups)) == (
        ["a"], ["b"], ["a"])


def test_a_replayed_batch_is_not_a_duplicate_of_itself():
    table = DictTable()
    SeenEventIds(section(table), retention_seconds=3_600).split(0, 7, records("a"))
    restarted = SeenEventIds(section(table), retention_seconds=3_600)
    for key, value in table.items():  # what changelog recovery replays
        restarted.on_changelog_value(key, value)
    fresh, _ = restarted.split(0, 7, records("a"))
    assert event_ids(fresh) == ["a"]
    _, dups = restarted.split(0, 8, records("a"))
    assert event_ids(dups) == ["a"]


def test_ids_are_forgotten_after_retention_only_in_owned_partitions():
    seen = SeenEventIds(section(), retention_seconds=100)
    seen.split(0, 1, records("a", ts=0))
    seen.split(1, 1, records("b", ts=0))
    for table_value in seen.section.table.values():
        table_value["w"] = 0  # arrived long ago
    expired = seen.expire(now=1_000, owned={0})
    assert expired == [(0, 1)]
    fresh, _ = seen.split(0, 9, records("a", ts=1_000))
    assert fresh  # forgotten, so accepted again


def test_a_replayed_batch_does_not_add_its_counters_twice():
    buckets = WindowBuckets(section(name="buckets"), [Window.parse("5m")])
    for offset in (3, 3, 2):  # a replay of 3, and an older batch arriving after it
        buckets.apply(offset, "acme", cells("vk", [(1_000, {"likes": 2})]), now=1_010)
    views = buckets.views(now=1_010)
    assert views["acme", "vk"]["5m"].gained == {"likes": 2}


def test_the_total_view_carries_the_newest_bucket_with_events_as_freshness():
    buckets = WindowBuckets(section(name="buckets"), [Window.parse("5m")])
    buckets.apply(1, "acme", cells("vk", [(1_003, {"likes": 1}), (1_017, {"likes": 1})]),
                  now=1_020)
    assert buckets.views(now=1_020)["acme", "vk"]["total"].newest_event == 1_015
    assert buckets.views(now=2_000)["acme", "vk"]["total"].newest_event is None  # window passed
