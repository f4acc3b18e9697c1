"""A brand's goals checked against its KPIs now, in-process.

The same targets as the alert rules (``smm-pulse rules``) and the same
conditions, read from the exporter's values instead of Prometheus series. A
check says whether the condition holds at this moment: a goal missed now, not
an alert, which fires only once the condition has held for the target's
``for``. The brand-level figures (mentions summed over platforms, sentiment
weighted by scored mentions) are those of the recording rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum

from smm_pulse.config import Config, MaxTarget, MinTarget, Targets, duration_seconds
from smm_pulse.kpi.catalog import CATALOG

Reading = tuple[str, Mapping[str, str], float]  # catalog metric, labels but the brand, value


class Status(StrEnum):
    MET = "met"
    MISSED = "missed"  # the alert's condition holds now
    OPEN = "open"  # a dated goal not reached yet, its date not passed
    NO_GOAL = "no_goal"
    NO_DATA = "no_data"  # a goal, but nothing (or too little) to judge it by


@dataclass(frozen=True, slots=True)
class Check:
    """One KPI of a brand against its goal, as the overview dashboard shows it."""

    kpi: str  # the alert rules' ``kpi`` label: engagement_rate, sentiment_score, ...
    title: str
    unit: str  # ratio, score, times, seconds, followers
    status: Status
    value: float | None
    window: str | None = None
    platform: str | None = None  # for goals per platform
    relation: str | None = None  # "at least", "at most", "below", "reach"
    target: float | None = None
    by: str | None = None  # a followers goal's date (ISO)
    alert_after: str | None = None  # the target's ``for``
    note: str = ""
    currency: str | None = None  # the brand's, for amounts of money (unit "currency")


AT_LEAST, AT_MOST = "at least", "at most"


@dataclass(frozen=True, slots=True)
class PlatformGoal:
    """A target whose KPI is judged on each platform: at least its ``min`` or at most its
    ``max`` over its ``window``. The alert rules, these checks and the overview dashboard
    are made from one list of them (``PLATFORM_GOALS``)."""

    kpi: str  # the target's key in ``targets`` and the alerts' ``kpi`` label
    metric: str  # the catalog metric judged
    relation: str  # AT_LEAST or AT_MOST
    labels: tuple[tuple[str, str], ...] = ()  # constant labels of the sample judged
    always: bool = False  # a check even without goal or data (else only with either)

    @property
    def alert(self) -> str:
        """``SmmEngagementRateBelowGoal``, ``SmmCostPerClickAboveGoal``, ..."""
        words = "".join(word.capitalize() for word in self.kpi.split("_"))
        return f"Smm{words}{'Below' if self.relation == AT_LEAST else 'Above'}Goal"

    @property
    def title(self) -> str:
        return next(k.title for k in CATALOG if k.metric == self.metric)

    @property
    def unit(self) -> str:
        return next(k.unit for k in CATALOG if k.metric == self.metric)

    def target(self, targets: Targets) -> MinTarget | MaxTarget | None:
        return getattr(targets, self.kpi)

    def bound(self, target: MinTarget | MaxTarget) -> float:
        """The goal's value: the target's ``min`` or ``max``."""
        return target.min if isinstance(target, MinTarget) else target.max

    def misses(self, value: float, bound: float) -> bool:
        """The alert's condition: at the goal meets it."""
        return value < bound if self.relation == AT_LEAST else value > bound


PLATFORM_GOALS = (
    PlatformGoal("engagement_rate", "smm_engagement_rate_ratio", AT_LEAST, always=True),
    PlatformGoal("response_time", "smm_response_time_seconds", AT_MOST, (("stat", "mean"),),
                 always=True),
    PlatformGoal("conversion_rate", "smm_conversion_rate_ratio", AT_LEAST),
    PlatformGoal("bounce_rate", "smm_bounce_rate_ratio", AT_MOST),
    PlatformGoal("cost_per_click", "smm_cost_per_click", AT_MOST),
    PlatformGoal("customer_acquisition_cost", "smm_customer_acquisition_cost", AT_MOST),
    PlatformGoal("roi", "smm_roi_ratio", AT_LEAST),
)
ENGAGEMENT_RATE, RESPONSE_TIME, *BUSINESS_GOALS = PLATFORM_GOALS


