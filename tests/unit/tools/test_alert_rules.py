"""Generated alert rules under ``promtool test rules``: every alert kind, firing and not firing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from smm_pulse.config import Config, parse_config
from smm_pulse.dashboards.rules import rule_file
from tests.unit.core.contract_example import CONTRACT_EXAMPLE

CONFIG = CONTRACT_EXAMPLE
ACME = 'brand="acme"'


def series(name: str, labels: str, values: str) -> dict[str, str]:
    return {"series": f"{name}{{{labels}}}", "values": values}


def firing(alert: str, at: str, *label_sets: dict[str, str]) -> dict[str, Any]:
    return {"eval_time": at, "alertname": alert,
            "exp_alerts": [{"exp_labels": labels} for labels in label_sets]}


def goal(kpi: str, **labels: str) -> dict[str, str]:
    return {"brand": "acme", "severity": "warning", "kpi": kpi, **labels}


def per_platform(alert: str, kpi: str, metric: str, values: dict[str, str], missing: str,
                 before: str, after: str) -> dict[str, Any]:
    """A per-platform goal over 24h: only the ``missing`` platform fires, not ``before`` its
    target's ``for`` but ``after`` it."""
    return {"input_series": [series(metric, f'{ACME},platform="{platform}",window="24h"', v)
                             for platform, v in values.items()],
            "alert_rule_test": [
                firing(alert, before),
                firing(alert, after, goal(kpi, platform=missing, window="24h"))]}


