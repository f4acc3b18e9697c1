"""The command line's answers to a user's mistakes: one clear line and exit code 2."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from smm_pulse.cli import app

ROOT = Path(__file__).resolve().parents[3]


def test_a_data_directory_that_cannot_be_made_is_one_line_not_a_traceback():
    result = CliRunner().invoke(app, ["up", "--config", str(ROOT / "deploy" / "smm.yaml"),
                                      "--data-dir", "/proc/no-such-place/data"])
    assert result.exit_code == 2
    assert "data directory:" in result.output
    assert "Traceback" not in result.output