class Readings:
    """A brand's KPI values, looked up by metric and labels."""

    def __init__(self, readings: Iterable[Reading]) -> None:
        self._by_metric: dict[str, list[tuple[Mapping[str, str], float]]] = {}
        for metric, labels, value in readings:
            self._by_metric.setdefault(metric, []).append((labels, value))

    def per_platform(self, metric: str, **labels: str) -> dict[str, float]:
        """Platform -> value of the samples of ``metric`` that carry ``labels``."""
        return {found["platform"]: value for found, value in self._matching(metric, labels)}

    def value(self, metric: str, **labels: str) -> float | None:
        """The one value of a brand-level metric (no platform label)."""
        return next((value for _found, value in self._matching(metric, labels)), None)

    def total(self, metric: str, **labels: str) -> float | None:
        """Summed over platforms (``sum by (brand)``); None without any sample."""
        values = self.per_platform(metric, **labels)
        return sum(values.values()) if values else None

    def _matching(self, metric: str, labels: Mapping[str, str]
                  ) -> Iterator[tuple[Mapping[str, str], float]]:
        for found, value in self._by_metric.get(metric, ()):
            if all(found.get(name) == wanted for name, wanted in labels.items()):
                yield found, value


def brand_mentions(readings: Readings, window: str) -> float | None:
    """Mentions over all platforms (``brand:smm_window_mentions:sum``)."""
    return readings.total("smm_window_mentions", window=window)


def brand_sentiment(readings: Readings, window: str) -> float | None:
    """Mean sentiment over all platforms, each weighted by its scored mentions
    (``brand:smm_sentiment_score:mean``); None with no scored mention."""
    scores = readings.per_platform("smm_sentiment_score", window=window)
    scored = readings.per_platform("smm_window_scored_mentions", window=window)
    weight = sum(scored.get(platform, 0) for platform in scores)
    if not weight:
        return None
    return sum(score * scored.get(platform, 0) for platform, score in scores.items()) / weight


def check_goals(config: Config, brand: str, readings: Readings, now: float) -> list[Check]:
    """Every goal KPI of the brand, in the overview dashboard's order, checked at ``now``."""
    settings = config.brands[brand]
    targets = settings.targets

    def per_platform(goal: PlatformGoal) -> list[Check]:
        return list(_per_platform(goal, config, targets, readings, settings.currency))

    checks = [*per_platform(ENGAGEMENT_RATE), _sentiment(config, targets, readings),
              _mention_spike(config, targets, readings)]
    if settings.competitors or targets.share_of_voice is not None:
        checks.append(_share_of_voice(config, targets, readings))
    checks += [*per_platform(RESPONSE_TIME), _followers(targets, readings, now)]
    for goal in BUSINESS_GOALS:
        checks += per_platform(goal)
    return checks


def missed(checks: Iterable[Check]) -> list[Check]:
    return [check for check in checks if check.status is Status.MISSED]


def _status(has_goal: bool, value: float | None, misses: bool) -> Status:
    """Grey without a goal whatever the value; otherwise by the value, if any."""
    if not has_goal:
        return Status.NO_GOAL
    if value is None:
        return Status.NO_DATA
    return Status.MISSED if misses else Status.MET


def _per_platform(goal: PlatformGoal, config: Config, targets: Targets, readings: Readings,
                  currency: str) -> Iterator[Check]:
    """One check per platform with a value; one without platform when there is none, for a
    goal that is always shown or set."""
    target = goal.target(targets)
    window = target.window if target else config.exported_windows[-1]
    common = {"kpi": goal.kpi, "title": goal.title, "unit": goal.unit, "window": window,
              "currency": currency if goal.unit == "currency" else None}
    if target:
        common |= {"relation": goal.relation, "target": goal.bound(target),
                   "alert_after": target.for_}
    by_platform = readings.per_platform(goal.metric, window=window, **dict(goal.labels))
    if not by_platform and (goal.always or target):
        yield Check(status=_status(target is not None, None, False), value=None, **common)
    for platform, value in sorted(by_platform.items()):
        misses = target is not None and goal.misses(value, goal.bound(target))
        yield Check(status=_status(target is not None, value, misses), value=value,
                    platform=platform, **common)


