"""The KPI catalog: one entry per exported metric.

It drives the Prometheus exporter and the metrics docs (``smm-pulse docs
metrics``); adding a KPI is one entry here plus its formula in ``formulas``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from smm_pulse.kpi import formulas as f
from smm_pulse.streams.topics import Family


class Scope(StrEnum):
    WINDOW = "window"  # gauge over a trailing window: labels brand, platform, window
    CURRENT = "current"  # gauge of the latest value: labels brand, platform
    TOTAL = "total"  # counter since the beginning: labels brand, platform
    BRAND_WINDOW = "brand_window"  # gauge over a trailing window, all platforms: brand, window
    # gauge over a trailing window, all platforms, per declared campaign: brand, campaign, window
    CAMPAIGN_WINDOW = "campaign_window"


@dataclass(slots=True)
class View:
    """What a KPI is computed from for one (brand, platform) and, for WINDOW, one window."""
    # Not frozen: one per window and pair at every read, and frozen costs ~4x to build.

    gained: Mapping[str, float]  # counters gained in the window (or in total for TOTAL)
    followers: float | None  # latest followers summed over accounts, None if unknown
    window_seconds: float
    followers_start: float | None = None  # at the window's start (audience growth)
    response_times: tuple[float, ...] = ()  # seconds to first reply of answered `in` messages
    unanswered: int = 0  # `in` messages in the window with no reply yet
    newest_event: float | None = None  # TOTAL view: start of the newest bucket with events

    def joined(self, other: View | None) -> View:
        """This view with another family's counters of the same pair and window added
        (``Kpi.joins``); families name their counters apart (``follows``, ``ad_spend``)."""
        if other is None:
            return self
        # Built field by field: dataclasses.replace costs three times as much, and a scrape
        # joins a view per pair and window.
        return View({**other.gained, **self.gained}, self.followers, self.window_seconds,
                    self.followers_start, self.response_times, self.unanswered,
                    self.newest_event)


@dataclass(frozen=True, slots=True)
class Kpi:
    metric: str
    help: str
    family: Family
    scope: Scope
    value: Callable[[View], float | None]
    unit: str  # for dashboards and docs: ratio, count, followers, per_second, seconds, ...
    const_labels: tuple[tuple[str, str], ...] = ()  # e.g. (("stat", "p90"),)
    # An amount of money: labelled ``currency``, the brand's configured one (bounded: one
    # per brand), after the constant labels.
    money: bool = False
    # Another family whose counters of the same (brand, platform) and window the formula also
    # reads: the exporter joins that family's view to this one's (``View.joined``). The KPI
    # is read for the pairs of its own family, where both families' state is (one brand
    # partition of every family topic: one owner).
    joins: Family | None = None

    @property
    def labels(self) -> tuple[str, ...]:
        return (LABELS[self.scope] + tuple(name for name, _ in self.const_labels)
                + (("currency",) if self.money else ()))

    @property
    def sample_name(self) -> str:
        """The name /metrics writes: a counter's ends in ``_total``."""
        total = self.metric.removesuffix("_total") + "_total"
        return total if self.scope is Scope.TOTAL else self.metric

    @property
    def title(self) -> str:
        """A short human name (dashboards): the metric name without prefix and unit."""
        metric = self.metric.replace(CAMPAIGN_PREFIX, "smm_", 1)  # titled as the brand's
        name = metric.removeprefix("smm_").removeprefix("window_")
        for suffix in ("_ratio", "_seconds", "_per_second"):
            name = name.removesuffix(suffix)
        return TITLES.get(metric, name.replace("_", " ").capitalize())


TITLES = {  # where the derived title would not say it
    "smm_engagement_rate_ratio": "ER by followers",
    "smm_engagement_rate_reach_ratio": "ERR (by reach)",
    "smm_engagement_rate_views_ratio": "ER by views",
    "smm_click_through_rate_ratio": "CTR",
    "smm_cost_per_click": "CPC",
    "smm_cost_per_mille": "CPM",
    "smm_customer_acquisition_cost": "CAC",
    "smm_roi_ratio": "ROI",
    "smm_roas_ratio": "ROAS",
}


