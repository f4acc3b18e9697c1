"""Goals become alerts on a real Prometheus that scrapes the real service.

One brand misses its engagement and sentiment goals and gets a mention spike;
another, fed the same way but within its goals (and with a busy usual rate, so
the same burst is no spike for it), must stay quiet.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import requests
import yaml

from tests.integration.conftest import Service, free_port, wait_until, write_config

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


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[tuple[subprocess.Popen, int, Path]]:
    binary = shutil.which("prometheus")
    assert binary, "prometheus is missing: apt-get install prometheus"
    port = free_port()
    process: subprocess.Popen | None = None

    def start(target_port: int, rules: Path) -> subprocess.Popen:
        nonlocal process
        config = tmp_path / "prometheus.yml"
        config.write_text(yaml.safe_dump({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(rules)],
            "scrape_configs": [{"job_name": "smm-pulse", "static_configs": [
                {"targets": [f"127.0.0.1:{target_port}"]}]}],
        }))
        with open(tmp_path / "prometheus.log", "ab") as log:
            process = subprocess.Popen(
                [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                 f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=log)
        return process

    yield start, port, tmp_path
    if process:
        process.terminate()
        process.wait(timeout=30)


def firing_alerts(port: int) -> list[dict]:
    response = requests.get(f"http://127.0.0.1:{port}/api/v1/alerts", timeout=5)
    return [a for a in response.json()["data"]["alerts"] if a["state"] == "firing"]


def test_missed_goals_fire_for_their_brand_only(broker, tmp_path, prometheus):
    start_prometheus, prometheus_port, _ = prometheus
    config = write_config(tmp_path / "smm.yaml", CONFIG)
    service = Service(config, broker.bootstrap, tmp_path / "service.log").start()
    try:
        rules = tmp_path / "rules.yml"
        rules.write_bytes(subprocess.run(
            [sys.executable, "-m", "smm_pulse.cli", "rules", "--config", str(config)],
            capture_output=True, check=True,
            env=service.env).stdout)
        start_prometheus(service.port, rules)
        lines = events(time.time())
        service.feed(lines, tmp_path)
        service.wait_for_events(sum(len(orjson.loads(line)) for line in lines))

        expected = {"SmmEngagementRateBelowGoal", "SmmSentimentBelowGoal", "SmmMentionSpike"}

        def low_brand_alerts_fire() -> None:
            fired = {a["labels"]["alertname"] for a in firing_alerts(prometheus_port)
                     if a["labels"].get("brand") == "lowbrand"}
            assert fired >= expected, fired

        wait_until(low_brand_alerts_fire, timeout=90)
        alerts = firing_alerts(prometheus_port)
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
