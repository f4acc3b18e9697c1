"""Goals checked in-process: each target's condition, grey without a goal or data, brand-level
figures as the recording rules sum them. (tests/unit/tools/test_goals_match_alert_rules.py
checks the conditions against the alert rules under promtool.)"""

from __future__ import annotations

import datetime as dt

import pytest

from smm_pulse.config import parse_config
from smm_pulse.kpi.goals import (
    Check,
    Readings,
    Status,
    brand_sentiment,
    check_goals,
    missed,
)
from tests.unit.core.contract_example import CONTRACT_EXAMPLE

CONFIG = parse_config(CONTRACT_EXAMPLE, "smm.yaml")
NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC).timestamp()  # before the followers goal's date


def readings(*items: tuple[str, dict[str, str], float]) -> Readings:
    return Readings(items)


def check(checks: list[Check], kpi: str, platform: str | None = None) -> Check:
    [found] = [c for c in checks if c.kpi == kpi and c.platform == platform]
    return found


def test_engagement_rate_is_judged_per_platform_at_the_goal_window():
    checks = check_goals(CONFIG, "acme", readings(
        ("smm_engagement_rate_ratio", {"platform": "vk", "window": "24h"}, 0.01),
        ("smm_engagement_rate_ratio", {"platform": "tg", "window": "24h"}, 0.03),
        ("smm_engagement_rate_ratio", {"platform": "tg", "window": "5m"}, 0.0),
    ), NOW)
    vk, tg = check(checks, "engagement_rate", "vk"), check(checks, "engagement_rate", "tg")
    assert (vk.status, vk.value, vk.window) == (Status.MISSED, 0.01, "24h")
    assert (tg.status, tg.value) == (Status.MET, 0.03)  # at the goal meets it, as the rule's <
    assert (vk.relation, vk.target, vk.alert_after) == ("at least", 0.03, "30m")


def test_sentiment_is_the_mean_weighted_by_scored_mentions_over_platforms():
    found = readings(
        ("smm_sentiment_score", {"platform": "vk", "window": "1h"}, -0.5),
        ("smm_window_scored_mentions", {"platform": "vk", "window": "1h"}, 15),
        ("smm_sentiment_score", {"platform": "tg", "window": "1h"}, 0.1),
        ("smm_window_scored_mentions", {"platform": "tg", "window": "1h"}, 10),
    )
    assert brand_sentiment(found, "1h") == pytest.approx((-0.5 * 15 + 0.1 * 10) / 25)
    sentiment = check(check_goals(CONFIG, "acme", found, NOW), "sentiment_score")
    assert sentiment.status is Status.MISSED
    assert sentiment.value == pytest.approx(-0.26)


def test_sentiment_with_fewer_scored_mentions_than_the_goal_asks_is_not_judged():
    sentiment = check(check_goals(CONFIG, "acme", readings(
        ("smm_sentiment_score", {"platform": "vk", "window": "1h"}, -0.9),
        ("smm_window_scored_mentions", {"platform": "vk", "window": "1h"}, 19),
    ), NOW), "sentiment_score")
    assert sentiment.status is Status.NO_DATA and sentiment.value == -0.9
    assert "19 scored mentions" in sentiment.note


def test_no_scored_mention_means_no_sentiment():
    assert brand_sentiment(readings(
        ("smm_window_scored_mentions", {"platform": "vk", "window": "1h"}, 0)), "1h") is None


@pytest.mark.parametrize(("recent", "day", "status"), [
    (100, 400, Status.MISSED),  # 100 in 5m against 300 in the rest of the day
    (100, 28_800, Status.MET),  # as many every 5 minutes all day long
    (49, 49, Status.MET),  # from nothing, but fewer than the 50 the goal needs
    (50, 50, Status.MISSED),  # from nothing, enough of them
])
def test_a_mention_spike_is_the_recent_rate_over_factor_times_the_usual(recent, day, status):
    spike = check(check_goals(CONFIG, "acme", readings(
        ("smm_window_mentions", {"platform": "vk", "window": "5m"}, recent),
        ("smm_window_mentions", {"platform": "vk", "window": "24h"}, day),
    ), NOW), "mention_spike")
    assert spike.status is status
    usual = (day - recent) / (86_400 - 300)
    assert spike.value == (pytest.approx(recent / 300 / usual) if usual else None)


def test_a_mention_spike_is_judged_on_the_windows_the_alert_reads_the_exported_ones():
    config = parse_config(CONTRACT_EXAMPLE + "\nexport: {windows: [1h, 24h]}\n", "smm.yaml")
    spike = check(check_goals(config, "acme", readings(
        ("smm_window_mentions", {"platform": "vk", "window": "5m"}, 100),  # not exported
        ("smm_window_mentions", {"platform": "vk", "window": "1h"}, 100),
        ("smm_window_mentions", {"platform": "vk", "window": "24h"}, 2_400),
    ), NOW), "mention_spike")
    assert spike.window == "1h"
    assert spike.value == pytest.approx((100 / 3600) / (2_300 / (86_400 - 3600)))


