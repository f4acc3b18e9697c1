"""Any declared brand name survives the generated rules and dashboards exactly.

Prometheus expands alert labels and annotations as Go templates and Grafana rewrites
queries before Prometheus parses them, so brand names that look like template
actions, quotes, escapes or regexes are run through promtool (Prometheus's own
template and PromQL code), with Grafana's variable formatting reproduced from its
source.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from smm_pulse.config import Config, parse_config
from smm_pulse.dashboards.boards import render_all
from smm_pulse.dashboards.promql import go_string
from smm_pulse.dashboards.rules import dashboard_url, render, top_authors_url
from smm_pulse.dashboards.templating import go_template_literal

# Declared brand names that broke the generated files; "\\" also ends in a backslash,
# which must not escape the comma after it in the dashboard's list of brands.
HOSTILE_BRANDS = ['"', "\\", "{{ }}", "{{ $value }}", "x{{y", "{{ end }}", '=~".*"', "😀",
                  "\u200f", "a,b"]
# Names the dashboards' brand variable cannot take (docs/alerts.md) but the rules can.
RULES_ONLY_BRANDS = ["line\nbreak", "\ufffd", "`tick`", "$value [[window]]"]
TARGETS = {
    "engagement_rate": {"min": 0.03, "window": "24h", "for": "30m"},
    "sentiment_score": {"min": 0.0, "window": "1h", "min_mentions": 20, "for": "15m"},
    "mention_spike": {"factor": 3, "min_mentions": 50, "for": "5m"},
    "share_of_voice": {"min": 0.25, "window": "24h", "for": "1h"},
    "response_time": {"max": 3600, "window": "24h", "for": "1h"},
    "followers": {"target": 50000, "by": "2027-06-30"},
}


def hostile_config(brands: list[str]) -> Config:
    """Every brand with every kind of goal, read from YAML as ``smm-pulse`` reads it."""
    text = yaml.safe_dump({"brands": {name: {"targets": TARGETS} for name in brands},
                           "windows": ["5m", "1h", "24h"]}, allow_unicode=True, sort_keys=False)
    return parse_config(text, "hostile.yaml")


def labelled(metric: str, **labels: str) -> str:
    """``metric{...}`` for promtool, quoted apart from the code under test: a JSON string
    is a Go string, and PromQL reads Go strings (but takes a raw U+FFFD for bad UTF-8)."""
    quoted = {name: json.dumps(value, ensure_ascii=False).replace("\ufffd", "\\ufffd")
              for name, value in labels.items()}
    return metric + "{" + ",".join(f"{name}={value}" for name, value in quoted.items()) + "}"


def series(metric: str, values: str, **labels: str) -> dict[str, str]:
    return {"series": labelled(metric, **labels), "values": values}


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    assert found, "promtool is missing: apt-get install prometheus (make test does it as root)"
    return found


def promtool_test(promtool: str, tmp_path: Path, rules: str, tests: list[dict[str, Any]]
                  ) -> None:
    (tmp_path / "rules.yml").write_text(rules, encoding="utf-8")
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(
        {"rule_files": ["rules.yml"], "evaluation_interval": "1m",
         "tests": [{"interval": "1m", **test} for test in tests]}, allow_unicode=True),
        encoding="utf-8")
    done = subprocess.run([promtool, "test", "rules", "tests.yml"], capture_output=True,
                          text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_configuration_accepts_every_hostile_brand_name_unchanged():
    brands = HOSTILE_BRANDS + RULES_ONLY_BRANDS
    assert list(hostile_config(brands).brands) == brands


@pytest.mark.parametrize("text", [*HOSTILE_BRANDS, *RULES_ONLY_BRANDS, "\a\b\f\r\t\v\x00\x7f"])
def test_go_string_reads_back_as_the_text(text):
    # A JSON string is a Go string without \a, \v and \x escapes; Go reads all of them.
    literal = go_string(text)
    as_json = literal.replace("\\a", "\\u0007").replace("\\v", "\\u000b")
    as_json = re.sub(r"\\x([0-9a-f]{2})", r"\\u00\1", as_json)
    assert json.loads(as_json) == text
    assert "\n" not in literal and "\ufffd" not in literal


def test_template_literals_leave_names_without_braces_readable():
    assert go_template_literal('acme "bank"') == 'acme "bank"'
    assert go_template_literal("x{y") == '{{ "x{y" }}'


def test_rule_file_with_hostile_brand_names_passes_promtool_check(promtool, tmp_path):
    rules = tmp_path / "rules.yml"
    rules.write_text(render(hostile_config(HOSTILE_BRANDS + RULES_ONLY_BRANDS)),
                     encoding="utf-8")
    done = subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def sentiment_alert(config: Config, brand: str, **annotations: str) -> dict[str, Any]:
    """The sentiment alert of ``brand`` at -0.5 over 1h, as promtool should see it."""
    return {
        "exp_labels": {"brand": brand, "severity": "warning", "kpi": "sentiment_score",
                       "window": "1h"},
        "exp_annotations": {
            "summary": f"{brand}: sentiment below goal",
            "description": "Mean sentiment over 1h is -0.50, goal at least 0.0 (alerts only "
                           "with 20+ scored mentions).",
            "dashboard": dashboard_url(config, brand), **annotations}}


def test_alerts_of_hostile_brands_carry_the_declared_name_exactly(promtool, tmp_path):
    brands = HOSTILE_BRANDS + RULES_ONLY_BRANDS
    config = hostile_config(brands)
    inputs, engagement, sentiment = [], [], []
    for brand in brands:
        inputs += [
            series("smm_engagement_rate_ratio", "0.01x60", brand=brand, platform="vk",
                   window="24h"),
            series("smm_sentiment_score", "-0.5x60", brand=brand, platform="vk", window="1h"),
            series("smm_window_scored_mentions", "30x60", brand=brand, platform="vk",
                   window="1h"),
        ]
        dashboard = dashboard_url(config, brand)
        engagement.append({
            "exp_labels": {"brand": brand, "severity": "warning", "kpi": "engagement_rate",
                           "platform": "vk", "window": "24h"},
            "exp_annotations": {
                "summary": f"{brand}: engagement rate below goal on vk",
                "description": "ER by followers over 24h is 1%, goal at least 3.00%.",
                "dashboard": dashboard}})
        sentiment.append(sentiment_alert(config, brand,  # top lists are on by default
                                         top_authors=top_authors_url(config, brand, "1h")))
    promtool_test(promtool, tmp_path, render(hostile_config(brands)), [{
        "input_series": inputs,
        "alert_rule_test": [
            {"eval_time": "40m", "alertname": "SmmEngagementRateBelowGoal",
             "exp_alerts": engagement},
            {"eval_time": "40m", "alertname": "SmmSentimentBelowGoal", "exp_alerts": sentiment},
        ],
    }])


def grafana_regex(value: str) -> str:
    """Grafana's ``${var:regex}`` format: ``escapeRegex`` of @grafana/data."""
    return re.sub(r"[\\^$*+?.()|\[\]{}/]", lambda m: "\\" + m[0], value)


