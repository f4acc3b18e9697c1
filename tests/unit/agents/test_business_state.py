"""The business family's state is exact, per platform and per declared campaign:
duplicates, reordered and replayed ad snapshots, and a crash after any changelog write
change nothing."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from smm_pulse.agents.business import Business
from smm_pulse.kpi.catalog import Family
from smm_pulse.streams.events import Event
from tests.unit.agents.harness import (
    NOW,
    FamilyWorker,
    assert_changes_kept_across_a_rebalance_reach_the_changelog,
    assert_every_crash_replays_exactly,
    events,
)

# The business family, as its agent runs it: Worker(restored tables) runs batches into
# (views per platform, views per declared campaign).
Worker = partial(FamilyWorker, Family.BUSINESS, Business,
                 brand={"campaigns": ["spring", "summer"]},
                 read=lambda business: (business.views(NOW), business.campaign_views(NOW)))
event = events()


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


@pytest.mark.parametrize("flush_every", [1, 2, 3])
def test_a_crash_after_any_changelog_write_replays_to_exact_values(flush_every):
    views, campaigns = assert_every_crash_replays_exactly(
        Worker, list(enumerate(batches())), flush_every)
    assert views["acme", "vk"]["1h"].gained["ad_spend"] == 47.0  # the run did count
    assert campaigns["acme", "spring"]["1h"].gained["ad_spend"] == 40.0


def test_changes_of_a_partition_kept_across_a_rebalance_reach_the_changelog():
    assert_changes_kept_across_a_rebalance_reach_the_changelog(Worker,
                                                               list(enumerate(batches())))


def test_all_business_state_lives_in_one_table_and_ads_are_written_after_their_counters():
    worker = Worker({})
    worker.run(list(enumerate(batches())), flush_every=len(batches()))
    sections = worker.flushed_sections()
    assert set(sections) == {"buckets", "campaign-buckets", "ads", "seen"}
    counters = max(i for i, s in enumerate(sections) if s in ("buckets", "campaign-buckets"))
    assert sections.index("ads") > counters