CASES: list[dict[str, Any]] = [
    # ER below 3% on vk fires after 30m; telegram at 5% does not
    per_platform("SmmEngagementRateBelowGoal", "engagement_rate", "smm_engagement_rate_ratio",
                 {"vk": "0.01x60", "tg": "0.05x60"}, "vk", "20m", "40m"),
    {  # negative sentiment with enough scored mentions fires; with too few it does not
        "input_series": [
            series("smm_sentiment_score", f'{ACME},platform="vk",window="1h"', "-0.5x40"),
            series("smm_window_scored_mentions", f'{ACME},platform="vk",window="1h"',
                   "30x20 5x20"),
        ],
        "alert_rule_test": [
            firing("SmmSentimentBelowGoal", "18m", goal("sentiment_score", window="1h")),
            firing("SmmSentimentBelowGoal", "38m"),
        ],
    },
    {  # 100 mentions in 5m against a quiet day: spike
        "input_series": [
            series("smm_window_mentions", f'{ACME},platform="vk",window="5m"', "100x10"),
            series("smm_window_mentions", f'{ACME},platform="vk",window="24h"', "400x10"),
        ],
        "alert_rule_test": [
            firing("SmmMentionSpike", "8m", goal("mention_spike", severity="critical")),
        ],
    },
    {  # as many mentions every 5 minutes all day long: no spike
        "input_series": [
            series("smm_window_mentions", f'{ACME},platform="vk",window="5m"', "100x10"),
            series("smm_window_mentions", f'{ACME},platform="vk",window="24h"', "28800x10"),
        ],
        "alert_rule_test": [firing("SmmMentionSpike", "8m")],
    },
    {  # a jump from nothing that is below the minimum volume: no spike
        "input_series": [
            series("smm_window_mentions", f'{ACME},platform="vk",window="5m"', "10x10"),
            series("smm_window_mentions", f'{ACME},platform="vk",window="24h"', "10x10"),
        ],
        "alert_rule_test": [firing("SmmMentionSpike", "8m")],
    },
    {
        "input_series": [
            series("smm_share_of_voice_ratio", f'{ACME},window="24h"', "0.1x90"),
            series("smm_share_of_voice_ratio", 'brand="globex",window="24h"', "0.1x90"),
        ],
        "alert_rule_test": [
            firing("SmmShareOfVoiceBelowGoal", "70m", goal("share_of_voice", window="24h")),
        ],
    },
    {  # 30% is within the 25% goal
        "input_series": [series("smm_share_of_voice_ratio", f'{ACME},window="24h"', "0.3x90")],
        "alert_rule_test": [firing("SmmShareOfVoiceBelowGoal", "70m")],
    },
    {  # mean above an hour fires; p90 is not what the goal watches
        "input_series": [
            series("smm_response_time_seconds", f'{ACME},platform="vk",window="24h",stat="mean"',
                   "7200x90"),
            series("smm_response_time_seconds", f'{ACME},platform="tg",window="24h",stat="p90"',
                   "7200x90"),
        ],
        "alert_rule_test": [
            firing("SmmResponseTimeAboveGoal", "70m",
                   goal("response_time", platform="vk", window="24h", stat="mean")),
        ],
    },
    # 1% of visits convert on vk (goal 2%) fires after 1h; 3% on tg does not
    per_platform("SmmConversionRateBelowGoal", "conversion_rate", "smm_conversion_rate_ratio",
                 {"vk": "0.01x90", "tg": "0.03x90"}, "vk", "50m", "70m"),
    # bounces above 60% on tg only; at the goal on vk
    per_platform("SmmBounceRateAboveGoal", "bounce_rate", "smm_bounce_rate_ratio",
                 {"vk": "0.6x90", "tg": "0.75x90"}, "tg", "50m", "70m"),
    {  # clicks and customers cost too much on vk; the money carries its currency label
        "input_series": [
            series("smm_cost_per_click", f'{ACME},platform="vk",window="24h",currency="RUB"',
                   "40x90"),
            series("smm_cost_per_click", f'{ACME},platform="tg",window="24h",currency="RUB"',
                   "10x90"),
            series("smm_customer_acquisition_cost",
                   f'{ACME},platform="vk",window="24h",currency="RUB"', "5000x90"),
            series("smm_customer_acquisition_cost",
                   f'{ACME},platform="vk",window="1h",currency="RUB"', "100x90"),
        ],
        "alert_rule_test": [
            firing("SmmCostPerClickAboveGoal", "70m",
                   goal("cost_per_click", platform="vk", window="24h", currency="RUB")),
            firing("SmmCustomerAcquisitionCostAboveGoal", "70m",
                   goal("customer_acquisition_cost", platform="vk", window="24h",
                        currency="RUB")),
        ],
    },
    # ROI of -30% (a loss) fires; 120% does not
    per_platform("SmmRoiBelowGoal", "roi", "smm_roi_ratio", {"vk": "-0.3x90", "tg": "1.2x90"},
                 "vk", "50m", "70m"),
    {  # flat followers will not reach 50,000 by the goal date
        "input_series": [series("smm_followers", f'{ACME},platform="vk"', "1000x120")],
        "alert_rule_test": [firing("SmmFollowersGoalOffTrack", "90m", goal("followers"))],
    },
    {  # +10 a minute reaches it easily
        "input_series": [series("smm_followers", f'{ACME},platform="vk"', "1000+10x120")],
        "alert_rule_test": [firing("SmmFollowersGoalOffTrack", "90m")],
    },
    {
        "input_series": [
            series("up", 'job="smm-pulse",instance="w1"', "1 0x5"),
            series("up", 'job="smm-pulse",instance="w2"', "1x5"),
        ],
        "alert_rule_test": [
            firing("SmmWorkerDown", "3m",
                   {"job": "smm-pulse", "instance": "w1", "severity": "critical"}),
        ],
    },
    {  # one failed message on w1's engagement agent; none on w2
        "input_series": [
            series("smm_internal_errors_total", 'family="engagement",instance="w1"', "0x5 1x10"),
            series("smm_internal_errors_total", 'family="engagement",instance="w2"', "0x15"),
        ],
        "alert_rule_test": [
            firing("SmmInternalErrors", "8m",
                   {"family": "engagement", "instance": "w1", "severity": "critical"}),
            firing("SmmInternalErrors", "3m"),
        ],
    },
    {  # half the events rejected for 15 minutes
        "input_series": [
            series("smm_events_total", 'topic="smm.engagement",type="interaction",'
                   'outcome="rejected"', "0+10x30"),
            series("smm_events_total", 'topic="smm.engagement",type="interaction",'
                   'outcome="accepted"', "0+10x30"),
            series("smm_events_total", 'topic="smm.mentions",type="mention",outcome="accepted"',
                   "0+10x30"),
        ],
        "alert_rule_test": [
            firing("SmmDeadLettersHigh", "20m", {"topic": "smm.engagement", "severity": "warning"}),
        ],
    },
    {  # two workers' lag on one topic adds up past 10,000; a smaller lag elsewhere does not
        "input_series": [
            series("smm_consumer_lag_messages", 'topic="smm.engagement",instance="w1"', "6000x20"),
            series("smm_consumer_lag_messages", 'topic="smm.engagement",instance="w2"', "6000x20"),
            series("smm_consumer_lag_messages", 'topic="smm.mentions",instance="w1"', "9000x20"),
        ],
        "alert_rule_test": [
            firing("SmmConsumerLagHigh", "15m", {"topic": "smm.engagement", "severity": "warning"}),
        ],
    },
    {
        "input_series": [
            series("smm_window_interactions", f'{ACME},platform="vk",window="24h"', "0x90"),
            series("smm_window_mentions", f'{ACME},platform="vk",window="24h"', "0x90"),
            series("smm_window_interactions", 'brand="globex",platform="vk",window="24h"', "5x90"),
            series("smm_window_mentions", 'brand="globex",platform="vk",window="24h"', "0x90"),
        ],
        "alert_rule_test": [
            firing("SmmBrandSilent", "70m",
                   {"brand": "acme", "platform": "vk", "severity": "info"}),
        ],
    },
]


