"""docs/configuration.md is what the settings model says, and names every knob the code reads."""

from __future__ import annotations

import re
from pathlib import Path

from smm_pulse.config import ENVIRONMENT
from smm_pulse.config_docs import render

ROOT = Path(__file__).resolve().parents[3]
SOURCES = [path for folder in ("smm_pulse", "agents", "streams", "dashboards")
           for path in (ROOT / folder).rglob("*.py")]
# What the code reads from the environment: os.environ.get("X"), envvar="X", X_ENV = "X"
# (an assignment, os.environ["X"] = ..., sets a variable for a library: not read)
READ = re.compile(r'environ(?:\.get)?[\[(]"([A-Z_]+)"(?![\]]\s*=)|envvar="([A-Z_]+)"'
                  r'|_ENV = "([A-Z_]+)"')


def test_committed_configuration_docs_match_the_settings_model():
    committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == render(), "regenerate with: make docs"


def test_every_environment_variable_the_code_reads_is_documented():
    read = {name for path in SOURCES for match in READ.finditer(path.read_text(encoding="utf-8"))
            for name in match.groups() if name}
    assert read, "the pattern finds the variables"
    assert read <= {var.name for var in ENVIRONMENT}
