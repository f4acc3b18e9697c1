"""The business family's state is exact, per platform and per declared campaign:
duplicates, reordered and replayed ad snapshots, and a crash after any changelog write
change nothing."""

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
        self.pipeline = one_brand_pipeline(campaigns=["spring", "summer"])
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
        return self.business.views(NOW), self.business.campaign_views(NOW)


def event(type_: str, n: int, ago: float, **fields: Any) -> Event:
    raw = {"type": type_, "event_id": f"e{n}", "ts": NOW - ago, "brand": "acme",
           "platform": "vk", **fields}
    parsed = parse_message(orjson.dumps(raw), Declared(lambda _brand: True), NOW)
    assert not parsed.rejected, parsed.rejected
    return parsed.accepted[0]


def ad(n: int, ago: float, **totals: Any) -> Event:
    return event("ad_metrics", n, ago, account="cabinet", ad_id="a1", campaign="spring",
                 **totals)


def batches() -> list[list[Event]]:
    return [
        [ad(1, 600, spend=10.5, clicks=20, impressions=1000),
         event("visit", 2, 500, bounced=True, duration_seconds=12.5, campaign="spring")],
        [event("conversion", 3, 400, kind="lead", campaign="summer"),
         ad(4, 350, spend=30.25, clicks=50),
         event("visit", 5, 350, new_visitor=True, campaign="undeclared")],
        [event("conversion", 6, 200, kind="purchase", value=99.5, new_customer=True,
               campaign="spring"),
         event("visit", 5, 350, new_visitor=True, campaign="spring"),  # a duplicate id
         ad(7, 450, spend=99.0, clicks=999)],  # older than the kept snapshot: nothing
        [ad(8, 100, spend=40.0, clicks=60, impressions=3000),
         # Another ad of no declared campaign: the brand's figures only.
         event("ad_metrics", 9, 100, account="cabinet", ad_id="a2", spend=7.0,
               campaign="winter")],
    ]


EXPECTED_1H = {"ad_spend": 47.0, "ad_clicks": 60, "ad_impressions": 3000, "visits": 2,
               "bounced": 1, "new_visitors": 1, "duration_sum": 12.5, "timed": 1,
               "conversions_lead": 1, "conversions_purchase": 1, "revenue": 99.5,
               "new_customers": 1}


def gained(views: Any, pair: tuple[str, str], window: str) -> dict[str, float]:
    return {k: v for k, v in views[pair][window].gained.items() if v}


def test_ads_visits_and_conversions_sum_to_exact_window_counters():
    views, _campaigns = Worker({}).run(list(enumerate(batches())))
    assert gained(views, ("acme", "vk"), "1h") == EXPECTED_1H
    # 5m: the purchase and the last ad snapshots' differences
    assert gained(views, ("acme", "vk"), "5m") == {
        "conversions_purchase": 1, "revenue": 99.5, "new_customers": 1,
        "ad_spend": 40.0 - 30.25 + 7.0, "ad_clicks": 10, "ad_impressions": 2000}


def test_declared_campaigns_get_their_own_exact_counters():
    _views, campaigns = Worker({}).run(list(enumerate(batches())))
    assert set(campaigns) == {("acme", "spring"), ("acme", "summer")}
    # Every snapshot of ad a1 names spring: its totals at the last one; the visit of an
    # undeclared campaign and ad a2's spend (winter) count in the brand's figures only.
    assert gained(campaigns, ("acme", "spring"), "1h") == {
        "ad_spend": 40.0, "ad_clicks": 60, "ad_impressions": 3000, "visits": 1,
        "bounced": 1, "duration_sum": 12.5, "timed": 1, "conversions_purchase": 1,
        "revenue": 99.5, "new_customers": 1}
    assert gained(campaigns, ("acme", "summer"), "1h") == {"conversions_lead": 1}


def test_an_ad_snapshots_gains_count_toward_the_campaign_it_names():
    moved = [[ad(1, 600, spend=10.0)],
             [event("ad_metrics", 2, 300, account="cabinet", ad_id="a1", spend=25.0,
                    campaign="summer")],
             [event("ad_metrics", 3, 200, account="cabinet", ad_id="a1", spend=26.0)]]
    views, campaigns = Worker({}).run(list(enumerate(moved)))
    assert gained(views, ("acme", "vk"), "1h") == {"ad_spend": 26.0}
    assert gained(campaigns, ("acme", "spring"), "1h") == {"ad_spend": 10.0}
    assert gained(campaigns, ("acme", "summer"), "1h") == {"ad_spend": 15.0}


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
