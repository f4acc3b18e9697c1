"""Text from the configuration inside Prometheus alert templates.

Prometheus expands every label value and annotation of an alerting rule as a Go
template, so a brand named ``{{ $value }}`` would become the alert's value and one
named ``x{{y`` would make the whole rule file fail to load.
"""

from __future__ import annotations

from smm_pulse.dashboards.promql import go_string


def go_template_literal(text: str) -> str:
    """``text`` such that Go's text/template prints it back exactly.

    Only ``{{`` starts an action, so text without a ``{`` stays as it is (readable rule
    files); it also cannot form a ``{{`` with what comes before or after it. Other text
    becomes an action that prints a Go string constant.
    """
    if "{" not in text:
        return text
    return "{{ " + go_string(text) + " }}"
