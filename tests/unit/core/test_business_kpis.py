"""Business KPIs (visits, conversions, ad spend): their formulas and contributions."""

from __future__ import annotations

import pytest

from smm_pulse.contributions import (
    AD_CELLS,
    CONVERSION_CELL,
    GrainSums,
    apply_snapshot,
    conversion_delta,
    declared_campaigns,
    visit_delta,
)
from smm_pulse.kpi import formulas as f
from smm_pulse.kpi.catalog import CATALOG, Family, Scope, View
from smm_pulse.streams.internal import Conversions, Visits

T = 1_800_000_000.0


def test_a_visit_counts_its_flags_and_only_a_known_duration():
    assert visit_delta(False, False, None) == {"visits": 1}
    assert visit_delta(True, True, 12.5) == {"visits": 1, "bounced": 1, "new_visitors": 1,
                                             "duration_sum": 12.5, "timed": 1}
    assert visit_delta(False, False, 0.0) == {"visits": 1, "duration_sum": 0.0, "timed": 1}


def test_a_conversion_counts_toward_its_kind_revenue_and_new_customers():
    assert conversion_delta("lead", None, False) == {"conversions_lead": 1}
    assert conversion_delta("purchase", 99.5, True) == {
        "conversions_purchase": 1, "revenue": 99.5, "new_customers": 1}
    assert set(CONVERSION_CELL) == set(f.CONVERSION_KINDS)


VISITS = Visits(["v1", "v2", "v3"], [T, T + 1, T + 61], ["vk", "vk", "vk"],
                [True, False, True], [True, True, False], [10.0, None, 30.0],
                ["spring", None, "autumn"])
CONVERSIONS = Conversions(["c1", "c2"], [T, T + 2], ["vk", "telegram"], ["lead", "purchase"],
                          [None, 40.25], [False, True], ["spring", "spring"])


