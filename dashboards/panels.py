"""Panel builders shared by the dashboards: queries, units, goal thresholds.

Built with grafana-foundation-sdk (the version pinned in pyproject.toml matches
the Grafana of docker-compose.yml).
"""

from __future__ import annotations

from collections.abc import Sequence

from grafana_foundation_sdk.builders import common as common_builder
from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models.dashboard import (
    DataSourceRef,
    DynamicConfigValue,
    MatcherConfig,
    Threshold,
    ThresholdsMode,
)

from smm_pulse.dashboards.promql import BENCHMARK
from smm_pulse.kpi.catalog import Kpi, Scope

DATASOURCE = DataSourceRef(type_val="prometheus", uid="smm-prometheus")  # provisioned uid

# Catalog units (smm_pulse.kpi.catalog) as Grafana units.
GRAFANA_UNITS = {
    "ratio": "percentunit",
    "count": "short",
    "followers": "short",
    "per_second": "cps",
    "seconds": "s",
    "score": "none",
    "timestamp": "dateTimeAsIso",
    "times": "suffix:×",
    "currency": "short",  # the currency is in the legend: brands may differ
}

# The brand variable in a query, for any brand name: Grafana's ``regex`` format escapes
# every regex metacharacter (a backslash too), and a PromQL raw string (backquotes) takes
# the result as it is. Grafana's default ``"$brand"`` does not escape quotes, and its
# regex escapes are not valid escapes inside a double-quoted PromQL string. Left out:
# backquotes and U+FFFD in a brand name (docs/alerts.md).
BRAND_MATCHER = "brand=~`${brand:regex}`"

# Where a catalog KPI is read from on the brand dashboard; the values are its variables.
KPI_SELECTORS = {
    Scope.WINDOW: f'{BRAND_MATCHER}, platform=~"$platform", window="$window"',
    Scope.CURRENT: f'{BRAND_MATCHER}, platform=~"$platform"',
    Scope.TOTAL: f'{BRAND_MATCHER}, platform=~"$platform"',
    Scope.BRAND_WINDOW: f'{BRAND_MATCHER}, window="$window"',
    Scope.CAMPAIGN_WINDOW: f'{BRAND_MATCHER}, window="$window"',
}

# Age of the newest event: green while fresh, orange after 15 min, red after an hour.
FRESHNESS_STEPS = ((0.0, "green"), (900.0, "orange"), (3600.0, "red"))
# The lowest value of each unit: the base threshold step (Grafana reads the first step as
# -Infinity whatever its value; the dashboard schema wants a number there, not null).
FLOORS = {"score": -1.0}


def goal_value(unit: str, value: float, currency: str = "") -> str:
    """A goal's value as the overview's descriptions and the alerts' annotations print it."""
    if unit == "ratio":
        return f"{value:.2%}"
    if unit == "seconds":
        return f"{value:.0f} s"
    if unit == "currency":
        return f"{value:.2f} {currency}"
    return f"{value:g}"


def query(expr: str, legend: str = "__auto", ref_id: str = "A") -> prometheus.Dataquery:
    return prometheus.Dataquery().expr(expr).legend_format(legend).ref_id(ref_id)


def steps(*pairs: tuple[float, str]) -> dashboard.ThresholdsConfig:
    """Thresholds from (value, colour) pairs; the first is the base colour."""
    return (dashboard.ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE)
            .steps([Threshold(value, colour) for value, colour in pairs]))


def _around_goal(goal: float | None, unit: str, below: str, above: str
                 ) -> dashboard.ThresholdsConfig:
    """``below`` under the goal, ``above`` from it on; neutral blue without a goal."""
    floor = FLOORS.get(unit, 0.0)
    return steps((floor, below), (goal, above)) if goal is not None else steps((floor, "blue"))


def at_least(goal: float | None, unit: str) -> dashboard.ThresholdsConfig:
    return _around_goal(goal, unit, "red", "green")


def at_most(goal: float | None, unit: str) -> dashboard.ThresholdsConfig:
    return _around_goal(goal, unit, "green", "red")


def stat_panel(title: str, description: str, expr: str, unit: str,
               thresholds: dashboard.ThresholdsConfig, legend: str = "__auto",
               span: int = 3) -> stat.Panel:
    """The latest value, coloured by its thresholds."""
    return (
        stat.Panel().title(title).description(description).datasource(DATASOURCE)
        .with_target(query(expr, legend)).unit(GRAFANA_UNITS[unit]).thresholds(thresholds)
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .graph_mode(common.BigValueGraphMode.AREA)
        .reduce_options(common_builder.ReduceDataOptions().calcs(["lastNotNull"]))
        .height(5).span(span)
    )