def _sentiment(config: Config, targets: Targets, readings: Readings) -> Check:
    goal = targets.sentiment_score
    window = goal.window if goal else config.exported_windows[-1]
    mean = brand_sentiment(readings, window)
    common = {"kpi": "sentiment_score", "title": "Sentiment", "unit": "score", "window": window,
              "value": mean}
    if goal is None:
        return Check(status=Status.NO_GOAL, **common)
    common |= {"relation": "at least", "target": goal.min, "alert_after": goal.for_}
    scored = readings.total("smm_window_scored_mentions", window=window) or 0
    if mean is not None and scored < goal.min_mentions:  # the alert waits for enough mentions
        return Check(status=Status.NO_DATA, note=f"{scored:.0f} scored mentions; judged from "
                     f"{goal.min_mentions}", **common)
    return Check(status=_status(True, mean, mean is not None and mean < goal.min), **common)


def _mention_spike(config: Config, targets: Targets, readings: Readings) -> Check:
    """The recent mention rate against the usual one: the longest window without the recent."""
    goal = targets.mention_spike
    recent, baseline = config.exported_windows[0], config.exported_windows[-1]
    recent_mentions = brand_mentions(readings, recent)
    all_mentions = brand_mentions(readings, baseline)
    common = {"kpi": "mention_spike", "title": "Mentions vs usual", "unit": "times",
              "window": recent}
    if goal:
        common |= {"relation": "below", "target": goal.factor, "alert_after": goal.for_}
    if recent_mentions is None or all_mentions is None or recent == baseline:
        return Check(status=_status(goal is not None, None, False), value=None, **common)
    recent_rate = recent_mentions / duration_seconds(recent)
    usual_rate = (all_mentions - recent_mentions) / (
        duration_seconds(baseline) - duration_seconds(recent))
    ratio = recent_rate / usual_rate if usual_rate > 0 else None
    note = "" if usual_rate > 0 else "no usual rate yet"  # no mentions before the recent window
    if goal is None:
        return Check(status=Status.NO_GOAL, value=ratio, note=note, **common)
    spike = recent_rate > goal.factor * usual_rate and recent_mentions >= goal.min_mentions
    return Check(status=Status.MISSED if spike else Status.MET, value=ratio, note=note,
                 **common)


def _share_of_voice(config: Config, targets: Targets, readings: Readings) -> Check:
    goal = targets.share_of_voice
    window = goal.window if goal else config.exported_windows[-1]
    value = readings.value("smm_share_of_voice_ratio", window=window)
    common = {"kpi": "share_of_voice", "title": "Share of voice", "unit": "ratio",
              "window": window, "value": value}
    if goal is None:
        return Check(status=Status.NO_GOAL, **common)
    return Check(status=_status(True, value, value is not None and value < goal.min),
                 relation="at least", target=goal.min, alert_after=goal.for_, **common)


def _followers(targets: Targets, readings: Readings, now: float) -> Check:
    """Met once reached; missed once its date has come without it.

    In between the alert rule judges the pace from a day of Prometheus samples,
    which the worker does not keep: the check is open, with the count so far.
    """
    goal = targets.followers
    value = readings.total("smm_followers")
    common = {"kpi": "followers", "title": "Followers", "unit": "followers", "value": value}
    if goal is None:
        return Check(status=Status.NO_GOAL, **common)
    common |= {"relation": "reach", "target": goal.target, "by": goal.by.isoformat(),
               "alert_after": goal.for_}
    if value is None:
        return Check(status=Status.NO_DATA, **common)
    if value >= goal.target:
        return Check(status=Status.MET, **common)
    if now >= goal.deadline_seconds:
        return Check(status=Status.MISSED, **common)
    return Check(status=Status.OPEN, note="its pace is judged by the alert rule", **common)
