"""KPI formulas of the contract (section 3), one pure function each.

Inputs are counters "gained in W" (sums of contributions whose event time lies
in the window) and the latest follower count. A ratio whose denominator is 0,
negative or unknown is absent (None), never 0 or NaN.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

Counters = Mapping[str, float]


def ratio(numerator: float, denominator: float | None) -> float | None:
    if denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def interactions(gained: Counters) -> float:
    """likes + comments + shares + saves (views and clicks are not interactions)."""
    return sum(gained.get(name, 0) for name in ("likes", "comments", "shares", "saves"))


def engagement_rate(gained: Counters, followers: float | None) -> float | None:
    """ER by followers = interactions gained in W / followers (latest, summed over accounts)."""
    return ratio(interactions(gained), followers)


def engagement_rate_reach(gained: Counters) -> float | None:
    """ERR = interactions gained in W / reach gained in W."""
    return ratio(interactions(gained), gained.get("reach"))


def engagement_rate_views(gained: Counters) -> float | None:
    """ER by views = interactions gained in W / views gained in W."""
    return ratio(interactions(gained), gained.get("views"))


def like_rate(gained: Counters, followers: float | None) -> float | None:
    return ratio(gained.get("likes", 0), followers)


def talk_rate(gained: Counters, followers: float | None) -> float | None:
    return ratio(gained.get("comments", 0), followers)


def amplification_rate(gained: Counters, followers: float | None) -> float | None:
    return ratio(gained.get("shares", 0), followers)


def virality_rate(gained: Counters) -> float | None:
    """shares / views, both gained in W."""
    return ratio(gained.get("shares", 0), gained.get("views"))


def click_through_rate(gained: Counters) -> float | None:
    """CTR = clicks / impressions, both gained in W."""
    return ratio(gained.get("clicks", 0), gained.get("impressions"))


def mention_rate(mentions: float, window_seconds: float) -> float:
    """Mentions in W per second of W."""
    return mentions / window_seconds


def audience_growth_rate(start: float | None, end: float | None) -> float | None:
    """(followers at end of W - followers at start of W) / followers at start of W."""
    if start is None or end is None:
        return None
    return ratio(end - start, start)


SENTIMENT_THRESHOLD = 0.05  # VADER's convention


def sentiment_label(score: float) -> str:
    """positive if > 0.05, negative if < -0.05, else neutral."""
    if score > SENTIMENT_THRESHOLD:
        return "positive"
    if score < -SENTIMENT_THRESHOLD:
        return "negative"
    return "neutral"


def sentiment_score(gained: Counters) -> float | None:
    """Mean score of the scored mentions in W."""
    return ratio(gained.get("sentiment_sum", 0), gained.get("scored"))


def sentiment_share(gained: Counters, label: str) -> float | None:
    """Share of the scored mentions in W with this label."""
    return ratio(gained.get(label, 0), gained.get("scored"))


def net_sentiment(gained: Counters) -> float | None:
    """(positive - negative) / (positive + negative), Talkwalker's definition."""
    positive, negative = gained.get("positive", 0), gained.get("negative", 0)
    return ratio(positive - negative, positive + negative)


def share_of_voice(gained: Counters) -> float | None:
    """Brand mentions in W / mentions in W of every brand in its competitive set."""
    return ratio(gained.get("own", 0), gained.get("set"))


def response_time_mean(seconds: Sequence[float]) -> float | None:
    """Mean seconds to the first reply over the answered `in` messages of W."""
    return sum(seconds) / len(seconds) if seconds else None


def response_time_p90(seconds: Sequence[float]) -> float | None:
    """90th percentile of seconds to the first reply."""
    return nearest_rank(seconds, 0.9)


def nearest_rank(values: Sequence[float], fraction: float) -> float | None:
    """Percentile by nearest rank: the ceil(fraction n)-th smallest; None for no values."""
    if not values:
        return None
    return sorted(values)[max(0, math.ceil(fraction * len(values)) - 1)]


# Business outcomes: web-analytics visits, conversions and ad spend from the platform.
# Money is in the brand's one currency, so sums and ratios need no conversion.
CONVERSION_KINDS = ("lead", "signup", "purchase", "other")


def bounce_rate(gained: Counters) -> float | None:
    """Bounced visits / visits in W."""
    return ratio(gained.get("bounced", 0), gained.get("visits"))


def new_visitors_rate(gained: Counters) -> float | None:
    """Visits by new visitors / visits in W."""
    return ratio(gained.get("new_visitors", 0), gained.get("visits"))


def visit_duration_mean(gained: Counters) -> float | None:
    """Mean ``duration_seconds`` over the visits in W that carry one."""
    return ratio(gained.get("duration_sum", 0), gained.get("timed"))


def conversions(gained: Counters, kind: str | None = None) -> float:
    """Conversions in W of one kind, or of every kind."""
    kinds = CONVERSION_KINDS if kind is None else (kind,)
    return sum(gained.get(f"conversions_{k}", 0) for k in kinds)


def conversion_rate(gained: Counters) -> float | None:
    """Conversions of every kind / visits in W."""
    return ratio(conversions(gained), gained.get("visits"))


def cost_per_click(gained: Counters) -> float | None:
    """Ad spend / ad clicks gained in W."""
    return ratio(gained.get("ad_spend", 0), gained.get("ad_clicks"))


def cost_per_mille(gained: Counters) -> float | None:
    """Ad spend per thousand ad impressions gained in W."""
    return ratio(gained.get("ad_spend", 0) * 1000, gained.get("ad_impressions"))


def cost_per_lead(gained: Counters) -> float | None:
    """Ad spend in W / conversions of kind lead in W."""
    return ratio(gained.get("ad_spend", 0), conversions(gained, "lead"))


def customer_acquisition_cost(gained: Counters) -> float | None:
    """CAC = ad spend in W / conversions by new customers in W."""
    return ratio(gained.get("ad_spend", 0), gained.get("new_customers"))


def cost_per_follower(gained: Counters) -> float | None:
    """Ad spend in W / gross follows in W (``follow`` interactions: the engagement family's
    counters, joined to the business family's by the catalog: ``Kpi.joins``)."""
    return ratio(gained.get("ad_spend", 0), gained.get("follows"))


def return_on_investment(gained: Counters) -> float | None:
    """ROI = (revenue - ad spend) / ad spend, in W."""
    spend = gained.get("ad_spend", 0)
    return ratio(gained.get("revenue", 0) - spend, spend)


def return_on_ad_spend(gained: Counters) -> float | None:
    """ROAS = revenue / ad spend, in W."""
    return ratio(gained.get("revenue", 0), gained.get("ad_spend"))
