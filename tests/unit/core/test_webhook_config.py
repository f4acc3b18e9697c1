"""The configuration's ``webhooks:`` section: a collector's brand must be declared, its secret
given once (inline or in a file, whose trailing newline is not part of it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from smm_pulse.config import ConfigError, parse_config

VK = "vk: {shop: {brand: acme, group_id: 7, confirmation: c0nf1rm, "


def config(webhooks: str):
    return parse_config(f"brands: {{acme: {{}}}}\nwebhooks: {{{webhooks}}}\n", "t.yaml",
                        environ={})


def test_a_collector_of_an_undeclared_brand_is_a_configuration_error():
    with pytest.raises(ConfigError, match=r"webhooks\.telegram\.news\.brand: 'globex' is not"):
        config("telegram: {news: {brand: globex, channel_id: -100, secret_token: t}}")


def test_a_secret_is_needed_and_only_once():
    with pytest.raises(ConfigError, match="secret or secret_file is needed"):
        config(VK + "}}")
    with pytest.raises(ConfigError, match="not both"):
        config(VK + "secret: s, secret_file: /etc/hostname}}")


def test_a_secret_file_is_read_without_its_trailing_newline(tmp_path: Path):
    secret = tmp_path / "vk-secret"
    secret.write_text("s3cr3t\n")
    hook = config(VK + f"secret_file: {secret}}}}}").webhooks.vk["shop"]
    assert hook.secret_value() == "s3cr3t"
    assert config(VK + "secret: s3cr3t}}").webhooks.any


def test_without_webhooks_none_is_configured():
    assert not parse_config("brands: {acme: {}}\n", "t.yaml", environ={}).webhooks.any
