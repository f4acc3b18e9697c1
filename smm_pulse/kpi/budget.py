"""The series budget: which catalog KPIs /metrics exports under the configuration's
``export``, and how many series one (brand, platform) costs (docs/metrics.md)."""

from __future__ import annotations

from collections.abc import Iterable

from smm_pulse.config import Config
from smm_pulse.kpi.catalog import CATALOG, Kpi, Scope
from smm_pulse.streams.topics import Family


def exported_kpis(config: Config) -> tuple[Kpi, ...]:
    """The catalog entries of the exported families, in catalog order."""
    families = config.exported_families
    return tuple(kpi for kpi in CATALOG if kpi.family in families)


def sample_names(kpis: Iterable[Kpi]) -> frozenset[str]:
    """The names /metrics writes for ``kpis`` (a counter's ends in ``_total``)."""
    return frozenset(kpi.sample_name for kpi in kpis)


def withheld_sample_names(config: Config) -> frozenset[str]:
    """KPI sample names /metrics does not serve (each catalog name, and the catalog's
    metric name where it differs): what no rule or panel may read."""
    exported = sample_names(exported_kpis(config))
    return frozenset(name for kpi in CATALOG if kpi.sample_name not in exported
                     for name in (kpi.sample_name, kpi.metric))


def series_counts(family: Family) -> tuple[int, int, int]:
    """Series of ``family``: (per (brand, platform) and window, per (brand, platform) not
    windowed, per brand and window). Each catalog entry is one series per label set: its
    constant labels are fixed and a brand has one currency."""
    entries = [kpi for kpi in CATALOG if kpi.family is family]
    return (sum(kpi.scope is Scope.WINDOW for kpi in entries),
            sum(kpi.scope in (Scope.CURRENT, Scope.TOTAL) for kpi in entries),
            sum(kpi.scope is Scope.BRAND_WINDOW for kpi in entries))


def campaign_series_per_window() -> int:
    """Series one declared campaign of a brand costs per window (its business KPIs)."""
    return sum(kpi.scope is Scope.CAMPAIGN_WINDOW for kpi in CATALOG)