def test_share_of_voice_and_response_time_against_their_goals():
    checks = check_goals(CONFIG, "acme", readings(
        ("smm_share_of_voice_ratio", {"window": "24h"}, 0.2),
        ("smm_response_time_seconds", {"platform": "vk", "window": "24h", "stat": "mean"}, 3601),
        ("smm_response_time_seconds", {"platform": "vk", "window": "24h", "stat": "p90"}, 1),
        ("smm_response_time_seconds", {"platform": "tg", "window": "24h", "stat": "mean"}, 3600),
    ), NOW)
    assert check(checks, "share_of_voice").status is Status.MISSED
    assert check(checks, "response_time", "vk").status is Status.MISSED  # the mean, not p90
    assert check(checks, "response_time", "tg").status is Status.MET
    assert {(c.kpi, c.platform) for c in missed(checks)} == {
        ("share_of_voice", None), ("response_time", "vk")}


@pytest.mark.parametrize(("followers", "on", "status"), [
    (50_000, dt.date(2026, 12, 1), Status.MET),
    (49_999, dt.date(2026, 12, 1), Status.OPEN),  # before the date: the rule watches the pace
    (49_999, dt.date(2027, 6, 30), Status.MISSED),  # from the date's midnight UTC, as the rule
])
def test_a_followers_goal_is_met_once_reached_and_missed_once_its_date_comes(
        followers, on, status):
    now = dt.datetime.combine(on, dt.time(), dt.UTC).timestamp()
    goal = check(check_goals(CONFIG, "acme", readings(
        ("smm_followers", {"platform": "vk"}, followers - 1000),
        ("smm_followers", {"platform": "tg"}, 1000),
    ), now), "followers")
    assert (goal.status, goal.value, goal.by) == (status, followers, "2027-06-30")


def test_a_brand_without_targets_shows_its_values_grey():
    checks = check_goals(CONFIG, "globex", readings(
        ("smm_engagement_rate_ratio", {"platform": "vk", "window": "24h"}, 0.001),
        ("smm_followers", {"platform": "vk"}, 10),
    ), NOW)
    assert {c.status for c in checks} == {Status.NO_GOAL}
    assert check(checks, "engagement_rate", "vk").value == 0.001  # the longest window's
    assert check(checks, "followers").value == 10
    assert not missed(checks)


def test_a_goal_without_values_has_no_data_and_is_not_missed():
    checks = check_goals(CONFIG, "acme", readings(), NOW)
    assert [c.kpi for c in checks] == ["engagement_rate", "sentiment_score", "mention_spike",
                                       "share_of_voice", "response_time", "followers",
                                       "conversion_rate", "bounce_rate", "cost_per_click",
                                       "customer_acquisition_cost", "roi"]
    assert {c.status for c in checks} == {Status.NO_DATA}


def test_share_of_voice_is_shown_only_for_a_brand_with_competitors_or_a_goal():
    config = parse_config("brands: {solo: {}, pair: {competitors: [solo]}}", "smm.yaml")
    assert "share_of_voice" not in {c.kpi for c in check_goals(config, "solo", readings(), NOW)}
    assert "share_of_voice" in {c.kpi for c in check_goals(config, "pair", readings(), NOW)}


def test_business_goals_are_judged_per_platform_money_in_the_brands_currency():
    checks = check_goals(CONFIG, "acme", readings(
        ("smm_conversion_rate_ratio", {"platform": "vk", "window": "24h"}, 0.01),
        ("smm_bounce_rate_ratio", {"platform": "vk", "window": "24h"}, 0.6),
        ("smm_cost_per_click", {"platform": "vk", "window": "24h", "currency": "RUB"}, 30.0),
        ("smm_roi_ratio", {"platform": "vk", "window": "24h"}, -0.2),
        ("smm_roi_ratio", {"platform": "tg", "window": "24h"}, 2.0),
    ), NOW)
    conversion = check(checks, "conversion_rate", "vk")
    assert (conversion.status, conversion.relation, conversion.target) == (
        Status.MISSED, "at least", 0.02)
    assert check(checks, "bounce_rate", "vk").status is Status.MET  # at the goal
    cpc = check(checks, "cost_per_click", "vk")
    assert (cpc.status, cpc.unit, cpc.currency, cpc.target, cpc.title) == (
        Status.MISSED, "currency", "RUB", 25, "CPC")
    assert check(checks, "roi", "vk").status is Status.MISSED
    assert check(checks, "roi", "tg").status is Status.MET
    # a goal with nothing to judge it by yet
    assert check(checks, "customer_acquisition_cost").status is Status.NO_DATA


def test_business_kpis_without_a_goal_show_only_where_there_are_figures():
    config = parse_config("brands: {solo: {}}", "smm.yaml")
    kpis = {c.kpi for c in check_goals(config, "solo", readings(), NOW)}
    assert kpis == {"engagement_rate", "sentiment_score", "mention_spike", "response_time",
                    "followers"}
    [roi] = [c for c in check_goals(config, "solo", readings(
        ("smm_roi_ratio", {"platform": "vk", "window": "24h"}, 0.4)), NOW) if c.kpi == "roi"]
    assert (roi.status, roi.value, roi.platform) == (Status.NO_GOAL, 0.4, "vk")
