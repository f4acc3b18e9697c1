"""The business family's state is exact: duplicates, reordered and replayed ad snapshots,
and a crash after any changelog write change nothing."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from smm_pulse.agents.business import Business
from smm_pulse.agents.family import Batch
from smm_pulse.agents.ingest import Packer
from smm_pulse.kpi.catalog import Family
from smm_pulse.streams.events import Declared, Event, parse_message
from smm_pulse.streams.internal import decode
from tests.unit.agents.test_crash_recovery import (
    NOW,
    StubApp,
    crash_points,
    one_brand_pipeline,
    restored_prefix,
)


class Worker:
    """The business family with duplicate detection, as its agent runs it."""

    def __init__(self, restored: dict[str, dict[str, Any]]) -> None:
        self.pipeline = one_brand_pipeline()
        self.app: StubApp = self.pipeline.app  # type: ignore[assignment]
        self.business = Business(self.pipeline)
        self.seen = self.pipeline.seen_ids(Family.BUSINESS)
        self.flushes: list[tuple[int, int]] = []  # (changelog length, offset to commit)
        for name, records in restored.items():
            self.app.tables[name].data.update(records)
            for key, value in records.items():
                for listener in self.pipeline.restore_listeners[Family.BUSINESS]:
                    listener(key, value)

    def run(self, numbered: list[tuple[int, list[Event]]], flush_every: int = 1) -> Any:
        for i, (offset, events) in enumerate(numbered, start=1):
            packer = Packer(lambda _brand: 0)
            packer.add("smm.engagement", events, size=0)
            [(family, _partition, body)] = packer.messages()
            assert family is Family.BUSINESS
            fresh, _duplicates = self.seen.split(0, offset, decode(body).blocks)
            if fresh:
                blocks = {type(block): block for block in fresh["acme"]}
                self.business.handle(Batch(offset, "acme", blocks, NOW))
            if i % flush_every == 0 or i == len(numbered):
                self.pipeline.flush_state()
                [table] = self.app.tables.values()
                self.flushes.append((len(table.log), offset + 1))
        return self.business.views(NOW)


def event(type_: str, n: int, ago: float, **fields: Any) -> Event:
    raw = {"type": type_, "event_id": f"e{n}", "ts": NOW - ago, "brand": "acme",
           "platform": "vk", **fields}
    parsed = parse_message(orjson.dumps(raw), Declared(lambda _brand: True), NOW)
    assert not parsed.rejected, parsed.rejected
    return parsed.accepted[0]


def ad(n: int, ago: float, **totals: Any) -> Event:
    return event("ad_metrics", n, ago, account="cabinet", ad_id="a1", **totals)


def batches() -> list[list[Event]]:
    return [
        [ad(1, 600, spend=10.5, clicks=20, impressions=1000),
         event("visit", 2, 500, bounced=True, duration_seconds=12.5)],
        [event("conversion", 3, 400, kind="lead"),
         ad(4, 350, spend=30.25, clicks=50),
         event("visit", 5, 350, new_visitor=True)],
        [event("conversion", 6, 200, kind="purchase", value=99.5, new_customer=True),
         event("visit", 5, 350, new_visitor=True),  # a duplicate id
         ad(7, 450, spend=99.0, clicks=999)],  # older than the kept snapshot: nothing
        [ad(8, 100, spend=40.0, clicks=60, impressions=3000)],
    ]


EXPECTED_1H = {"ad_spend": 40.0, "ad_clicks": 60, "ad_impressions": 3000, "visits": 2,
               "bounced": 1, "new_visitors": 1, "duration_sum": 12.5, "timed": 1,
               "conversions_lead": 1, "conversions_purchase": 1, "revenue": 99.5,
               "new_customers": 1}


def test_ads_visits_and_conversions_sum_to_exact_window_counters():
    views = Worker({}).run(list(enumerate(batches())))
    gained = {k: v for k, v in views["acme", "vk"]["1h"].gained.items() if v}
    assert gained == EXPECTED_1H
    # 5m: the purchase and the last ad snapshot's difference
    assert {k: v for k, v in views["acme", "vk"]["5m"].gained.items() if v} == {
        "conversions_purchase": 1, "revenue": 99.5, "new_customers": 1,
        "ad_spend": 40.0 - 30.25, "ad_clicks": 10, "ad_impressions": 2000}


def test_replaying_every_batch_changes_nothing():
    numbered = list(enumerate(batches()))
    worker = Worker({})
    expected = worker.run(numbered)
    assert worker.run(numbered) == expected


@pytest.mark.parametrize("flush_every", [1, 2])
def test_a_crash_after_any_changelog_write_replays_to_exact_values(flush_every):
    numbered = list(enumerate(batches()))
    uninterrupted = Worker({})
    expected = uninterrupted.run(numbered, flush_every)
    [(name, table)] = uninterrupted.app.tables.items()
    for cut in crash_points(len(table.log)):
        restored = {name: restored_prefix(table.log, cut)}
        commits = [0] + [offset for end, offset in uninterrupted.flushes if end <= cut]
        for replay_from in set(commits[-2:]):
            replayed = Worker(restored).run(numbered[replay_from:], flush_every)
            assert replayed == expected, (cut, replay_from)
