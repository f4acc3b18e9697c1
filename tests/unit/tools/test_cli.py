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


def test_tls_settings_without_a_cluster_address_do_not_start_the_plaintext_embedded_broker(
        monkeypatch):
    monkeypatch.delenv("SMM_KAFKA_BOOTSTRAP", raising=False)
    monkeypatch.setenv("SMM_KAFKA_SECURITY_PROTOCOL", "SSL")
    result = CliRunner().invoke(app, ["up", "--config", str(ROOT / "deploy" / "smm.yaml")])
    assert result.exit_code == 2
    assert result.output.strip() == ("kafka: security_protocol is SSL, but the embedded broker "
                                     "speaks PLAINTEXT: set SMM_KAFKA_BOOTSTRAP to your cluster")


def test_feed_without_a_config_file_reports_a_bad_kafka_variable_in_one_line(
        monkeypatch, tmp_path):
    monkeypatch.delenv("SMM_PULSE_CONFIG", raising=False)
    monkeypatch.setenv("SMM_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    source = tmp_path / "events.jsonl"
    source.write_text("{}\n")
    result = CliRunner().invoke(app, ["feed", str(source), "--quiet"])
    assert result.exit_code == 2
    assert "environment: kafka: sasl_username is needed with SASL_SSL" in result.output
    assert "Traceback" not in result.output