def grafana_brand(query: str, brand: str) -> str:
    """``query`` with the brand variable as Grafana's Prometheus data source fills it in:
    ``${brand:regex}`` in the regex format, ``$brand`` escaped as it does by default for a
    single-value variable (backslashes and single quotes only)."""
    default = brand.replace("\\", "\\\\").replace("'", "\\\\'")
    query = query.replace("${brand:regex}", grafana_regex(brand))
    return query.replace("${brand}", default).replace("$brand", default)


def grafana_custom_options(query: str) -> list[str]:
    """Values of a Grafana custom variable (scenes' ``transformCsvStringToOptions``)."""
    options = []
    for text in re.findall(r"(?:\\,|[^,])+", query):
        text = text.replace("\\,", ",")
        key_value = re.fullmatch(r"\s*(.+)\s:\s(.+)", text)
        options.append((key_value[2] if key_value else text).strip())
    return options


def brand_panel(board: dict, title: str, row: str | None = None) -> str:
    """The query of the panel ``title`` (under the row ``row``, if given)."""
    current = None
    for panel in board["panels"]:
        if panel["type"] == "row":
            current = panel["title"]
        elif panel["title"] == title and row in (None, current):
            return panel["targets"][0]["expr"]
    raise AssertionError(f"no panel {title!r} under {row!r}")


