"""SMM Pulse: real-time social media marketing KPIs, Kafka in, Prometheus out.

The package's layers, each importing only those below it (``make lint``):
``streams`` (events and message formats), the KPI core (``config``,
``windows``, ``kpi``, ``contributions``, ``sentiment``), ``state``,
``runtime`` (Faust, the broker), ``agents``, ``web``, and the wiring, CLI and
tools on top. ``agents``, ``streams`` and ``dashboards`` are kept in the
repository's top-level folders of those names; installed, they are
``smm_pulse.agents``, ``smm_pulse.streams`` and ``smm_pulse.dashboards``.
"""

from __future__ import annotations

from pathlib import Path

# In a source checkout (the tree on PYTHONPATH, as when two trees are compared), the
# subpackages kept in top-level folders are found there; an installed package holds them.
_CHECKOUT = Path(__file__).resolve().parent.parent
if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "agents" / "__init__.py").is_file():
    __path__.append(str(_CHECKOUT))  # type: ignore[name-defined]  # a package's search path
