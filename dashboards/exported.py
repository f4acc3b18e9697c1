"""Rules and panels that read only what /metrics serves (the configuration's ``export``).

A PromQL expression reads a withheld series when it names a KPI metric whose
family is not exported, a recorded series whose rule was left out for that
reason, or a fixed window that is not exported. Goal alerts are not filtered:
the configuration refuses a target that would need a withheld series.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from smm_pulse.config import Config
from smm_pulse.kpi.budget import withheld_sample_names

Rule = dict[str, Any]

# String literals are taken out before names are read: a brand may be called anything.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
# A window written into the expression, not a dashboard's "$window".
_FIXED_WINDOW = re.compile(r'\bwindow="([^"$\\]*)"')


class Exported:
    """What expressions may read under a configuration's ``export``."""

    def __init__(self, config: Config) -> None:
        self.windows = frozenset(config.exported_windows)
        self.withheld = set(withheld_sample_names(config))

    def reads_exported(self, expr: str) -> bool:
        if any(window not in self.windows for window in _FIXED_WINDOW.findall(expr)):
            return False
        return self.withheld.isdisjoint(_NAME.findall(_STRING.sub(" ", expr)))

    def keep(self, rules: Iterable[Rule]) -> list[Rule]:
        """The rules that read exported series, in order; a recording rule left out
        withholds its own series from the rules after it."""
        kept = []
        for rule in rules:
            if self.reads_exported(rule["expr"]):
                kept.append(rule)
            elif "record" in rule:
                self.withheld.add(rule["record"])
        return kept
