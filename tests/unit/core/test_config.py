"""Configuration validation: errors name the file, the key and the problem."""

from __future__ import annotations

import pytest

from smm_pulse.config import ConfigError, parse_config
from smm_pulse.demo.feeder import default_config_path
from tests.unit.core.contract_example import CONTRACT_EXAMPLE


def test_contract_example_is_valid():
    config = parse_config(CONTRACT_EXAMPLE, "smm.yaml")
    assert config.competitive_set("acme") == ["acme", "globex", "initech"]
    assert config.brands["acme"].targets.engagement_rate.for_ == "30m"
    assert config.longest_window_seconds == 86_400


def test_shipped_demo_configuration_is_valid():
    with open(default_config_path(), encoding="utf-8") as file:
        parse_config(file.read(), "demo.yaml")


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("brands: {acme: {competitors: [nobody]}}",
         "smm.yaml: brands.acme.competitors[0]: 'nobody' is not a declared brand"),
        ("brands: {acme: {competitors: [acme]}}", "a brand cannot be its own competitor"),
        ("brands: {acme: {competitors: [b, b]}, b: {}}", "'b' is listed twice"),
        ("brands: {acme: {targets: {engagement_rate: {min: 0.1, window: 5 minutes}}}}",
         "smm.yaml: brands.acme.targets.engagement_rate.window:"),
        ("brands: {acme: {targets: {speed: {min: 1}}}}",
         "smm.yaml: brands.acme.targets.speed: Extra inputs are not permitted"),
        ("brands: {acme: {}}\nwindows: [5m, 300s]", "windows must be distinct"),
        ("brands: {}", "smm.yaml: brands:"),
        ("brands: {acme: {targets: {engagement_rate: {min: 0.1, window: 7d}}}}",
         "smm.yaml: brands.acme.targets.engagement_rate.window: '7d' is not one of the "
         "configured windows"),
        ("[1, 2]", "smm.yaml: (top level): expected a mapping"),
        ("brands: {acme: {]", "smm.yaml: not valid YAML"),
        ("brands: {acme: {}}\nplatforms: [Rutube]", "smm.yaml: platforms[0]: String should match"),
    ],
)
def test_invalid_configuration_names_file_key_and_problem(yaml_text, expected):
    with pytest.raises(ConfigError) as error:
        parse_config(yaml_text, "smm.yaml")
    assert expected in str(error.value)


def test_brand_names_are_nfc_normalised():
    config = parse_config("brands: {\"Cafe\u0301\": {}}", "smm.yaml")
    assert list(config.brands) == ["Café"]


def test_declared_platforms_are_kept_as_lowercase_ids():
    config = parse_config("brands: {acme: {}}\nplatforms: [rutube, max.ru]", "smm.yaml")
    assert config.platforms == ["rutube", "max.ru"]
