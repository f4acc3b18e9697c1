"""Goals become alerts on a real Prometheus that scrapes the real service, and reach a real
Alertmanager.

One brand misses its engagement, sentiment and business goals and gets a mention
spike; another, fed the same way but within its goals (and with a busy usual
rate, so the same burst is no spike for it), must stay quiet.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import orjson
import pytest
import requests
import yaml
from prometheus_client import CollectorRegistry, Gauge, generate_latest

from smm_pulse.config import parse_config
from smm_pulse.dashboards.rules import render
from tests.integration.conftest import Prometheus, Service, wait_until, write_config
from tests.unit.tools.test_hostile_brand_names import HOSTILE_BRANDS, RULES_ONLY_BRANDS

pytestmark = pytest.mark.integration

GOALS = """
    currency: RUB
    targets:
      engagement_rate: {min: %s, window: 1h, for: 5s}
      sentiment_score: {min: 0.0, window: 1h, min_mentions: 3, for: 5s}
      mention_spike: {factor: 3, min_mentions: 10, for: 5s}
      conversion_rate: {min: 0.1, window: 1h, for: 5s}
      bounce_rate: {max: 0.5, window: 1h, for: 5s}
      cost_per_click: {max: 5, window: 1h, for: 5s}
      customer_acquisition_cost: {max: 50, window: 1h, for: 5s}
      roi: {min: 0.0, window: 1h, for: 5s}"""
CONFIG = f"""
brands:
  lowbrand:{GOALS % 0.5}
  goodbrand:{GOALS % 0.001}
