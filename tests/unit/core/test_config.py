"""Configuration validation: errors name the file, the key and the problem."""

from __future__ import annotations

import pytest

from smm_pulse.config import TARGET_FAMILIES, ConfigError, Targets, parse_config
from smm_pulse.demo.feeder import default_config_path
from smm_pulse.streams.topics import Family
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
        ("brands: {acme: {targets: {mention_spike: {}}}}\nwindows: [1h]",
         "mention_spike: a spike is judged against the usual rate, which needs two windows"),
        ("brands: {acme: {}}\nplatforms: [Rutube]", "smm.yaml: platforms[0]: String should match"),
        ("brands: {acme: {targets: {sentiment_score: {min: 0}}}}\n"
         "export: {families: [engagement]}",
         "smm.yaml: brands.acme.targets.sentiment_score: its alert reads the mentions KPIs, "
         "which export.families leaves out"),
        ("brands: {acme: {targets: {response_time: {max: 60, window: 24h}}}}\n"
         "export: {windows: [5m, 1h]}",
         "brands.acme.targets.response_time.window: '24h' is not exported (export.windows: "
         "['5m', '1h'])"),
        ("brands: {acme: {targets: {mention_spike: {}}}}\nexport: {windows: [1h]}",
         "needs two windows exported (export.windows)"),
        ("brands: {acme: {}}\nexport: {windows: [7d]}",
         "smm.yaml: export.windows: '7d' is not one of the configured windows"),
        ("brands: {acme: {}}\nexport: {families: []}", "export.families: leave it out"),
        ("brands: {acme: {}}\nexport: {families: [reach]}", "smm.yaml: export.families[0]:"),
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


def test_ids_are_kept_an_hour_past_the_longest_window_unless_configured():
    text = "brands: {acme: {}}\n"
    assert parse_config(text, "smm.yaml", environ={}).dedup_extra_seconds == 3600
    assert parse_config(text + "dedup_extra_seconds: 60", "smm.yaml",
                        environ={}).dedup_extra_seconds == 60
    overridden = parse_config(text, "smm.yaml", environ={"SMM_PULSE_DEDUP_EXTRA_SECONDS": "90"})
    assert overridden.dedup_extra_seconds == 90
    for wrong in ("-1", "an hour", "inf", "nan"):
        with pytest.raises(ConfigError, match="dedup_extra_seconds"):
            parse_config(text, "smm.yaml", environ={"SMM_PULSE_DEDUP_EXTRA_SECONDS": wrong})


def test_changelog_end_markers_are_auto_on_or_off():
    text = "brands: {acme: {}}\n"
    assert parse_config(text, "smm.yaml", environ={}).changelog_end_markers == "auto"
    environ = {"SMM_PULSE_CHANGELOG_END_MARKERS": "on"}
    assert parse_config(text, "smm.yaml", environ=environ).changelog_end_markers == "on"
    with pytest.raises(ConfigError, match="changelog_end_markers"):
        parse_config(text + "changelog_end_markers: sometimes", "smm.yaml", environ={})


@pytest.mark.parametrize(("targets", "expected"), [
    ("{bounce_rate: {max: 1.5}}", "brands.acme.targets.bounce_rate.max: Input should be less "
                                  "than or equal to 1"),
    ("{cost_per_click: {max: 0}}", "brands.acme.targets.cost_per_click.max: Input should be "
                                   "greater than 0"),
    ("{roi: {min: -0.2, window: 2h}}", "brands.acme.targets.roi.window: '2h' is not one of"),
])
def test_business_targets_are_checked_like_the_others(targets: str, expected: str):
    with pytest.raises(ConfigError, match=expected):
        parse_config(f"brands: {{acme: {{targets: {targets}}}}}", "smm.yaml")


def test_business_targets_default_to_a_day_judged_for_an_hour():
    targets = parse_config("brands: {acme: {targets: {roi: {min: -0.1}, customer_acquisition_cost: "
                           "{max: 40}, conversion_rate: {min: 0.02}}}}", "smm.yaml"
                           ).brands["acme"].targets
    assert (targets.roi.min, targets.roi.window, targets.roi.for_) == (-0.1, "24h", "1h")
    assert targets.customer_acquisition_cost.for_ == "1h"
    assert targets.conversion_rate.for_ == "30m"


def test_every_kind_of_target_names_the_kpi_family_its_alert_reads():
    assert set(TARGET_FAMILIES) == set(Targets.model_fields)


def test_everything_is_exported_unless_the_export_says_otherwise():
    every = parse_config("brands: {acme: {}}", "smm.yaml")
    assert every.exported_families == set(Family)
    assert every.exported_windows == every.windows == ["5m", "1h", "24h"]
    chosen = parse_config("brands: {acme: {}}\nexport: {families: [voice], windows: [24h, 5m]}",
                          "smm.yaml")
    assert chosen.exported_families == {Family.VOICE}
    assert chosen.exported_windows == ["5m", "24h"]  # shortest first, as the windows
