"""The layer contracts of `make lint` hold, and break when a module imports upward."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package as installed (agents/, streams/, dashboards/ inside smm_pulse)."""
    target = tmp_path_factory.mktemp("installed")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(target), str(ROOT)],
                   check=True, capture_output=True, cwd=ROOT)
    return target


def lint_imports(where: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", str(ROOT / "pyproject.toml")],
                          cwd=where, capture_output=True, text=True, timeout=120)


def test_the_package_keeps_its_layers_and_has_no_cycles(installed: Path):
    result = lint_imports(installed)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def test_an_upward_import_breaks_the_layer_contract(installed: Path, tmp_path: Path):
    broken = tmp_path / "broken"
    shutil.copytree(installed / "smm_pulse", broken / "smm_pulse")
    codec = broken / "smm_pulse" / "streams" / "codec.py"
    codec.write_text(codec.read_text() + "\nfrom smm_pulse.web import exporter  # upward\n")
    result = lint_imports(broken)
    assert result.returncode != 0
    assert "Layers import downward only BROKEN" in result.stdout
    assert "smm_pulse.streams.codec -> smm_pulse.web.exporter" in result.stdout
