"""Every panel query of every generated dashboard returns data from a real Prometheus.

The service runs on the real broker, a real Prometheus scrapes it with the
generated rules, and the feed covers every kind of event, a late event and a
bad one. Variables are filled as Grafana would: custom ones with their current
value, the platform query variable from Prometheus's label values.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from tests.integration.conftest import Prometheus, Service, wait_until, write_config

pytestmark = pytest.mark.integration

CONFIG = """
brands:
  acme:
    competitors: [globex]
    targets:
      engagement_rate: {min: 0.03, window: 24h}
      sentiment_score: {min: 0.0, window: 1h, min_mentions: 2}
      mention_spike: {factor: 3, min_mentions: 5}
      share_of_voice: {min: 0.25, window: 24h}
      response_time: {max: 3600, window: 24h}
      followers: {target: 50000, by: 2030-06-30}
      conversion_rate: {min: 0.02, window: 24h}
      cost_per_click: {max: 1.5, window: 24h}
    benchmarks: {smm_engagement_rate_ratio: 0.035, smm_cost_per_click: 0.5}
    campaigns: [spring]
  globex: {competitors: [acme]}
windows: [5m, 1h, 24h]
partitions: 2
"""
RATE_INTERVAL = "30s"  # what Grafana would put for $__rate_interval at a 1 s scrape
VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")


def feed(now: float) -> tuple[list[bytes], int]:
    """Lines with every event kind for both brands on two platforms, one late, one bad."""
    n = 0

    def event(type_: str, brand: str, platform: str, ago: float, **fields: object) -> dict:
        nonlocal n
        n += 1
        return {"type": type_, "event_id": f"d{n}", "ts": now - ago, "platform": platform,
                "brand": brand, "account": "main", **fields}

    batch = []
    for brand in ("acme", "globex"):
        for platform in ("vk", "telegram"):
            batch += [
                event("account_metrics", brand, platform, 7200, followers=1000),
                event("account_metrics", brand, platform, 60, followers=1100),
                event("post_metrics", brand, platform, 120, post_id="p1", likes=40,
                      comments=5, shares=3, saves=2, views=900, reach=700, impressions=1000,
                      clicks=30),
                event("interaction", brand, platform, 30, action="like", count=3),
                event("interaction", brand, platform, 30, action="follow", count=2),
                event("interaction", brand, platform, 30, action="unfollow"),
                event("message", brand, platform, 600, thread_id="t1", direction="in"),
                event("message", brand, platform, 300, thread_id="t1", direction="out"),
                event("message", brand, platform, 100, thread_id="t2", direction="in"),
                *(event("mention", brand, platform, ago, text="…", sentiment=mood,
                        author_followers=500)
                  for ago, mood in ((20, 0.6), (40, -0.4), (50, 0.0), (3 * 3600, 0.3))),
                event("visit", brand, platform, 40, bounced=True, new_visitor=True,
                      duration_seconds=5, pages=1),
                event("visit", brand, platform, 35, duration_seconds=120, pages=4),
                *(event("conversion", brand, platform, 30, kind=kind, value=50,
                        new_customer=True, campaign="spring")
                  for kind in ("lead", "signup", "purchase", "other")),
                event("ad_metrics", brand, platform, 3600, ad_id="ad1", spend=10.0,
                      clicks=20, impressions=2000, reach=1500, campaign="spring"),
                event("ad_metrics", brand, platform, 60, ad_id="ad1", spend=25.0, clicks=45,
                      impressions=4500, reach=3000, campaign="spring"),
            ]
    batch.append(event("interaction", "acme", "vk", 3 * 86400, action="like"))  # late
    bad = orjson.dumps(event("mention", "nobody", "vk", 10, text="…"))  # undeclared brand
    return [orjson.dumps(batch), bad], len(batch) + 1


def variables(board: dict, prometheus: Prometheus) -> dict[str, str]:
    """Each template variable's value as Grafana would substitute it."""
    values: dict[str, str] = {}
    for variable in board.get("templating", {}).get("list", []):
        if variable["type"] == "custom":
            values[variable["name"]] = variable["current"]["value"]
        else:  # label_values(selector, label)
            match = re.fullmatch(r"label_values\((.*), (\w+)\)", variable["query"])
            assert match, variable["query"]
            found = prometheus.api(f"label/{match[2]}/values",
                                   **{"match[]": fill(match[1], values)})
            assert found, f"variable {variable['name']} has no values"
            values[variable["name"]] = "(?:" + "|".join(map(re.escape, found)) + ")"
    return values


def fill(expr: str, values: dict[str, str]) -> str:
    values = {"__rate_interval": RATE_INTERVAL, **values}
    return VARIABLE.sub(lambda m: values[m[1] or m[2]], expr)


def panel_queries(board: dict) -> list[tuple[str, str]]:
    return [(panel["title"], target["expr"])
            for panel in board["panels"] if panel["type"] != "row"
            for target in panel["targets"]]


def test_every_panel_of_every_dashboard_returns_data(broker, tmp_path, prometheus):
    config = write_config(tmp_path / "smm.yaml", CONFIG)
    service = Service(config, broker.bootstrap, tmp_path / "service.log").start()
    try:
        prometheus.start(service.port, service.rules(tmp_path / "rules.yml"))
        out = tmp_path / "dashboards"
        subprocess.run([sys.executable, "-m", "smm_pulse.cli", "dashboards", "--config",
                        str(config), "--out", str(out)], check=True, capture_output=True)
        boards = {path.name: orjson.loads(path.read_bytes()) for path in out.glob("*.json")}
        assert set(boards) == {"overview.json", "brand.json", "competitors.json", "health.json"}
        lines, total = feed(time.time())
        service.feed(lines, tmp_path)
        service.wait_for_events(total)

        def every_panel_has_data() -> None:
            empty = []
            for name, board in sorted(boards.items()):
                values = variables(board, prometheus)
                for title, expr in panel_queries(board):
                    if not prometheus.api("query", query=fill(expr, values))["result"]:
                        empty.append(f"{name}: {title}: {fill(expr, values)}")
            assert not empty, "panels without data:\n" + "\n".join(empty)

        wait_until(every_panel_has_data, timeout=120)
        assert sum(len(panel_queries(b)) for b in boards.values()) > 50
    finally:
        service.stop()


def test_dashboards_command_needs_an_output_directory(tmp_path: Path):
    done = subprocess.run([sys.executable, "-m", "smm_pulse.cli", "dashboards", "--config",
                           str(write_config(tmp_path / "smm.yaml", CONFIG))],
                          capture_output=True)
    assert done.returncode == 2 and b"--out" in done.stderr
