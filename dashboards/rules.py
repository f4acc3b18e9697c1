"""The Prometheus rule file: recording rules, alerts from every brand's goals, health alerts.

``smm-pulse rules --config F`` prints it. Thresholds, windows and ``for`` come
from each brand's ``targets``; docs/alerts.md explains every alert.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import yaml

from smm_pulse.config import Brand, Config, MaxTarget, MinTarget, duration_seconds
from smm_pulse.dashboards.exported import Exported
from smm_pulse.dashboards.panels import goal_value
from smm_pulse.dashboards.promql import BENCHMARK, JOB, selector
from smm_pulse.dashboards.templating import go_template_literal
from smm_pulse.dashboards.uids import UIDS
from smm_pulse.kpi.goals import AT_LEAST, PLATFORM_GOALS, PlatformGoal
from smm_pulse.web.paths import ranking_path

LAG_ALERT_MESSAGES = 10_000


def dashboard_url(config: Config, brand: str) -> str:
    """The brand's dashboard (dashboards/boards.py) on the configuration's Grafana."""
    base = config.grafana_url.rstrip("/")
    return f"{base}/d/{UIDS['brand']}?var-brand={quote(brand, safe='')}"


def top_authors_url(config: Config, brand: str, window: str) -> str:
    """The brand's top authors over ``window`` on the workers' API (``worker_url``)."""
    base = config.worker_url.rstrip("/")
    return f"{base}{ranking_path(brand, 'top-authors')}?window={quote(window, safe='')}"


Rule = dict[str, Any]


def recording_rules(config: Config) -> list[Rule]:
    """Brand-level series that alerts and dashboards share."""
    recent, baseline = config.exported_windows[0], config.exported_windows[-1]
    recent_s, baseline_s = duration_seconds(recent), duration_seconds(baseline)
    return [
        {"record": "brand:smm_window_mentions:sum",
         "expr": "sum by (brand, window) (smm_window_mentions)"},
        {"record": "brand:smm_window_scored_mentions:sum",
         "expr": "sum by (brand, window) (smm_window_scored_mentions)"},
        {"record": "brand:smm_sentiment_score:mean",
         "expr": "sum by (brand, window) (smm_sentiment_score * smm_window_scored_mentions)"
                 " / brand:smm_window_scored_mentions:sum"},
        {"record": "brand:smm_mention_recent_rate:per_second",
         "expr": f'sum by (brand) (smm_window_mentions{{window="{recent}"}}) / {recent_s}'},
        # The usual rate: the longest window without the recent one, so a spike does not
        # raise its own baseline.
        {"record": "brand:smm_mention_baseline_rate:per_second",
         "expr": f'(sum by (brand) (smm_window_mentions{{window="{baseline}"}})'
                 f' - sum by (brand) (smm_window_mentions{{window="{recent}"}}))'
                 f" / {baseline_s - recent_s}"},
        {"record": "brand:smm_followers:sum", "expr": "sum by (brand) (smm_followers)"},
        *benchmark_rules(config),
    ]


def benchmark_rules(config: Config) -> Iterator[Rule]:
    """Each brand's benchmarks as constant series (labels brand and metric), which the brand
    dashboard draws as reference lines for whichever brand it shows."""
    for name, brand in config.brands.items():
        for metric, value in brand.benchmarks.items():
            # Recording rules' labels are not templates: the brand goes in as it is.
            yield {"record": BENCHMARK, "expr": f"vector({value!r})",
                   "labels": {"brand": name, "metric": metric}}


def _alert(name: str, brand: str, expr: str, duration: str, summary: str, description: str,
           severity: str = "warning", **labels: str) -> Rule:
    """A goal alert of ``brand``; ``summary`` and ``description`` are Go templates already
    (the brand in them goes through ``go_template_literal``)."""
    return {
        "alert": name,
        "expr": expr,
        "for": duration,
        # Prometheus expands label values as templates too, not only annotations.
        "labels": {"brand": go_template_literal(brand), "severity": severity, **labels},
        "annotations": {
            "summary": summary,
            "description": description,
        },
    }


# How a description prints a KPI's value (a Go template) by the catalog's unit; money is
# followed by the brand's currency.
VALUE_TEMPLATES = {"ratio": "{{ $value | humanizePercentage }}",
                   "seconds": "{{ $value | humanizeDuration }}",
                   "currency": '{{ $value | printf "%.2f" }}'}
# Where the generic wording (the KPI's title, "... below goal") would not say it best.
SUBJECTS = {"response_time": "Mean time to first reply"}
SUMMARIES = {"response_time": "slow replies", "roi": "ROI below goal"}


def _ratio_below_goal(alert: str, kpi: str, metric: str, subject: str, summary: str,
                      brand: str, target: MinTarget) -> Rule:
    """A ratio KPI that should stay at or above ``target.min`` over ``target.window``."""
    return _alert(
        alert, brand,
        f"{selector(metric, brand=brand, window=target.window)} < {target.min}",
        target.for_, summary,
        f"{subject} over {target.window} is {{{{ $value | humanizePercentage }}}}, goal at "
        f"least {target.min:.2%}.", kpi=kpi)


def platform_goal_alert(goal: PlatformGoal, name: str, target: MinTarget | MaxTarget,
                        currency: str) -> Rule:
    """The KPI of ``goal`` on any platform of the brand misses ``target``."""
    bound = goal.bound(target)
    below = goal.relation == AT_LEAST
    words = SUMMARIES.get(goal.kpi, f"{goal.kpi.replace('_', ' ')} "
                                    f"{'below' if below else 'above'} goal")
    money = f" {currency}" if goal.unit == "currency" else ""
    return _alert(
        goal.alert, name,
        f"{selector(goal.metric, brand=name, window=target.window, **dict(goal.labels))}"
        f" {'<' if below else '>'} {bound}", target.for_,
        f"{go_template_literal(name)}: {words} on {{{{ $labels.platform }}}}",
        f"{SUBJECTS.get(goal.kpi, goal.title)} over {target.window} is "
        f"{VALUE_TEMPLATES[goal.unit]}{money}, goal {goal.relation} "
        f"{goal_value(goal.unit, bound, currency)}.", kpi=goal.kpi)


def goal_alerts(name: str, brand: Brand, config: Config) -> Iterator[Rule]:
    """One alert per target of a brand; names say what they watch."""
    b = {"brand": name}
    shown = go_template_literal(name)  # the brand as summaries print it
    targets = brand.targets
    for goal in PLATFORM_GOALS:
        if (t := goal.target(targets)) is not None:
            yield platform_goal_alert(goal, name, t, brand.currency)
    if (t := targets.sentiment_score) is not None:
        rule = _alert(
            "SmmSentimentBelowGoal", name,
            f"{selector('brand:smm_sentiment_score:mean', **b, window=t.window)} < {t.min}"
            f" and {selector('brand:smm_window_scored_mentions:sum', **b, window=t.window)}"
            f" >= {t.min_mentions}", t.for_,
            f"{shown}: sentiment below goal",
            f"Mean sentiment over {t.window} is {{{{ $value | printf \"%.2f\" }}}}, goal at "
            f"least {t.min} (alerts only with {t.min_mentions}+ scored mentions).",
            kpi="sentiment_score")
        if config.top_lists:  # the authors driving it; the route needs the top lists
            rule["annotations"]["top_authors"] = go_template_literal(
                top_authors_url(config, name, t.window))
        yield rule
    if (t := targets.mention_spike) is not None:
        recent = config.exported_windows[0]
        yield _alert(
            "SmmMentionSpike", name,
            f"{selector('brand:smm_mention_recent_rate:per_second', **b)}"
            f" > {t.factor} * {selector('brand:smm_mention_baseline_rate:per_second', **b)}"
            f" and ignoring(window)"
            f" {selector('brand:smm_window_mentions:sum', **b, window=recent)}"
            f" >= {t.min_mentions}", t.for_,
            f"{shown}: mention spike",
            f"Mentions over the last {recent} run at {{{{ $value | humanize }}}}/s, more than "
            f"{t.factor}x the usual rate (and at least {t.min_mentions} mentions).",
            severity="critical", kpi="mention_spike")
    if (t := targets.share_of_voice) is not None:
        yield _ratio_below_goal(
            "SmmShareOfVoiceBelowGoal", "share_of_voice", "smm_share_of_voice_ratio",
            "Share of voice", f"{shown}: share of voice below goal", name, t)
    if (t := targets.followers) is not None:
        deadline = t.deadline_seconds
        yield _alert(
            "SmmFollowersGoalOffTrack", name,
            f"predict_linear({selector('brand:smm_followers:sum', **b)}[1d],"
            f" {deadline:.0f} - time())"
            f" < {t.target}", t.for_,
            f"{shown}: followers goal off track",
            f"At the current pace followers reach {{{{ $value | printf \"%.0f\" }}}} by "
            f"{t.by}, goal {t.target}.", kpi="followers")


def health_alerts(config: Config) -> list[Rule]:
    silent = config.exported_windows[-1]
    return [
        {"alert": "SmmWorkerDown", "expr": f'up{{job="{JOB}"}} == 0', "for": "1m",
         "labels": {"severity": "critical"},
         "annotations": {"summary": "SMM Pulse worker {{ $labels.instance }} is down",
                         "description": "Prometheus cannot scrape it; its brands' KPIs are "
                                        "stale until another worker takes them over."}},
        {"alert": "SmmInternalErrors",
         "expr": "sum by (instance, family) (increase(smm_internal_errors_total[10m])) > 0",
         "for": "0m", "labels": {"severity": "critical"},
         "annotations": {"summary": "SMM Pulse's {{ $labels.family }} agent failed on a message "
                                    "on {{ $labels.instance }}",
                         "description": "Its events are in the dead-letter topic with reason "
                                        "internal_error and the error's text; the worker went "
                                        "on. The worker's log has the traceback: a bug to "
                                        "report."}},
        {"alert": "SmmDeadLettersHigh",
         "expr": 'sum by (topic) (rate(smm_events_total{outcome="rejected"}[5m]))'
                 " / sum by (topic) (rate(smm_events_total[5m])) > 0.05",
         "for": "10m", "labels": {"severity": "warning"},
         "annotations": {"summary": "Over 5% of events on {{ $labels.topic }} are rejected",
                         "description": "See smm_dlq_events_total by reason and the "
                                        "dead-letter topic for the original messages."}},
        {"alert": "SmmConsumerLagHigh",
         "expr": f"sum by (topic) (smm_consumer_lag_messages) > {LAG_ALERT_MESSAGES}",
         "for": "10m", "labels": {"severity": "warning"},
         "annotations": {"summary": "SMM Pulse is {{ $value }} messages behind on "
                                    "{{ $labels.topic }}",
                         "description": "KPIs lag behind events: add workers (up to the "
                                        "partition count) or look for a slow worker."}},
        {"alert": "SmmBrandSilent",
         "expr": f'sum by (brand, platform) (smm_window_interactions{{window="{silent}"}})'
                 f' == 0 and sum by (brand, platform) (smm_window_mentions{{window="{silent}"}})'
                 " == 0",
         "for": "1h", "labels": {"severity": "info"},
         "annotations": {"summary": "No events from {{ $labels.brand }} on "
                                    "{{ $labels.platform }}",
                         "description": f"No interactions or mentions in {silent}: is its "
                                        "collector running?"}},
    ]


def rule_file(config: Config) -> dict[str, Any]:
    goals = [with_dashboard_link(rule, config, name) for name, brand in config.brands.items()
             for rule in goal_alerts(name, brand, config)]
    exported = Exported(config)  # no rule reads a series /metrics does not serve
    return {"groups": [
        {"name": "smm-pulse-recording", "rules": exported.keep(recording_rules(config))},
        {"name": "smm-pulse-goals", "rules": goals},
        {"name": "smm-pulse-health", "rules": exported.keep(health_alerts(config))},
    ]}


def with_dashboard_link(rule: Rule, config: Config, brand: str) -> Rule:
    """A goal alert whose annotations link the brand's dashboard (a Go template too)."""
    rule["annotations"]["dashboard"] = go_template_literal(dashboard_url(config, brand))
    return rule


def render(config: Config) -> str:
    return yaml.safe_dump(rule_file(config), sort_keys=False, allow_unicode=True, width=1000)