LABELS: dict[Scope, tuple[str, ...]] = {
    Scope.WINDOW: ("brand", "platform", "window"),
    Scope.CURRENT: ("brand", "platform"),
    Scope.TOTAL: ("brand", "platform"),
    Scope.BRAND_WINDOW: ("brand", "window"),
    Scope.CAMPAIGN_WINDOW: ("brand", "campaign", "window"),
}

# Business KPIs per declared campaign are metrics of their own (Prometheus wants one label
# set per metric name, and sums over a brand's platforms must not meet campaign series).
CAMPAIGN_PREFIX = "smm_campaign_"


def per_campaign(kpi: Kpi) -> Kpi:
    """A business KPI per declared campaign over all platforms: the same formula on the
    campaign's counters, under the name ``smm_campaign_<name without smm_>``."""
    return replace(kpi, metric=CAMPAIGN_PREFIX + kpi.metric.removeprefix("smm_"),
                   scope=Scope.CAMPAIGN_WINDOW,
                   help=f"{kpi.help}; per declared campaign, over all platforms")


def _gained(name: str) -> Callable[[View], float]:
    return lambda v: v.gained.get(name, 0)


E, M, V, R = Family.ENGAGEMENT, Family.MENTIONS, Family.VOICE, Family.RESPONSE
B = Family.BUSINESS
W, C, T, BW = Scope.WINDOW, Scope.CURRENT, Scope.TOTAL, Scope.BRAND_WINDOW