def freshness_panel(title: str, selection: str, by: str = "", span: int = 3) -> stat.Panel:
    """Seconds since the newest event (catalog: smm_newest_event_timestamp_seconds)."""
    grouping = f" by ({by})" if by else ""
    return stat_panel(
        title, "Seconds since the event time of the newest event in the windows (to W/60 of "
        "the shortest window). Large while a brand is quiet; always large when its collector "
        "stopped.",
        f"time() - max{grouping} (smm_newest_event_timestamp_seconds{{{selection}}})",
        "seconds", steps(*FRESHNESS_STEPS), legend=f"{{{{{by}}}}}" if by else "__auto",
        span=span)


def timeseries_panel(title: str, description: str, targets: Sequence[prometheus.Dataquery],
                     unit: str, span: int = 8) -> timeseries.Panel:
    panel = (
        timeseries.Panel().title(title).description(description).datasource(DATASOURCE)
        .unit(GRAFANA_UNITS[unit]).line_width(2).fill_opacity(10).span_nulls(True)
        .legend(common_builder.VizLegendOptions().display_mode(common.LegendDisplayMode.LIST)
                .placement(common.LegendPlacement.BOTTOM).show_legend(True))
        .height(8).span(span)
    )
    for target in targets:
        panel = panel.with_target(target)
    return panel


def kpi_expr(kpi: Kpi) -> str:
    """The catalog KPI on the brand dashboard: per platform, counters as a rate."""
    selection = ", ".join([KPI_SELECTORS[kpi.scope],
                           *(f'{name}="{value}"' for name, value in kpi.const_labels)])
    if kpi.scope is Scope.TOTAL:
        return f"rate({kpi.metric}_total{{{selection}}}[$__rate_interval])"
    return f"{kpi.metric}{{{selection}}}"


def kpi_legend(kpi: Kpi) -> str:
    subject = {Scope.BRAND_WINDOW: "{{brand}}",
               Scope.CAMPAIGN_WINDOW: "{{campaign}}"}.get(kpi.scope, "{{platform}}")
    money = ["{{currency}}"] if kpi.money else []
    return " ".join([subject, *(value for _, value in kpi.const_labels), *money])


BENCHMARK_REF, BENCHMARK_LEGEND = "Z", "benchmark"  # the reference line's query
# Matched by its name: the dashboard schema wants a matcher's options as an object.
BENCHMARK_MATCHER = MatcherConfig(id_val="byNames",
                                  options={"mode": "include", "names": [BENCHMARK_LEGEND]})
# A reference line: dashed, in the text colour, beside the KPI's own lines.
BENCHMARK_STYLE = [
    DynamicConfigValue("custom.lineStyle", {"fill": "dash", "dash": [10, 10]}),
    DynamicConfigValue("color", {"mode": "fixed", "fixedColor": "text"}),
]


def kpi_panel(entries: Sequence[Kpi], benchmark: bool = False) -> timeseries.Panel:
    """One panel per metric; entries of one metric (e.g. mean and p90) share it.

    ``benchmark``: some brand has a benchmark for the metric, drawn as a dashed line for
    the brand shown (from the rule file's ``BENCHMARK`` series)."""
    first = entries[0]
    counter = first.scope is Scope.TOTAL
    window = " over $window" if first.scope in (Scope.WINDOW, Scope.BRAND_WINDOW,
                                                Scope.CAMPAIGN_WINDOW) else ""
    description = " / ".join(dict.fromkeys(k.help for k in entries))
    targets = [query(kpi_expr(kpi), kpi_legend(kpi), ref_id=chr(ord("A") + i))
               for i, kpi in enumerate(entries)]
    if benchmark:
        description += " Dashed: the brand's benchmark (configuration)"
        targets.append(query(f'{BENCHMARK}{{{BRAND_MATCHER}, metric="{first.metric}"}}',
                             BENCHMARK_LEGEND, ref_id=BENCHMARK_REF))
    panel = timeseries_panel(
        f"{first.title}{window}" + (" (per second)" if counter else ""),
        description + (", as a rate per second." if counter else "."),
        targets, "per_second" if counter else first.unit)
    return panel.with_override(BENCHMARK_MATCHER, BENCHMARK_STYLE) if benchmark else panel


def campaigns_panel(entries: Sequence[Kpi]) -> timeseries.Panel:
    """KPIs of one unit per declared campaign (``Scope.CAMPAIGN_WINDOW``), in one panel."""
    def legend(kpi: Kpi) -> str:
        return " ".join(["{{campaign}}", kpi.title.lower(), *(["{{currency}}"] * kpi.money)])

    return timeseries_panel(
        f"Campaigns: {' and '.join(k.title.lower() for k in entries)} over $window",
        "Per campaign declared in the configuration, over all platforms: "
        + " / ".join(k.help for k in entries) + ".",
        [query(kpi_expr(kpi), legend(kpi), ref_id=chr(ord("A") + i))
         for i, kpi in enumerate(entries)],
        entries[0].unit)
