"""Duplicate detection state (agents/state.py) on an in-memory stand-in for a Faust table."""

from __future__ import annotations

from typing import Any

import pytest

from agents.state import Section, SeenEventIds, WindowBuckets, key_parts
from smm_pulse.contributions import Contribution
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


def section(table: DictTable | None = None, name: str = "seen") -> Section:
    # seen ids are keyed by (partition, offset); every test brand is on partition 0
    return Section(DictTable() if table is None else table, name,
                   lambda parts: parts[0] if name == "seen" else 0)


def records(*ids: str, ts: float = 1_000.0) -> list[dict]:
    return [{"brand": "acme", "event_id": i, "ts": ts} for i in ids]


def test_ids_seen_in_an_earlier_batch_or_earlier_in_the_batch_are_duplicates():
    seen = SeenEventIds(section(), retention_seconds=3_600)
    fresh, dups = seen.split(records("a", "b", "a"), partition=0, offset=1)
    assert [r["event_id"] for r in fresh] == ["a", "b"]
    assert [r["event_id"] for r in dups] == ["a"]
    fresh, dups = seen.split(records("b", "c"), partition=0, offset=2)
    assert ([r["event_id"] for r in fresh], [r["event_id"] for r in dups]) == (["c"], ["b"])


def test_a_replayed_batch_is_not_a_duplicate_of_itself():
    table = DictTable()
    SeenEventIds(section(table), retention_seconds=3_600).split(records("a"), partition=0,
                                                                offset=7)
    restarted = SeenEventIds(section(table), retention_seconds=3_600)
    for key, value in table.items():  # what changelog recovery replays
        restarted.on_changelog_value(key, value)
    fresh, _ = restarted.split(records("a"), partition=0, offset=7)
    assert [r["event_id"] for r in fresh] == ["a"]
    _, dups = restarted.split(records("a"), partition=0, offset=8)
    assert [r["event_id"] for r in dups] == ["a"]


def test_ids_are_forgotten_after_retention_only_in_owned_partitions():
    seen = SeenEventIds(section(), retention_seconds=100)
    seen.split(records("a", ts=0), partition=0, offset=1)
    seen.split(records("b", ts=0), partition=1, offset=1)
    for table_value in seen.section.table.values():
        table_value["w"] = 0  # arrived long ago
    expired = seen.expire(now=1_000, owned={0})
    assert [key_parts(k) for k in expired] == [["seen", 0, 1]]
    fresh, _ = seen.split(records("a", ts=1_000), partition=0, offset=9)
    assert fresh  # forgotten, so accepted again


def test_a_replayed_batch_does_not_add_its_counters_twice():
    buckets = WindowBuckets(section(name="buckets"), [Window.parse("5m")])
    for offset in (3, 3, 2):  # a replay of 3, and an older batch arriving after it
        buckets.apply(offset, "acme", "vk", [Contribution(1_000, {"likes": 2})], now=1_010)
    views = buckets.views(now=1_010)
    assert views["acme", "vk"]["5m"].gained == {"likes": 2}


def test_the_total_view_carries_the_newest_bucket_with_events_as_freshness():
    buckets = WindowBuckets(section(name="buckets"), [Window.parse("5m")])
    buckets.apply(1, "acme", "vk", [Contribution(1_003, {"likes": 1}),
                                    Contribution(1_017, {"likes": 1})], now=1_020)
    assert buckets.views(now=1_020)["acme", "vk"]["total"].newest_event == 1_015
    assert buckets.views(now=2_000)["acme", "vk"]["total"].newest_event is None  # window passed


def test_ids_are_kept_an_hour_past_the_longest_window_unless_configured(monkeypatch):
    from agents.app import DEDUP_EXTRA_ENV, dedup_extra_seconds

    monkeypatch.delenv(DEDUP_EXTRA_ENV, raising=False)
    assert dedup_extra_seconds() == 3600
    monkeypatch.setenv(DEDUP_EXTRA_ENV, "60")
    assert dedup_extra_seconds() == 60
    for wrong in ("-1", "an hour", "inf", "nan"):
        monkeypatch.setenv(DEDUP_EXTRA_ENV, wrong)
        with pytest.raises(ValueError, match=DEDUP_EXTRA_ENV):
            dedup_extra_seconds()
