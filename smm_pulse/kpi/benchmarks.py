"""A brand's ``benchmarks`` checked against the KPI catalog.

The configuration model cannot read the catalog (the catalog's package reads
the configuration: an import cycle), so ``smm-pulse`` checks the names right
after loading the file, with the file's other errors' wording.
"""

from __future__ import annotations

from difflib import get_close_matches

from smm_pulse.config import Config, ConfigError
from smm_pulse.kpi.catalog import CATALOG, Scope

# KPIs with a panel of their own values on the brand dashboard: not counters (drawn as a
# rate) nor timestamps (drawn as an age).
BENCHMARKABLE = frozenset(k.metric for k in CATALOG
                          if k.scope is not Scope.TOTAL and k.unit != "timestamp")


def benchmark_problems(config: Config) -> list[str]:
    """One line per benchmark that names no KPI it could be drawn against."""
    problems = []
    for name, brand in config.brands.items():
        for metric in brand.benchmarks:
            if metric in BENCHMARKABLE:
                continue
            close = get_close_matches(metric, BENCHMARKABLE, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "see docs/metrics.md"
            problems.append(f"brands.{name}.benchmarks.{metric}: not a KPI of the catalog "
                            f"that a panel shows ({hint})")
    return problems


def check_benchmarks(config: Config, source: str) -> None:
    """Raise ``ConfigError`` naming ``source`` and each wrong benchmark."""
    if problems := benchmark_problems(config):
        raise ConfigError("\n".join(f"{source}: {problem}" for problem in problems))
