"""docs/metrics.md, generated from the KPI catalog: ``python -m smm_pulse.kpi.docs``."""

from __future__ import annotations

from smm_pulse.kpi.budget import campaign_series_per_window, series_counts
from smm_pulse.kpi.catalog import CATALOG, SERVICE_METRICS, Scope
from smm_pulse.streams.events import REASONS
from smm_pulse.streams.topics import Family

# The example of the series budget: the default windows, and a large agency's size.
EXAMPLE_WINDOWS = 3
EXAMPLE_BRANDS, EXAMPLE_PLATFORMS = 1_000, 6

HEADER = """# Metrics

Generated from `smm_pulse/kpi/catalog.py` by `python -m smm_pulse.kpi.docs > docs/metrics.md`;
a test fails when this file and the catalog disagree.

All metrics are served on `http://127.0.0.1:6066/metrics` (`--port` moves it). Ratios
are fractions (0.05, not 5 %); a ratio whose denominator is 0 or unknown is absent,
never 0 or NaN. Window gauges are computed at scrape time over the trailing window
(now - W, now] by event time. Labels come only from bounded sets: `brand` (declared
in the configuration), `platform`, `window` (configured), `campaign` (a brand's declared
`campaigns`: the `smm_campaign_*` metrics, over all platforms), and the enums shown.
A worker exports only brands whose partition it owns. `/metrics?name[]=smm_followers`
(repeatable) serves only the named metrics, as Prometheus client libraries do.
"""


def _metric_name(metric: str, scope: Scope) -> str:
    return f"{metric}_total" if scope is Scope.TOTAL else metric


def budget_markdown() -> list[str]:
    """How many series a (brand, platform) costs, by family and window, from the catalog."""
    w = EXAMPLE_WINDOWS
    lines = [
        "## Series budget", "",
        "Series /metrics serves at most (a ratio whose denominator is 0 is absent), by KPI",
        "family. The configuration's `export` chooses the families (`export.families`) and the",
        "windows (`export.windows`, which multiply the windowed columns); alert rules and",
        "dashboards then read only what is exported (docs/configuration.md).", "",
        "| family | per (brand, platform) and window | per (brand, platform), not windowed "
        f"| per brand and window, all platforms | per (brand, platform) with {w} windows |",
        "| --- | --- | --- | --- | --- |"]
    totals = [0, 0, 0]
    for family in Family:
        counts = series_counts(family)
        totals = [t + c for t, c in zip(totals, counts, strict=True)]
        lines.append(f"| {family.value} | {counts[0]} | {counts[1]} | {counts[2]} "
                     f"| {counts[0] * w + counts[1]} |")
    windowed, fixed, brand_windowed = totals
    per_key = windowed * w + fixed
    lines.append(f"| all | {windowed} | {fixed} | {brand_windowed} | {per_key} |")
    brands, pairs = EXAMPLE_BRANDS, EXAMPLE_BRANDS * EXAMPLE_PLATFORMS
    lines += ["", f"So with every family and {w} windows one (brand, platform) costs {per_key} "
              f"series, and a brand {brand_windowed * w} more for its share of voice: "
              f"{brands:,} brands on {EXAMPLE_PLATFORMS} platforms ({pairs:,} pairs) cost up to "
              f"{pairs * per_key + brands * brand_windowed * w:,} series on /metrics.",
              "", f"Each campaign a brand declares (`campaigns`) adds "
              f"{campaign_series_per_window()} series per window of the business family "
              f"({campaign_series_per_window() * w} with {w} windows)."]
    return lines


def metrics_markdown() -> str:
    lines = [HEADER, "## KPIs", "", "| metric | type | labels | unit | meaning |",
             "| --- | --- | --- | --- | --- |"]
    for kpi in CATALOG:
        kind = "counter" if kpi.scope is Scope.TOTAL else "gauge"
        lines.append(f"| `{_metric_name(kpi.metric, kpi.scope)}` | {kind} | "
                     f"{', '.join(kpi.labels)} | {kpi.unit} | {kpi.help} |")
    lines += ["", "## Pipeline", "", "| metric | type | labels | meaning |",
              "| --- | --- | --- | --- |"]
    for metric in SERVICE_METRICS:
        name = f"{metric.name}_total" if metric.kind == "counter" else metric.name
        lines.append(f"| `{name}` | {metric.kind} | {', '.join(metric.labels)} | "
                     f"{metric.help} |")
    lines += ["", *budget_markdown()]
    lines += ["", "## Rejection reasons", "",
              "The `reason` label above and the `smm.reason` header of dead-letter records:", "",
              "| reason | meaning |", "| --- | --- |"]
    lines += [f"| `{reason}` | {meaning} |" for reason, meaning in REASONS.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(metrics_markdown(), end="")
