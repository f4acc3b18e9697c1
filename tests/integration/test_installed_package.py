"""The package as users install it: one import namespace, every module importable.

``pip install .`` into a fresh virtual environment (runtime dependencies only,
as the Docker image installs it): ``smm_pulse`` and its command work, every
module of the installed package imports, no other top-level name is installed,
and every source module of the repository is in the package.
"""

from __future__ import annotations

import subprocess
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SOURCE_FOLDERS = {"smm_pulse": "smm_pulse", "agents": "smm_pulse/agents",
                  "streams": "smm_pulse/streams", "dashboards": "smm_pulse/dashboards"}

# Modules that need an extra (pyproject.toml): the bench's tools, the transformer scorer.
NEED_AN_EXTRA = {"smm_pulse.bench", "smm_pulse.scrape_load", "smm_pulse.scrape_cost",
                 "smm_pulse.sentiment.transformer"}
IMPORT_EVERY_MODULE = f"""
import importlib, pkgutil, smm_pulse
names = [m.name for m in pkgutil.walk_packages(smm_pulse.__path__, "smm_pulse.")]
for name in names:
    if name not in {NEED_AN_EXTRA!r}:
        importlib.import_module(name)
print("\\n".join(names))
"""


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the project installed from the repository."""
    env = tmp_path_factory.mktemp("fresh") / "venv"
    venv.create(env, with_pip=True)
    subprocess.run([str(env / "bin" / "pip"), "install", "--quiet", str(ROOT)], check=True,
                   capture_output=True, timeout=900, cwd=env.parent)
    return env


def run(env: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # From the venv's folder, not the repository's: the checkout must not be on the path.
    return subprocess.run([str(env / "bin" / args[0]), *args[1:]], capture_output=True,
                          text=True, timeout=300, cwd=env.parent)


@pytest.mark.parametrize("name", ["agents", "streams", "dashboards"])
def test_no_generic_top_level_name_is_installed(fresh: Path, name: str):
    result = run(fresh, "python", "-c", f"import {name}")
    assert result.returncode != 0 and "ModuleNotFoundError" in result.stderr


def test_every_module_of_the_installed_package_imports(fresh: Path):
    result = run(fresh, "python", "-c", IMPORT_EVERY_MODULE)
    assert result.returncode == 0, result.stderr
    installed = set(result.stdout.split())
    in_repository = {module_name(folder, path) for folder in SOURCE_FOLDERS
                     for path in (ROOT / folder).rglob("*.py")} - {"smm_pulse"}
    assert in_repository <= installed, sorted(in_repository - installed)


def module_name(folder: str, path: Path) -> str:
    """The installed module name of a source file in one of the repository's folders."""
    parts = path.relative_to(ROOT / folder).with_suffix("").parts
    name = ".".join((*SOURCE_FOLDERS[folder].split("/"), *parts))
    return name.removesuffix(".__init__")


def test_the_command_runs_from_the_installed_package(fresh: Path):
    result = run(fresh, "smm-pulse", "--help")
    assert result.returncode == 0, result.stderr
    assert "rules" in result.stdout and "up" in result.stdout