def test_visits_and_conversions_are_summed_per_platform_and_grain():
    sums = GrainSums(60)
    sums.add_visits(VISITS)
    sums.add_conversions(CONVERSIONS)
    start = int(T // 60) * 60
    assert sums.cells == {
        ("vk", start, "visits"): 2, ("vk", start, "bounced"): 1,
        ("vk", start, "new_visitors"): 2, ("vk", start, "duration_sum"): 10.0,
        ("vk", start, "timed"): 1,
        ("vk", start + 60, "visits"): 1, ("vk", start + 60, "bounced"): 1,
        ("vk", start + 60, "duration_sum"): 30.0, ("vk", start + 60, "timed"): 1,
        ("vk", start, "conversions_lead"): 1,
        ("telegram", start, "conversions_purchase"): 1, ("telegram", start, "revenue"): 40.25,
        ("telegram", start, "new_customers"): 1,
    }


def test_ad_snapshot_differences_land_in_the_ad_counters():
    kept, at, first = apply_snapshot(None, T, None, (10.5, 100, 2000, None), horizon=T - 3600)
    assert (at, first) == (T, [10.5, 100, 2000, 0])
    kept, at, changes = apply_snapshot(kept, T + 60, None, (25.75, 130, None, 900), T - 3600)
    assert (at, changes) == (T + 60, [15.25, 30, 0, 900])
    sums = GrainSums(60)
    sums.add_post_changes("vk", T + 60, changes, AD_CELLS)
    start = int((T + 60) // 60) * 60
    assert sums.cells == {("vk", start, "ad_spend"): 15.25, ("vk", start, "ad_clicks"): 30,
                          ("vk", start, "ad_reach"): 900}


def test_only_declared_campaigns_are_kept():
    assert declared_campaigns(["spring", None, "autumn", "Spring"], {"spring", "summer"}) == [
        "spring", None, None, None]


def test_visits_and_conversions_of_declared_campaigns_are_summed_per_campaign():
    sums = GrainSums(60)
    sums.add_visits(VISITS, declared_campaigns(VISITS.campaign, {"spring"}))
    sums.add_conversions(CONVERSIONS, declared_campaigns(CONVERSIONS.campaign, {"spring"}))
    start = int(T // 60) * 60
    assert sums.cells == {
        ("spring", start, "visits"): 1, ("spring", start, "bounced"): 1,
        ("spring", start, "new_visitors"): 1, ("spring", start, "duration_sum"): 10.0,
        ("spring", start, "timed"): 1,
        ("spring", start, "conversions_lead"): 1, ("spring", start, "conversions_purchase"): 1,
        ("spring", start, "revenue"): 40.25, ("spring", start, "new_customers"): 1,
    }


GAINED = {"visits": 200, "bounced": 50, "new_visitors": 80, "duration_sum": 3000.0,
          "timed": 100, "conversions_lead": 6, "conversions_signup": 3,
          "conversions_purchase": 1, "revenue": 500.0, "new_customers": 4,
          "ad_spend": 200.0, "ad_clicks": 400, "ad_impressions": 50_000, "follows": 25}


@pytest.mark.parametrize(("formula", "expected"), [
    (f.bounce_rate, 50 / 200),
    (f.new_visitors_rate, 80 / 200),
    (f.visit_duration_mean, 3000 / 100),
    (f.conversion_rate, 10 / 200),
    (f.cost_per_click, 200 / 400),
    (f.cost_per_mille, 200 / 50_000 * 1000),
    (f.cost_per_lead, 200 / 6),
    (f.customer_acquisition_cost, 200 / 4),
    (f.cost_per_follower, 200 / 25),
    (f.return_on_investment, (500 - 200) / 200),
    (f.return_on_ad_spend, 500 / 200),
])
def test_business_formulas(formula, expected):
    assert formula(GAINED) == pytest.approx(expected)


@pytest.mark.parametrize("formula", [
    f.bounce_rate, f.new_visitors_rate, f.visit_duration_mean, f.conversion_rate,
    f.cost_per_click, f.cost_per_mille, f.cost_per_lead, f.customer_acquisition_cost,
    f.cost_per_follower, f.return_on_investment, f.return_on_ad_spend,
])
def test_business_ratios_are_absent_without_their_denominator(formula):
    assert formula({}) is None


def test_conversions_count_one_kind_or_every_kind():
    assert f.conversions(GAINED, "signup") == 3
    assert f.conversions(GAINED) == 10


def test_money_kpis_are_labelled_with_a_currency_and_the_others_are_not():
    business = {k.metric: k for k in CATALOG
                if k.family is Family.BUSINESS and k.scope is Scope.WINDOW}
    money = {m for m, k in business.items() if k.money}
    assert money == {"smm_window_revenue", "smm_window_ad_spend", "smm_cost_per_click",
                     "smm_cost_per_mille", "smm_cost_per_lead", "smm_customer_acquisition_cost",
                     "smm_cost_per_follower"}
    assert all(business[m].labels[-1] == "currency" for m in money)
    assert "currency" not in business["smm_roi_ratio"].labels


def test_conversions_by_kind_are_one_series_per_kind():
    view = View(GAINED, None, 3600)
    by_kind = {dict(k.const_labels)["kind"]: k.value(view)
               for k in CATALOG if k.metric == "smm_window_conversions"}
    assert by_kind == {"lead": 6, "signup": 3, "purchase": 1, "other": 0}


def test_cost_per_follower_reads_the_engagement_familys_follows_joined_to_the_spend():
    [kpi] = [k for k in CATALOG if k.metric == "smm_cost_per_follower"]
    assert (kpi.family, kpi.joins) == (Family.BUSINESS, Family.ENGAGEMENT)
    spend, follows = View({"ad_spend": 120.0}, None, 3600), View({"follows": 40}, 900, 3600)
    assert kpi.value(spend.joined(follows)) == 3.0
    # The view stays its own family's but for the counters added (its own win).
    assert spend.joined(follows) == View({"ad_spend": 120.0, "follows": 40}, None, 3600)
    assert spend.joined(View({"ad_spend": 1.0}, None, 3600)).gained == {"ad_spend": 120.0}
    assert kpi.value(spend) is None  # no follows known: absent
    assert kpi.value(spend.joined(None)) is None


def test_every_business_kpi_but_cost_per_follower_has_a_campaign_twin_with_its_formula():
    platform = [k for k in CATALOG if k.family is Family.BUSINESS and k.scope is Scope.WINDOW]
    campaign = [k for k in CATALOG if k.scope is Scope.CAMPAIGN_WINDOW]
    assert [k.metric for k in campaign] == [
        k.metric.replace("smm_", "smm_campaign_", 1) for k in platform
        if k.metric != "smm_cost_per_follower"]
    view = View(GAINED, None, 3600)
    for twin in campaign:
        [base] = [k for k in platform if k.metric == twin.metric.replace("campaign_", "")
                  and k.const_labels == twin.const_labels]
        assert twin.value is base.value and twin.money == base.money
        assert twin.value(view) == base.value(view)
        assert twin.labels == ("brand", "campaign", "window", *dict(twin.const_labels),
                               *(("currency",) if twin.money else ()))
        assert twin.title == base.title