windows: [5m, 1h, 24h]
partitions: 2
top_lists: true
"""
BUSINESS_ALERTS = {"SmmConversionRateBelowGoal", "SmmBounceRateAboveGoal",
                   "SmmCostPerClickAboveGoal", "SmmCustomerAcquisitionCostAboveGoal",
                   "SmmRoiBelowGoal"}
# Per brand: bounced visits of 20, conversions (each a new customer), revenue of each,
# ad clicks for a spend of 100 RUB.
BUSINESS = {"lowbrand": (15, 1, 50.0, 10),  # 5% convert, 75% bounce, CPC 10, CAC 100, ROI -50%
            "goodbrand": (5, 5, 100.0, 50)}  # 25%, 25%, CPC 2, CAC 20, ROI 400%


def events(now: float) -> list[bytes]:
    n = 0

    def event(type_: str, brand: str, ago: float, **fields: object) -> dict:
        nonlocal n
        n += 1
        return {"type": type_, "event_id": f"a{n}", "ts": now - ago, "platform": "vk",
                "brand": brand, **fields}

    lines = []
    for brand, mood, usual in (("lowbrand", -0.8, 24), ("goodbrand", 0.8, 2400)):
        batch = [event("account_metrics", brand, 60, account="main", followers=1000),
                 event("interaction", brand, 30, account="main", action="like", count=10)]
        batch += [event("mention", brand, 30, text="…", sentiment=mood, author=f"critic{i % 2}",
                        reach=1000 * (i + 1)) for i in range(5)]
        batch += [event("mention", brand, 20, text="…") for _ in range(15)]
        # the usual rate: mentions spread over the past day, outside the recent 5 minutes
        batch += [event("mention", brand, 600 + i * (80_000 / usual), text="…")
                  for i in range(usual)]
        bounced, converted, value, clicks = BUSINESS[brand]
        batch += [event("visit", brand, 40, bounced=i < bounced) for i in range(20)]
        batch += [event("conversion", brand, 30, kind="purchase", value=value,
                        new_customer=True) for _ in range(converted)]
        batch.append(event("ad_metrics", brand, 30, account="ads", ad_id="ad1", spend=100.0,
                           currency="RUB", clicks=clicks, impressions=10 * clicks))
        lines += [orjson.dumps(batch[i:i + 500]) for i in range(0, len(batch), 500)]
    return lines


def firing_alerts(prometheus: Prometheus) -> list[dict]:
    alerts = prometheus.api("alerts")["alerts"]
    return [a for a in alerts if a["state"] == "firing"]


def test_missed_goals_fire_for_their_brand_only(broker, tmp_path, prometheus, alertmanager):
    path = tmp_path / "smm.yaml"
    service = Service(path, broker.bootstrap, tmp_path / "service.log")
    # The top-authors links in the annotations point at this worker.
    write_config(path, CONFIG + f"worker_url: http://127.0.0.1:{service.port}\n")
    service.start()
    try:
        prometheus.start(service.port, service.rules(tmp_path / "rules.yml"),
                         alertmanager.start())
        lines = events(time.time())
        service.feed(lines, tmp_path)
        service.wait_for_events(sum(len(orjson.loads(line)) for line in lines))

        expected = {"SmmEngagementRateBelowGoal", "SmmSentimentBelowGoal", "SmmMentionSpike",
                    *BUSINESS_ALERTS}

        def low_brand_alerts_reach_the_receiver() -> None:
            delivered = {a["labels"]["alertname"] for a in alertmanager.alerts()
                         if a["labels"].get("brand") == "lowbrand"}
            assert delivered >= expected, delivered

        wait_until(low_brand_alerts_reach_the_receiver, timeout=120)
        alerts = firing_alerts(prometheus)
        assert not [a for a in alerts if a["labels"].get("brand") == "goodbrand"]
        assert not [a for a in alertmanager.alerts() if a["labels"].get("brand") == "goodbrand"]
        delivered = {a["labels"]["alertname"]: a for a in alertmanager.alerts()}
        engagement = delivered["SmmEngagementRateBelowGoal"]
        assert engagement["labels"]["severity"] == "warning"
        assert engagement["labels"]["platform"] == "vk"
        description = engagement["annotations"]["description"]
        assert "is 1%," in description and "goal at least 50.00%" in description, description
        assert engagement["annotations"]["dashboard"].endswith("var-brand=lowbrand")
        assert delivered["SmmCostPerClickAboveGoal"]["annotations"]["description"] == (
            "CPC over 1h is 10.00 RUB, goal at most 5.00 RUB.")
        assert delivered["SmmCustomerAcquisitionCostAboveGoal"]["labels"]["currency"] == "RUB"
        assert "is -50%," in delivered["SmmRoiBelowGoal"]["annotations"]["description"]

        link = delivered["SmmSentimentBelowGoal"]["annotations"]["top_authors"]
        assert link == (f"http://127.0.0.1:{service.port}/api/brands/lowbrand/top-authors"
                        "?window=1h")
        authors = requests.get(link, timeout=10).json()["top_authors"]
        assert [a["author"] for a in authors] == ["critic0", "critic1"]  # reach 9000, 6000
    finally:
        service.stop()


@pytest.fixture
def exporter() -> Iterator[tuple[int, CollectorRegistry]]:
    """/metrics of a registry the test fills in, on a free port (no service needed)."""
    registry = CollectorRegistry()

    class Metrics(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = generate_latest(registry)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Metrics)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], registry
    server.shutdown()


def test_alerts_of_hostile_brand_names_carry_them_exactly(tmp_path: Path, prometheus, exporter):
    """Brand names that look like Go templates, quotes or regexes, in a real Prometheus."""
    brands = HOSTILE_BRANDS + RULES_ONLY_BRANDS
    goal = {"engagement_rate": {"min": 0.5, "window": "1h", "for": "1s"}}
    config = parse_config(yaml.safe_dump(
        {"brands": {name: {"targets": goal} for name in brands}, "windows": ["5m", "1h"]},
        allow_unicode=True), "hostile.yaml")
    port, registry = exporter
    ratio = Gauge("smm_engagement_rate_ratio", "ER", ["brand", "platform", "window"],
                  registry=registry)
    for name in brands:
        ratio.labels(name, "vk", "1h").set(0.01)
    rules = tmp_path / "rules.yml"
    rules.write_text(render(config), encoding="utf-8")
    prometheus.start(port, rules)

    def engagement_alerts() -> list[dict]:
        try:
            alerts = firing_alerts(prometheus)
        except requests.RequestException:  # Prometheus still starting
            return []
        return [a for a in alerts if a["labels"]["alertname"] == "SmmEngagementRateBelowGoal"]

    def every_brand_fires() -> None:
        assert sorted(a["labels"]["brand"] for a in engagement_alerts()) == sorted(brands)

    wait_until(every_brand_fires, timeout=60)
    for alert in engagement_alerts():
        brand = alert["labels"]["brand"]
        assert alert["annotations"]["summary"] == (
            f"{brand}: engagement rate below goal on vk")
        assert alert["annotations"]["dashboard"].endswith("var-brand=" + quote(brand, safe=""))