def test_dashboards_select_exactly_the_hostile_brand(promtool, tmp_path):
    """The brand dashboard as Grafana fills it in, and the overview's fixed queries, read
    by PromQL over the series of every hostile brand: each query finds its brand only."""
    config = hostile_config(HOSTILE_BRANDS)
    boards = {name: json.loads(text) for name, text in render_all(config).items()}
    variable = next(v for v in boards["brand.json"]["templating"]["list"]
                    if v["name"] == "brand")
    assert grafana_custom_options(variable["query"]) == HOSTILE_BRANDS
    brand_query = brand_panel(boards["brand.json"], "ER by followers over $window")

    inputs, tests = [], []
    for value, brand in enumerate(HOSTILE_BRANDS, start=1):
        inputs.append(series("smm_engagement_rate_ratio", f"{value}x5", brand=brand,
                             platform="vk", window="24h"))
        expected = [{"labels": labelled("smm_engagement_rate_ratio", brand=brand,
                                        platform="vk", window="24h"), "value": value}]
        filled = grafana_brand(brand_query, brand).replace("$platform", ".*")
        filled = filled.replace("$window", "24h")
        overview = brand_panel(boards["overview.json"], "ER by followers (24h)", row=brand)
        assert "$" not in overview  # nothing for Grafana to substitute
        tests += [{"expr": filled, "eval_time": "2m", "exp_samples": expected},
                  {"expr": overview, "eval_time": "2m", "exp_samples": expected}]
    promtool_test(promtool, tmp_path, "groups: []\n",
                  [{"input_series": inputs, "promql_expr_test": tests}])


def test_benchmarks_and_top_author_links_of_hostile_brands_carry_them_exactly(promtool,
                                                                              tmp_path):
    """The benchmark series and the sentiment alert's top-authors link, for every name; the
    brand dashboard's reference line, filled in as Grafana does, finds its brand's only."""
    brands = HOSTILE_BRANDS + RULES_ONLY_BRANDS
    config = parse_config(yaml.safe_dump(
        {"brands": {name: {"targets": {"sentiment_score": TARGETS["sentiment_score"]},
                           "benchmarks": {"smm_roi_ratio": float(i)}}
                    for i, name in enumerate(brands, start=1)},
         "windows": ["5m", "1h", "24h"], "top_lists": True}, allow_unicode=True), "h.yaml")
    board = json.loads(render_all(config)["brand.json"])
    [reference] = [t["expr"] for p in board["panels"] if p["title"] == "ROI over $window"
                   for t in p["targets"] if t["legendFormat"] == "benchmark"]
    inputs, sentiment, queries = [], [], []
    for value, brand in enumerate(brands, start=1):
        inputs += [
            series("smm_sentiment_score", "-0.5x60", brand=brand, platform="vk", window="1h"),
            series("smm_window_scored_mentions", "30x60", brand=brand, platform="vk",
                   window="1h"),
        ]
        sentiment.append(sentiment_alert(config, brand,
                                         top_authors=top_authors_url(config, brand, "1h")))
        selected = labelled("brand:smm_benchmark:value", brand=brand)
        recorded = [{"labels": selected[:-1] + ',metric="smm_roi_ratio"}', "value": value}]
        queries.append({"expr": selected, "eval_time": "40m", "exp_samples": recorded})
        if brand in HOSTILE_BRANDS:  # those the brand dashboard can show
            queries.append({"expr": grafana_brand(reference, brand), "eval_time": "40m",
                            "exp_samples": recorded})
    promtool_test(promtool, tmp_path, render(config), [{
        "input_series": inputs,
        "alert_rule_test": [
            {"eval_time": "40m", "alertname": "SmmSentimentBelowGoal", "exp_alerts": sentiment}],
        "promql_expr_test": queries,
    }])
