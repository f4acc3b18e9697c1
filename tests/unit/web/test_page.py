"""The live page's pure parts: who gets the page at /, what its data says per brand, and that
its shipped files load nothing from elsewhere. (tests/integration/test_live_page.py drives it
in a browser against a worker.)"""

from __future__ import annotations

import re
from importlib import resources
from types import SimpleNamespace

import pytest
from prometheus_client import CollectorRegistry, Counter

from smm_pulse.config import parse_config
from smm_pulse.kpi.catalog import CATALOG, DEAD_LETTERS, Kpi
from smm_pulse.web.exporter import Sample
from smm_pulse.web.overview import COLUMNS, brand_overview, by_brand, dead_letters
from smm_pulse.web.page import ASSETS, wants_html

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


@pytest.mark.parametrize(("accept", "page"), [
    (BROWSER, True),
    ("text/html", True),
    ("*/*", False),  # curl, requests, health checks: the JSON answer / gave before the page
    ("", False),
    ("application/json", False),
    ("application/json, text/html;q=0.5", False),
    ("text/html;q=0.5, application/json;q=0.9", False),
    ("text/html;q=0, */*", False),
    ("text/*, application/json;q=0.5", True),
    ("TEXT/HTML", True),
])
def test_the_page_goes_to_clients_ranking_html_above_json(accept, page):
    assert wants_html(accept) is page


def kpi(metric: str, **const: str) -> Kpi:
    return next(k for k in CATALOG if k.metric == metric
                and set(const.items()) <= set(k.const_labels))


def sample(metric: str, value: float, **labels: str) -> Sample:
    entry = kpi(metric, **{n: v for n, v in labels.items() if n in ("stat", "family")})
    return entry, tuple(labels[name] for name in entry.labels), value


CONFIG = parse_config("brands: {acme: {targets: {engagement_rate: {min: 0.03}}}, globex: {}}",
                      "smm.yaml")
NOW = 1_800_000_000.0
SAMPLES = [
    sample("smm_window_mentions", 4, brand="acme", platform="vk", window="5m"),
    sample("smm_window_mentions", 6, brand="acme", platform="tg", window="5m"),
    sample("smm_window_scored_mentions", 4, brand="acme", platform="vk", window="5m"),
    sample("smm_sentiment_score", 0.5, brand="acme", platform="vk", window="5m"),
    sample("smm_engagement_rate_ratio", 0.02, brand="acme", platform="vk", window="5m"),
    sample("smm_engagement_rate_ratio", 0.04, brand="acme", platform="vk", window="24h"),
    sample("smm_mentions", 10, brand="acme", platform="vk"),
    sample("smm_newest_event_timestamp_seconds", NOW - 15, brand="acme", platform="vk",
           family="mentions"),
    sample("smm_window_mentions", 1, brand="globex", platform="vk", window="5m"),
]


def test_samples_are_grouped_by_brand_with_the_brand_label_taken_out():
    grouped = by_brand(SAMPLES)
    assert set(grouped) == {"acme", "globex"}
    assert [labels for _m, labels, _s in grouped["globex"]] == [{"platform": "vk", "window": "5m"}]


def test_a_brand_card_carries_its_samples_goals_freshness_and_trend():
    card = brand_overview(CONFIG, "acme", by_brand(SAMPLES)["acme"], NOW)
    assert card["platforms"] == ["tg", "vk"]
    assert {"metric": "smm_mentions_total", "labels": {"platform": "vk"}, "value": 10} \
        in card["kpis"]  # names as /metrics exposes them
    assert len(card["kpis"]) == len(by_brand(SAMPLES)["acme"])
    assert card["freshness"] == [{"platform": "vk", "family": "mentions", "newest": NOW - 15,
                                  "age_seconds": 15.0}]
    assert card["trend"] == {"window": "5m", "mentions": 10, "sentiment": 0.5,
                             "engagement_rate": {"vk": 0.02}}
    [er] = [g for g in card["goals"] if g["kpi"] == "engagement_rate"]
    assert (er["status"], er["platform"], er["value"]) == ("met", "vk", 0.04)


def test_a_brand_without_events_still_gets_a_card():
    card = brand_overview(CONFIG, "globex", [], NOW)
    assert card["platforms"] == [] and card["kpis"] == [] and card["goals"]
    assert card["trend"]["mentions"] is None


def test_every_table_column_is_a_catalog_kpi():
    columns = [column.as_json() for column in COLUMNS]
    exposed = {(c["metric"], tuple(sorted(c["labels"].items()))) for c in columns}
    assert len(exposed) == len(COLUMNS)
    assert all(c["title"] and c["unit"] and c["help"] for c in columns)


def test_dead_letters_are_summed_over_topics_by_reason():
    counter = Counter(DEAD_LETTERS.name, DEAD_LETTERS.help, DEAD_LETTERS.labels,
                      registry=CollectorRegistry())
    counter.labels("smm.engagement", "invalid_field").inc(2)
    counter.labels("smm.mentions", "invalid_field").inc()
    counter.labels("smm.mentions", "malformed_json").inc()
    assert dead_letters(SimpleNamespace(dead_letters_total=counter)) == {
        "total": 4, "by_reason": {"invalid_field": 3, "malformed_json": 1}}


def static(name: str) -> str:
    return (resources.files("smm_pulse.web") / "static" / name).read_text(encoding="utf-8")


def test_the_page_refers_only_to_its_shipped_assets():
    html = static("index.html")
    refs = set(re.findall(r'(?:src|href)="([^"]+)"', html))
    assert {f"static/{name}" for name in ASSETS} <= refs
    # relative, to this worker (the data links included): nothing from a CDN
    assert all(not re.match(r"^([a-z]+:|/)", ref) or ref == "data:," for ref in refs), refs


@pytest.mark.parametrize("name", ["index.html", *ASSETS])
def test_the_shipped_files_name_no_other_origin(name):
    urls = set(re.findall(r"https?://[^\s\"'`)]+", static(name)))
    assert urls <= {"http://www.w3.org/2000/svg"}  # the SVG namespace, never fetched
    assert "@import" not in static(name)