CATALOG: tuple[Kpi, ...] = (
    Kpi("smm_engagement_rate_ratio", "ER by followers: interactions gained in the window / "
        "followers", E, W, lambda v: f.engagement_rate(v.gained, v.followers), "ratio"),
    Kpi("smm_engagement_rate_reach_ratio", "ERR: interactions gained / reach gained in the "
        "window", E, W, lambda v: f.engagement_rate_reach(v.gained), "ratio"),
    Kpi("smm_engagement_rate_views_ratio", "ER by views: interactions gained / views gained in "
        "the window", E, W, lambda v: f.engagement_rate_views(v.gained), "ratio"),
    Kpi("smm_like_rate_ratio", "Likes gained in the window / followers", E, W,
        lambda v: f.like_rate(v.gained, v.followers), "ratio"),
    Kpi("smm_talk_rate_ratio", "Comments gained in the window / followers", E, W,
        lambda v: f.talk_rate(v.gained, v.followers), "ratio"),
    Kpi("smm_amplification_rate_ratio", "Shares gained in the window / followers", E, W,
        lambda v: f.amplification_rate(v.gained, v.followers), "ratio"),
    Kpi("smm_virality_rate_ratio", "Shares / views gained in the window", E, W,
        lambda v: f.virality_rate(v.gained), "ratio"),
    Kpi("smm_click_through_rate_ratio", "CTR: clicks / impressions gained in the window", E, W,
        lambda v: f.click_through_rate(v.gained), "ratio"),
    Kpi("smm_window_interactions", "Interactions (likes + comments + shares + saves) gained "
        "in the window", E, W, lambda v: f.interactions(v.gained), "count"),
    Kpi("smm_window_reach", "Reach gained in the window", E, W, _gained("reach"), "count"),
    Kpi("smm_window_views", "Views gained in the window", E, W, _gained("views"), "count"),
    Kpi("smm_window_follows", "Gross follows from interaction events in the window", E, W,
        _gained("follows"), "count"),
    Kpi("smm_window_unfollows", "Gross unfollows from interaction events in the window", E, W,
        _gained("unfollows"), "count"),
    Kpi("smm_audience_growth_ratio", "Audience growth: (followers at end - at start of the "
        "window) / followers at start", E, W,
        lambda v: f.audience_growth_rate(v.followers_start, v.followers), "ratio"),
    Kpi("smm_followers", "Followers: latest snapshot summed over the brand's accounts", E, C,
        lambda v: v.followers, "followers"),
    Kpi("smm_window_mentions", "Mentions in the window", M, W, _gained("mentions"), "count"),
    Kpi("smm_window_potential_reach", "Potential reach: followers of the mentions' authors "
        "(author_followers) summed over the mentions in the window", M, W,
        _gained("potential_reach"), "count"),
    Kpi("smm_mention_rate_per_second", "Mentions in the window / window length in seconds", M, W,
        lambda v: f.mention_rate(v.gained.get("mentions", 0), v.window_seconds), "per_second"),
    Kpi("smm_window_scored_mentions", "Mentions in the window that carry a sentiment score", M,
        W, _gained("scored"), "count"),
    Kpi("smm_sentiment_score", "Mean sentiment score in [-1, 1] of the scored mentions in the "
        "window", M, W, lambda v: f.sentiment_score(v.gained), "score"),
    Kpi("smm_sentiment_positive_ratio", "Share of scored mentions in the window that are "
        "positive (score > 0.05)", M, W, lambda v: f.sentiment_share(v.gained, "positive"),
        "ratio"),
    Kpi("smm_sentiment_negative_ratio", "Share of scored mentions in the window that are "
        "negative (score < -0.05)", M, W, lambda v: f.sentiment_share(v.gained, "negative"),
        "ratio"),
    Kpi("smm_sentiment_neutral_ratio", "Share of scored mentions in the window that are "
        "neutral", M, W, lambda v: f.sentiment_share(v.gained, "neutral"), "ratio"),
    Kpi("smm_net_sentiment_ratio", "Net sentiment: (positive - negative) / (positive + "
        "negative) in the window", M, W, lambda v: f.net_sentiment(v.gained), "ratio"),
    Kpi("smm_share_of_voice_ratio", "Share of voice: the brand's mentions / mentions of its "
        "competitive set (itself and its competitors) in the window, all platforms", V, BW,
        lambda v: f.share_of_voice(v.gained), "ratio"),
    Kpi("smm_response_time_seconds", "Mean seconds from a user's message (in the window) to the "
        "brand's first reply in that thread", R, W,
        lambda v: f.response_time_mean(v.response_times), "seconds", (("stat", "mean"),)),
    Kpi("smm_response_time_seconds", "90th percentile (nearest rank) of seconds to the first "
        "reply", R, W, lambda v: f.response_time_p90(v.response_times), "seconds",
        (("stat", "p90"),)),
    Kpi("smm_window_answered_messages", "User messages in the window that have a reply", R, W,
        lambda v: len(v.response_times), "count"),
    Kpi("smm_window_unanswered_messages", "User messages in the window with no reply yet", R, W,
        lambda v: v.unanswered, "count"),
    Kpi("smm_window_visits", "Website visits from social media in the window", B, W,
        _gained("visits"), "count"),
    Kpi("smm_bounce_rate_ratio", "Bounced visits / visits in the window", B, W,
        lambda v: f.bounce_rate(v.gained), "ratio"),
    Kpi("smm_new_visitors_ratio", "Visits by new visitors / visits in the window", B, W,
        lambda v: f.new_visitors_rate(v.gained), "ratio"),
    Kpi("smm_visit_duration_seconds", "Mean duration of the visits in the window that carry "
        "one", B, W, lambda v: f.visit_duration_mean(v.gained), "seconds"),
    *(Kpi("smm_window_conversions", "Conversions of this kind in the window", B, W,
          lambda v, kind=kind: f.conversions(v.gained, kind), "count", (("kind", kind),))
      for kind in f.CONVERSION_KINDS),
    Kpi("smm_conversion_rate_ratio", "Conversions of every kind / visits in the window", B, W,
        lambda v: f.conversion_rate(v.gained), "ratio"),
    Kpi("smm_window_revenue", "Sum of the conversions' value in the window", B, W,
        _gained("revenue"), "currency", money=True),
    Kpi("smm_window_ad_spend", "Ad spend gained in the window (ad snapshot differences)", B, W,
        _gained("ad_spend"), "currency", money=True),
    Kpi("smm_window_ad_clicks", "Ad clicks gained in the window", B, W, _gained("ad_clicks"),
        "count"),
    Kpi("smm_window_ad_impressions", "Ad impressions gained in the window", B, W,
        _gained("ad_impressions"), "count"),
    Kpi("smm_cost_per_click", "CPC: ad spend / ad clicks gained in the window", B, W,
        lambda v: f.cost_per_click(v.gained), "currency", money=True),
    Kpi("smm_cost_per_mille", "CPM: ad spend per 1000 ad impressions gained in the window", B,
        W, lambda v: f.cost_per_mille(v.gained), "currency", money=True),
    Kpi("smm_cost_per_lead", "Ad spend / lead conversions in the window", B, W,
        lambda v: f.cost_per_lead(v.gained), "currency", money=True),
    Kpi("smm_customer_acquisition_cost", "CAC: ad spend / conversions by new customers in the "
        "window", B, W, lambda v: f.customer_acquisition_cost(v.gained), "currency",
        money=True),
    Kpi("smm_cost_per_follower", "Ad spend / gross follows (follow interactions) in the "
        "window", B, W, lambda v: f.cost_per_follower(v.gained), "currency", money=True,
        joins=E),
    Kpi("smm_roi_ratio", "ROI: (revenue - ad spend) / ad spend in the window", B, W,
        lambda v: f.return_on_investment(v.gained), "ratio"),
    Kpi("smm_roas_ratio", "ROAS: revenue / ad spend in the window", B, W,
        lambda v: f.return_on_ad_spend(v.gained), "ratio"),
    Kpi("smm_mentions", "Mentions accepted since the beginning (counter)", M, T,
        _gained("mentions"), "count"),
    *(Kpi("smm_newest_event_timestamp_seconds", "Event time of the newest event in the "
          "windows, to W/60 of the shortest window holding it: data freshness", family, C,
          lambda v: v.newest_event, "timestamp", (("family", family.value),))
      for family in (E, M)),
)


