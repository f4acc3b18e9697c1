"""The business family's state is exact: duplicates, reordered and replayed ad snapshots,
and a crash after any changelog write change nothing."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from smm_pulse.agents.business import Business
from smm_pulse.kpi.catalog import Family
from smm_pulse.streams.events import Event
from tests.unit.agents.harness import (
    FamilyWorker,
    assert_changes_kept_across_a_rebalance_reach_the_changelog,
    assert_every_crash_replays_exactly,
    events,
)

# The business family, as its agent runs it: Worker(restored tables).
Worker = partial(FamilyWorker, Family.BUSINESS, Business)
event = events()


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


@pytest.mark.parametrize("flush_every", [1, 2, 3])
def test_a_crash_after_any_changelog_write_replays_to_exact_values(flush_every):
    expected = assert_every_crash_replays_exactly(Worker, list(enumerate(batches())),
                                                  flush_every)
    assert expected["acme", "vk"]["1h"].gained["ad_spend"] == 40.0  # the run did count


def test_changes_of_a_partition_kept_across_a_rebalance_reach_the_changelog():
    assert_changes_kept_across_a_rebalance_reach_the_changelog(Worker,
                                                               list(enumerate(batches())))


def test_all_business_state_lives_in_one_table_and_ads_are_written_after_their_counters():
    worker = Worker({})
    worker.run(list(enumerate(batches())), flush_every=len(batches()))
    sections = worker.flushed_sections()
    assert set(sections) == {"buckets", "ads", "seen"}
    assert sections.index("ads") > max(i for i, s in enumerate(sections) if s == "buckets")
