"""Goals become alerts on a real Prometheus that scrapes the real service.

One brand misses its engagement and sentiment goals and gets a mention spike;
another, fed the same way but within its goals (and with a busy usual rate, so
the same burst is no spike for it), must stay quiet.
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
      engagement_rate: {min: %s, window: 1h, for: 5s}
      sentiment_score: {min: 0.0, window: 1h, min_mentions: 3, for: 5s}
      mention_spike: {factor: 3, min_mentions: 10, for: 5s}"""
CONFIG = f"""
brands:
  lowbrand:
    targets:{GOALS % 0.5}
  goodbrand:
    targets:{GOALS % 0.001}
windows: [5m, 1h, 24h]
partitions: 2
"""


def events(now: float) -> list[bytes]:
    n = 0

    def event(kind: str, brand: str, ago: float, **fields: object) -> dict:
        nonlocal n
        n += 1
        return {"type": kind, "event_id": f"a{n}", "ts": now - ago, "platform": "vk",
                "brand": brand, **fields}

    lines = []
    for brand, mood, usual in (("lowbrand", -0.8, 24), ("goodbrand", 0.8, 2400)):
        batch = [event("account_metrics", brand, 60, account="main", followers=1000),
                 event("interaction", brand, 30, account="main", action="like", count=10)]
        batch += [event("mention", brand, 30, text="…", sentiment=mood) for _ in range(5)]
        batch += [event("mention", brand, 20, text="…") for _ in range(15)]
        # the usual rate: mentions spread over the past day, outside the recent 5 minutes
        batch += [event("mention", brand, 600 + i * (80_000 / usual), text="…")
                  for i in range(usual)]
        lines += [orjson.dumps(batch[i:i + 500]) for i in range(0, len(batch), 500)]
    return lines


def firing_alerts(prometheus: Prometheus) -> list[dict]:
    alerts = prometheus.api("alerts")["alerts"]
    return [a for a in alerts if a["state"] == "firing"]


def test_missed_goals_fire_for_their_brand_only(broker, tmp_path, prometheus):
    config = write_config(tmp_path / "smm.yaml", CONFIG)
    service = Service(config, broker.bootstrap, tmp_path / "service.log").start()
    try:
        prometheus.start(service.port, service.rules(tmp_path / "rules.yml"))
        lines = events(time.time())
        service.feed(lines, tmp_path)
        service.wait_for_events(sum(len(orjson.loads(line)) for line in lines))

        expected = {"SmmEngagementRateBelowGoal", "SmmSentimentBelowGoal", "SmmMentionSpike"}

        def low_brand_alerts_fire() -> None:
            fired = {a["labels"]["alertname"] for a in firing_alerts(prometheus)
                     if a["labels"].get("brand") == "lowbrand"}
            assert fired >= expected, fired

        wait_until(low_brand_alerts_fire, timeout=90)
        alerts = firing_alerts(prometheus)
        assert not [a for a in alerts if a["labels"].get("brand") == "goodbrand"]
        engagement = next(a for a in alerts
                          if a["labels"]["alertname"] == "SmmEngagementRateBelowGoal")
        assert engagement["labels"]["severity"] == "warning"
        assert engagement["labels"]["platform"] == "vk"
        description = engagement["annotations"]["description"]
        assert "is 1%," in description and "goal at least 50.00%" in description, description
        assert engagement["annotations"]["dashboard"].endswith("var-brand=lowbrand")
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
