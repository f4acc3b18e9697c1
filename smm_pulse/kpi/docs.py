"""docs/metrics.md, generated from the KPI catalog: ``python -m smm_pulse.kpi.docs``."""

from __future__ import annotations

from smm_pulse.kpi.catalog import CATALOG, SERVICE_METRICS, Scope
from smm_pulse.streams.events import REASONS

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
    lines += ["", "## Rejection reasons", "",
              "The `reason` label above and the `smm.reason` header of dead-letter records:", "",
              "| reason | meaning |", "| --- | --- |"]
    lines += [f"| `{reason}` | {meaning} |" for reason, meaning in REASONS.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(metrics_markdown(), end="")
