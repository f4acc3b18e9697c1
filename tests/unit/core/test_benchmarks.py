"""A brand's benchmarks: any KPI a panel shows, by its catalog metric name; anything else is
a configuration error that says what was meant."""

from __future__ import annotations

import pytest

from smm_pulse.config import ConfigError, parse_config
from smm_pulse.kpi.benchmarks import BENCHMARKABLE, check_benchmarks


def config_with(benchmarks: str):
    return parse_config(f"brands: {{acme: {{benchmarks: {benchmarks}}}}}", "smm.yaml")


def test_gauges_of_the_catalog_are_benchmarks():
    config = config_with("{smm_engagement_rate_ratio: 0.035, smm_cost_per_click: 12.5}")
    check_benchmarks(config, "smm.yaml")
    assert config.brands["acme"].benchmarks == {"smm_engagement_rate_ratio": 0.035,
                                                "smm_cost_per_click": 12.5}


@pytest.mark.parametrize(("name", "hint"), [
    ("smm_conversion_rate", "did you mean 'smm_conversion_rate_ratio'?"),
    ("smm_mentions", "did you mean"),  # a counter: its panel shows a rate
    ("smm_newest_event_timestamp_seconds", "did you mean"),  # shown as an age
    ("smm_nothing_like_it_at_all", "see docs/metrics.md"),
])
def test_names_no_panel_shows_are_rejected_with_a_hint(name: str, hint: str):
    with pytest.raises(ConfigError) as error:
        check_benchmarks(config_with(f"{{{name}: 1}}"), "smm.yaml")
    message = str(error.value)
    assert message.startswith(f"smm.yaml: brands.acme.benchmarks.{name}: not a KPI"), message
    assert hint in message


@pytest.mark.parametrize(("benchmarks", "expected"), [
    ("{smm_engagement_rate_ratio: .nan}", "finite number"),
    ("{ER: 0.03}", "String should match pattern"),
    ("{smm_engagement_rate_ratio: high}", "valid number"),
])
def test_benchmarks_that_are_not_a_metric_and_a_number_fail_when_parsed(benchmarks, expected):
    with pytest.raises(ConfigError, match=expected):
        config_with(benchmarks)


def test_every_business_kpi_can_have_a_benchmark():
    assert {"smm_conversion_rate_ratio", "smm_bounce_rate_ratio", "smm_cost_per_click",
            "smm_customer_acquisition_cost", "smm_roi_ratio"} <= BENCHMARKABLE
