"""KPI formulas (docs/contract.md, section 3) and trailing windows, without a broker."""

from __future__ import annotations

import pytest

from smm_pulse.kpi import formulas as f
from smm_pulse.windows import Window


def test_interactions_exclude_views_and_clicks():
    gained = {"likes": 5, "comments": 2, "shares": 1, "saves": 1, "views": 100, "clicks": 9}
    assert f.interactions(gained) == 9


def test_engagement_rate_by_followers():
    assert f.engagement_rate({"likes": 30, "comments": 10}, 1_000) == 0.04


@pytest.mark.parametrize("denominator", [0, -5, None])
def test_ratio_with_zero_negative_or_unknown_denominator_is_absent(denominator):
    assert f.engagement_rate({"likes": 3}, denominator) is None
    assert f.ratio(1, denominator) is None


def test_reach_and_views_based_rates_can_exceed_one_and_be_absent():
    assert f.engagement_rate_reach({"likes": 30, "reach": 20}) == 1.5
    assert f.engagement_rate_reach({"likes": 30}) is None
    assert f.engagement_rate_views({"likes": 1, "views": 4}) == 0.25
    assert f.virality_rate({"shares": 2, "views": 8}) == 0.25
    assert f.click_through_rate({"clicks": 3, "impressions": 300}) == 0.01


def test_follower_based_rates():
    gained = {"likes": 20, "comments": 5, "shares": 2}
    assert f.like_rate(gained, 100) == 0.2
    assert f.talk_rate(gained, 100) == 0.05
    assert f.amplification_rate(gained, 100) == 0.02


def test_mention_rate_is_per_second_of_the_window():
    assert f.mention_rate(30, 300) == 0.1


def test_window_buckets_are_a_sixtieth_of_the_window():
    assert Window.parse("5m").bucket_seconds == 5
    assert Window.parse("24h").bucket_seconds == 1440
    assert Window.parse("5m").bucket_of(1_000_003) == 1_000_000


def test_window_covers_recent_buckets_and_expires_old_ones():
    window = Window.parse("5m")
    now = 10_000.0
    assert window.covers(window.bucket_of(now), now)
    assert window.covers(window.bucket_of(now - 299), now)
    assert not window.covers(window.bucket_of(now - 306), now)
    assert window.is_expired(window.bucket_of(now - 306), now)
    assert not window.covers(window.bucket_of(now + 60), now)  # future: not yet in the window


def test_audience_growth_rate():
    assert f.audience_growth_rate(1_000, 1_100) == 0.1
    assert f.audience_growth_rate(1_000, 900) == -0.1
    assert f.audience_growth_rate(0, 10) is None
    assert f.audience_growth_rate(None, 10) is None


def test_sentiment_labels_use_the_005_thresholds():
    assert [f.sentiment_label(s) for s in (0.051, 0.05, -0.05, -0.051)] == [
        "positive", "neutral", "neutral", "negative"]


def test_sentiment_aggregates_and_net_sentiment():
    gained = {"scored": 4, "sentiment_sum": 1.0, "positive": 2, "negative": 1, "neutral": 1}
    assert f.sentiment_score(gained) == 0.25
    assert f.sentiment_share(gained, "positive") == 0.5
    assert f.net_sentiment(gained) == pytest.approx(1 / 3)
    assert f.net_sentiment({"neutral": 3, "scored": 3}) is None
    assert f.sentiment_score({"mentions": 3}) is None


def test_share_of_voice_is_own_over_the_competitive_set():
    assert f.share_of_voice({"own": 4, "set": 6}) == pytest.approx(2 / 3)
    assert f.share_of_voice({"set": 5}) == 0
    assert f.share_of_voice({}) is None


def test_response_time_mean_and_nearest_rank_p90():
    times = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110]
    assert f.response_time_mean([10, 20]) == 15
    assert f.response_time_p90(times) == 100  # ceil(0.9 * 11) = 10th smallest
    assert f.response_time_p90([5]) == 5
    assert f.response_time_mean([]) is None and f.response_time_p90([]) is None


def test_nearest_rank_p99_is_the_worst_only_below_a_hundred_values():
    hundred = list(range(100, 0, -1))  # unsorted on purpose
    assert f.nearest_rank(hundred, 0.99) == 99  # ceil(99) = 99th smallest, not the maximum
    assert f.nearest_rank(list(range(1, 61)), 0.99) == 60  # ceil(59.4) = 60th: the worst
    assert f.nearest_rank([3.0], 0.5) == 3.0 and f.nearest_rank([], 0.99) is None