# The business KPIs per declared campaign, the cross-family ones aside (follows carry no
# campaign).
CATALOG += tuple(per_campaign(k) for k in CATALOG
                 if k.family is B and k.scope is W and k.joins is None)


@dataclass(frozen=True, slots=True)
class ServiceMetric:
    """A metric about the pipeline itself, not a KPI; a counter's name is without _total."""

    name: str
    help: str
    labels: tuple[str, ...]
    kind: str = "counter"


EVENTS = ServiceMetric(
    "smm_events", "Events read from the input topics by outcome: accepted, duplicate, rejected "
    "(a message that is not JSON counts as one rejected event of type unknown)",
    ("topic", "type", "outcome"))
DEAD_LETTERS = ServiceMetric(
    "smm_dlq_events", "Rejected events written to the dead-letter topic, by reason",
    ("topic", "reason"))
LATE_EVENTS = ServiceMetric(
    "smm_late_events", "Accepted events older than the longest window: counted here, not applied",
    ("topic", "type"))
STATE_KEYS = ServiceMetric(
    "smm_state_keys",
    "Keys held in each kind of state (family-section) by this worker (owned and formerly owned)",
    ("table",), kind="gauge")
CONSUMER_LAG = ServiceMetric(
    "smm_consumer_lag_messages", "Messages not yet read on the partitions this worker owns "
    "(end offset - read offset); underestimated on the embedded broker, see docs/design.md",
    ("topic",), kind="gauge")
INTERNAL_ERRORS = ServiceMetric(
    "smm_internal_errors", "Internal messages a KPI-family agent failed to handle; their events "
    "went to the dead-letter topic with reason internal_error (see the worker's log)",
    ("family",))
COMMIT_FLUSH = ServiceMetric(
    "smm_commit_flush_seconds", "Seconds each flush before an offset commit took (the tables' "
    "changes sent to their changelogs and acknowledged); one longer than the commit interval "
    "(2.8 s) delays the next commit", (), kind="histogram")
SERVICE_METRICS = (EVENTS, DEAD_LETTERS, LATE_EVENTS, INTERNAL_ERRORS, STATE_KEYS, CONSUMER_LAG,
                   COMMIT_FLUSH)
