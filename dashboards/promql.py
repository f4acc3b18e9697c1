"""PromQL text shared by the rule file and the dashboards."""

from __future__ import annotations

from collections.abc import Iterable

JOB = "smm-pulse"  # the Prometheus job that scrapes the workers


def promql_string(text: str) -> str:
    """A PromQL string literal (Go escaping) for any brand name."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def selector(metric: str, **labels: str) -> str:
    """``metric{name="value", ...}`` with every value quoted."""
    matchers = [f"{name}={promql_string(value)}" for name, value in labels.items()]
    return f"{metric}{{{', '.join(matchers)}}}"


def any_brand(metric: str, brands: Iterable[str], **labels: str) -> str:
    """Series of ``metric`` for any of ``brands``: exact matchers joined by ``or``, so brand
    names need no regex escaping."""
    return " or ".join(selector(metric, brand=brand, **labels) for brand in brands)