def without_annotations(rules: dict[str, Any]) -> dict[str, Any]:
    """promtool compares annotations exactly; the end-to-end test checks rendered ones."""
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    return rules


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    assert found, "promtool is missing: apt-get install prometheus (make test does it as root)"
    return found


def test_generated_rules_are_valid(promtool: str, tmp_path: Path):
    rules = tmp_path / "rules.yml"
    rules.write_text(yaml.safe_dump(rule_file(parse_config(CONFIG, "smm.yaml"))))
    done = subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_kind_fires_and_holds_back_as_promtool_evaluates_it(promtool, tmp_path):
    rules = tmp_path / "rules.yml"
    rules.write_text(yaml.safe_dump(without_annotations(
        rule_file(parse_config(CONFIG, "smm.yaml")))))
    tests = tmp_path / "tests.yml"
    tests.write_text(yaml.safe_dump({
        "rule_files": [rules.name],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", **case} for case in CASES],
    }))
    done = subprocess.run([promtool, "test", "rules", str(tests)], capture_output=True,
                          text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_goal_kind_of_the_contract_has_an_alert():
    rules = rule_file(parse_config(CONFIG, "smm.yaml"))
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
    kinds = {r["labels"].get("kpi") for g in rules["groups"] for r in g["rules"] if "alert" in r}
    assert kinds >= {"engagement_rate", "sentiment_score", "mention_spike", "share_of_voice",
                     "response_time", "followers", "conversion_rate", "bounce_rate",
                     "cost_per_click", "customer_acquisition_cost", "roi"}
    assert {"SmmConversionRateBelowGoal", "SmmBounceRateAboveGoal", "SmmCostPerClickAboveGoal",
            "SmmCustomerAcquisitionCostAboveGoal", "SmmRoiBelowGoal"} <= alerts
    assert {"SmmWorkerDown", "SmmInternalErrors", "SmmDeadLettersHigh", "SmmConsumerLagHigh",
            "SmmBrandSilent"} <= alerts


def test_brand_names_are_escaped_in_promql():
    brand = 'Say "hi" \\'  # a quote and a backslash
    targets = {"engagement_rate": {"min": 1}}
    config = Config.model_validate({"brands": {brand: {"targets": targets}}})
    expr = rule_file(config)["groups"][1]["rules"][0]["expr"]
    assert 'brand="Say \\"hi\\" \\\\"' in expr


def test_alert_links_point_at_the_configured_grafana():
    config = parse_config("brands: {acme: {targets: {engagement_rate: {min: 0.03}}}}\n"
                          "grafana_url: https://grafana.example.org/", "smm.yaml")
    [rule] = [r for g in rule_file(config)["groups"] for r in g["rules"]
              if r.get("alert") == "SmmEngagementRateBelowGoal"]
    assert rule["annotations"]["dashboard"] == (
        "https://grafana.example.org/d/smm-pulse-brand?var-brand=acme")


def alert(config: Config, name: str) -> dict[str, Any]:
    [rule] = [r for g in rule_file(config)["groups"] for r in g["rules"]
              if r.get("alert") == name]
    return rule


def test_money_goals_are_described_in_the_brands_currency():
    config = parse_config(CONFIG, "smm.yaml")
    cpc = alert(config, "SmmCostPerClickAboveGoal")["annotations"]
    assert cpc["description"] == ('CPC over 24h is {{ $value | printf "%.2f" }} RUB, goal at '
                                  "most 25.00 RUB.")
    assert cpc["summary"] == "acme: cost per click above goal on {{ $labels.platform }}"
    roi = alert(config, "SmmRoiBelowGoal")["annotations"]["description"]
    assert roi == "ROI over 24h is {{ $value | humanizePercentage }}, goal at least 50.00%."


def test_sentiment_alerts_link_the_top_authors_of_their_window_when_top_lists_are_kept():
    brand = 'Acme {{ "x" }}/ü'  # a template, a slash and a non-ASCII letter
    targets = {"sentiment_score": {"min": 0.0, "window": "1h"}}
    config = Config.model_validate({"brands": {brand: {"targets": targets}}, "top_lists": True,
                                    "worker_url": "https://pulse.example.org:8443/"})
    link = alert(config, "SmmSentimentBelowGoal")["annotations"]["top_authors"]
    url = ("https://pulse.example.org:8443/api/brands/Acme%20%7B%7B%20%22x%22%20%7D%7D%2F%C3%BC"
           "/top-authors?window=1h")
    assert link == url  # quoted, so no "{" is left for Go templates to read
    off = Config.model_validate({"brands": {brand: {"targets": targets}}, "top_lists": False})
    assert "top_authors" not in alert(off, "SmmSentimentBelowGoal")["annotations"]


def test_the_worker_url_defaults_to_the_local_web_port():
    config = parse_config("brands: {acme: {targets: {sentiment_score: {min: 0}}}}\n"
                          "top_lists: true", "smm.yaml")
    assert alert(config, "SmmSentimentBelowGoal")["annotations"]["top_authors"] == (
        "http://127.0.0.1:6066/api/brands/acme/top-authors?window=1h")


def test_benchmarks_are_constant_series_per_brand_and_metric():
    records = [r for r in rule_file(parse_config(CONFIG, "smm.yaml"))["groups"][0]["rules"]
               if r["record"] == "brand:smm_benchmark:value"]
    assert [(r["labels"], r["expr"]) for r in records] == [
        ({"brand": "acme", "metric": "smm_engagement_rate_ratio"}, "vector(0.035)"),
        ({"brand": "acme", "metric": "smm_conversion_rate_ratio"}, "vector(0.025)"),
        ({"brand": "acme", "metric": "smm_cost_per_click"}, "vector(20.0)"),
    ]


def _rules(config_text: str) -> list[dict[str, Any]]:
    return [rule for group in rule_file(parse_config(config_text, "smm.yaml"))["groups"]
            for rule in group["rules"]]


def test_no_rule_reads_a_family_or_window_the_export_leaves_out(promtool: str, tmp_path: Path):
    text = ("brands:\n  acme:\n    competitors: [globex]\n    targets:\n"
            "      engagement_rate: {min: 0.03, window: 24h}\n"
            "      followers: {target: 1000, by: 2027-06-30}\n  globex: {}\n"
            "export: {families: [engagement], windows: [1h, 24h]}\n")
    rules = _rules(text)
    assert [r["record"] for r in rules if "record" in r] == ["brand:smm_followers:sum"]
    assert {r["alert"] for r in rules if "alert" in r} == {
        "SmmEngagementRateBelowGoal", "SmmFollowersGoalOffTrack", "SmmWorkerDown",
        "SmmInternalErrors", "SmmDeadLettersHigh", "SmmConsumerLagHigh"}
    assert not [r for r in rules if "mention" in r["expr"] or 'window="5m"' in r["expr"]]
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump(rule_file(parse_config(text, "smm.yaml"))))
    done = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_spike_is_judged_on_the_shortest_and_longest_exported_windows():
    rules = _rules("brands: {acme: {targets: {mention_spike: {}}}}\n"
                   "export: {windows: [1h, 24h]}\n")
    recent = next(r for r in rules if r.get("record") == "brand:smm_mention_recent_rate:per_second")
    assert recent["expr"] == 'sum by (brand) (smm_window_mentions{window="1h"}) / 3600'
    spike = next(r for r in rules if r.get("alert") == "SmmMentionSpike")
    assert 'window="1h"' in spike["expr"] and 'window="5m"' not in spike["expr"]
