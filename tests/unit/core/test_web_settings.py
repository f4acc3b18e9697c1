"""The ``api`` and ``ingest_http`` sections: where the API token comes from, and what is
refused at start."""

from __future__ import annotations

import pytest

from smm_pulse.config import ConfigError, parse_config

BRANDS = "brands: {acme: {}}\n"


def test_the_api_token_comes_from_the_environment_or_a_file(tmp_path):
    assert parse_config(BRANDS, "t.yaml", environ={}).api.secret() is None
    assert parse_config(BRANDS, "t.yaml", environ={"SMM_PULSE_API_TOKEN": "abc"}
                        ).api.secret() == "abc"
    secret = tmp_path / "token"
    secret.write_text("from-file\n")
    assert parse_config(BRANDS, "t.yaml", environ={"SMM_PULSE_API_TOKEN_FILE": str(secret)}
                        ).api.secret() == "from-file"


@pytest.mark.parametrize(("body", "problem"), [
    ("api: {protect_metrics: true}", "protect_metrics needs token or token_file"),
    ("api: {token: ''}", "the API token is empty"),
    ("ingest_http: {collectors: {vk: {token_sha256: not-a-hash}}}", "token_sha256"),
    ("ingest_http: {collectors: {vk: {token: plain}}}", "token"),
])
def test_unusable_web_settings_stop_the_start(body, problem):
    with pytest.raises(ConfigError, match=problem):
        parse_config(BRANDS + body, "t.yaml", environ={})


def test_a_token_in_both_the_file_and_a_token_file_is_refused(tmp_path):
    secret = tmp_path / "token"
    secret.write_text("x")
    with pytest.raises(ConfigError, match="not both"):
        parse_config(BRANDS + "api: {token: abc}", "t.yaml",
                     environ={"SMM_PULSE_API_TOKEN_FILE": str(secret)})


def test_an_empty_token_file_is_refused(tmp_path):
    secret = tmp_path / "token"
    secret.write_text("\n")
    with pytest.raises(ConfigError, match="empty"):
        parse_config(BRANDS, "t.yaml", environ={"SMM_PULSE_API_TOKEN_FILE": str(secret)})
