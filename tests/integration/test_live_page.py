"""The live page in a real browser: Debian's chromium, driven by Playwright, against a worker fed
with known events. The numbers it shows are those of /metrics, goals are coloured as the
targets say, it updates as events arrive, and it loads nothing from elsewhere. With
SMM_PULSE_SCREENSHOT=docs the screenshot goes to docs/live-page.png, the one README.md shows;
else next to the test's other files, so a run leaves the repository as it was.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests
from playwright.sync_api import Page, expect, sync_playwright

from smm_pulse.config import load_config
from smm_pulse.kpi.catalog import CATALOG
from tests.integration.conftest import Samples, Service, value, wait_until

pytestmark = pytest.mark.integration

# The demo's brands and goals, so the screenshot shows what `make demo` shows.
CONFIG = (resources.files("smm_pulse.demo") / "demo.yaml").read_text(encoding="utf-8")
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "live-page.png"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
WINDOWED = {k.sample_name for k in CATALOG if "window" in k.labels}
UPDATE_SECONDS = 30  # the page fetches every 5 s


class Feed:
    def __init__(self, now: float) -> None:
        self.now = now
        self.lines: list[bytes] = []
        self.events = 0
        self._n = 0

    def add(self, kind: str, brand: str, platform: str, ago: float = 30, **fields: Any) -> None:
        self._n += 1
        self.lines.append(orjson.dumps({"type": kind, "event_id": f"{brand}-{self._n}",
                                        "ts": self.now - ago, "platform": platform,
                                        "brand": brand, **fields}))
        self.events += 1

    def mentions(self, brand: str, platform: str, scores: list[float]) -> None:
        for i, score in enumerate(scores):
            self.add("mention", brand, platform, ago=20 + i, text=f"{brand} mention {i}",
                     sentiment=score)

    def post(self, brand: str, platform: str, followers: int, **counters: int) -> None:
        self.add("account_metrics", brand, platform, ago=60, account=f"{brand}-{platform}",
                 followers=followers)
        self.add("post_metrics", brand, platform, ago=40, account=f"{brand}-{platform}",
                 post_id=f"{platform}-1", **counters)


def known_events(now: float) -> Feed:
    feed = Feed(now)
    # acme-bank (goals: ER >= 3%, sentiment >= 0 from 20 mentions, followers 250,000):
    # ER vk (3000 + 400 + 800) / 120,000 = 3.5% meets it; telegram 540 / 45,000 = 1.2% misses.
    feed.post("acme-bank", "vk", 120_000, likes=3000, comments=400, shares=800, reach=60_000,
              views=90_000)
    feed.post("acme-bank", "telegram", 45_000, likes=400, comments=50, shares=90, reach=9000)
    # 24 scored mentions, mean (10 * -0.6 + 8 * 0.3) / 24 = -0.15: missed.
    feed.mentions("acme-bank", "vk", [-0.6] * 6 + [0.3] * 5 + [0.0] * 3)
    feed.mentions("acme-bank", "x", [-0.6] * 4 + [0.3] * 3 + [0.0] * 3)
    feed.add("message", "acme-bank", "vk", ago=50, account="acme-bank-vk", thread_id="t1",
             direction="in")
    feed.add("message", "acme-bank", "vk", ago=20, account="acme-bank-vk", thread_id="t1",
             direction="out")
    # globex-bank: ER (1200 + 100 + 300) / 80,000 = 2%, at its goal: met.
    feed.post("globex-bank", "vk", 80_000, likes=1200, comments=100, shares=300, reach=20_000)
    feed.mentions("globex-bank", "vk", [0.4] * 12)
    feed.post("initech-bank", "telegram", 30_000, likes=200, comments=20, shares=10)
    feed.mentions("initech-bank", "telegram", [0.2] * 5)
    # Связь+ (reply goal 30 min): answered in a minute on telegram; one unanswered on vk.
    feed.post("Связь+", "vk", 51_000, likes=500, comments=90, shares=40, reach=12_000)
    feed.add("message", "Связь+", "telegram", ago=100, account="svyaz-tg", thread_id="s1",
             direction="in")
    feed.add("message", "Связь+", "telegram", ago=40, account="svyaz-tg", thread_id="s1",
             direction="out")
    feed.add("message", "Связь+", "vk", ago=30, account="svyaz-vk", thread_id="s2",
             direction="in")
    # Rejected: a brand nobody declared.
    feed.add("mention", "hooli", "vk", text="who?")
    return feed


def all_families_counted(service: Service) -> None:
    samples = service.metrics()
    assert value(samples, "smm_window_mentions", brand="initech-bank", platform="telegram",
                 window="24h") == 5
    assert value(samples, "smm_share_of_voice_ratio", brand="acme-bank", window="24h")
    assert value(samples, "smm_response_time_seconds", brand="Связь+", platform="telegram",
                 window="24h", stat="mean") is not None
    assert value(samples, "smm_engagement_rate_ratio", brand="globex-bank", platform="vk",
                 window="24h") is not None


@pytest.fixture
def page(service: Service) -> Iterator[Page]:
    chromium = shutil.which("chromium")
    assert chromium, "chromium is missing: apt-get install chromium (make tools does it as root)"
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        opened = browser.new_page(viewport={"width": 1400, "height": 900})
        yield opened
        browser.close()


def url(service: Service, path: str = "/") -> str:
    return f"http://127.0.0.1:{service.port}{path}"


def shown_cells(page: Page) -> list[dict[str, Any]]:
    return page.eval_on_selector_all("article.card td[data-metric]", """cells => cells.map(c => ({
        brand: c.closest("article").dataset.brand, platform: c.closest("tr").dataset.platform,
        metric: c.dataset.metric, labels: JSON.parse(c.dataset.labels),
        value: c.dataset.value === undefined ? null : Number(c.dataset.value),
        text: c.textContent}))""")


def assert_table_shows_metrics(page: Page, service: Service, window: str) -> None:
    """Every table cell holds the value /metrics has for its series, or nothing when it has
    none; followers, ER and mentions read as /metrics says too."""
    samples: Samples = service.metrics()
    cells = shown_cells(page)
    for cell in cells:
        labels = {"brand": cell["brand"], "platform": cell["platform"], **cell["labels"]}
        if cell["metric"] in WINDOWED:
            labels["window"] = window
        assert cell["value"] == value(samples, cell["metric"], **labels), cell
        if cell["value"] is None:
            continue
        number = cell["value"]
        percent = number * 100  # two decimals below 10%, one from there
        expected_text = {"smm_followers": f"{number:,.0f}",
                         "smm_window_mentions": f"{number:,.0f}",
                         "smm_engagement_rate_ratio": f"{percent:.{2 if percent < 10 else 1}f}%",
                         }.get(cell["metric"])
        assert expected_text is None or cell["text"] == expected_text, cell
    shown = [cell for cell in cells if cell["value"] is not None]
    assert len(shown) >= 30  # every brand's platforms, not an empty page


def goal(page: Page, brand: str, kpi: str, platform: str | None = None) -> dict[str, Any]:
    where = f'article[data-brand="{brand}"] .tile[data-kpi="{kpi}"]'
    if platform:
        where += f'[data-platform="{platform}"]'
    tile = page.locator(where)
    return {"status": tile.get_attribute("data-status"),
            "value": float(tile.get_attribute("data-value") or "nan")}


def updates(page: Page) -> int:
    return int(page.evaluate("Number(document.body.dataset.updates || 0)"))


def test_the_root_answers_health_checks_and_browsers_apart(service: Service):
    for accept in ("*/*", "application/json"):
        answer = requests.get(url(service), headers={"Accept": accept}, timeout=10)
        assert answer.json() == {"status": "OK"}
    assert requests.get(url(service, "/healthz"), timeout=10).json() == {"status": "OK"}
    page = requests.get(url(service), headers={"Accept": "text/html"}, timeout=10)
    assert page.headers["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert requests.get(url(service, "/static/page.js"), timeout=10).ok
    assert requests.get(url(service, "/static/nothing.js"), timeout=10).status_code == 404


def test_the_page_shows_the_workers_numbers_and_follows_new_events(service, page, tmp_path):
    feed = known_events(time.time())
    service.feed(feed.lines, tmp_path)
    samples = service.wait_for_events(feed.events)
    wait_until(lambda: all_families_counted(service), timeout=30)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(url(service))
    # (Playwright's locator waits: its wait_for_function evaluates text, which the CSP forbids)
    expect(page.locator("article.card")).to_have_count(4)

    # Numbers: every cell of every brand's table, in the default (longest) window and 5m.
    wait_until(lambda: assert_table_shows_metrics(page, service, "24h"), timeout=20)
    page.get_by_role("button", name="5m", exact=True).click()
    assert_table_shows_metrics(page, service, "5m")
    page.get_by_role("button", name="24h", exact=True).click()

    # Goals, as the feed's numbers say (see known_events).
    samples = service.metrics()
    er = goal(page, "acme-bank", "engagement_rate", "vk")
    assert er == {"status": "met", "value": value(
        samples, "smm_engagement_rate_ratio", brand="acme-bank", platform="vk", window="24h")}
    assert goal(page, "acme-bank", "engagement_rate", "telegram")["status"] == "missed"
    assert goal(page, "globex-bank", "engagement_rate", "vk")["status"] == "met"
    sentiment = goal(page, "acme-bank", "sentiment_score")
    assert sentiment["status"] == "missed" and sentiment["value"] == pytest.approx(-0.15)
    # 165,000 of 250,000 followers: not reached, open until the goal's date
    deadline = dt.datetime.combine(
        load_config(service.config).brands["acme-bank"].targets.followers.by, dt.time(), dt.UTC)
    assert goal(page, "acme-bank", "followers")["status"] == (
        "open" if time.time() < deadline.timestamp() else "missed")
    assert goal(page, "Связь+", "response_time", "telegram")["status"] == "met"
    assert goal(page, "initech-bank", "engagement_rate", "telegram")["status"] == "no_goal"
    missed = page.eval_on_selector_all("#missed li", """items => items.map(i =>
        [i.dataset.brand, i.dataset.kpi, i.dataset.platform || null])""")
    assert sorted(map(tuple, missed)) == [("acme-bank", "engagement_rate", "telegram"),
                                          ("acme-bank", "sentiment_score", None)]
    # Top posts of the window shown (24h): acme-bank's vk post, then its telegram one.
    top = page.locator('article[data-brand="acme-bank"] table[data-top="top-posts"] tbody tr')
    expect(top).to_have_count(2)
    assert top.first.locator('td[data-field="post_id"]').text_content() == "vk-1"
    assert top.first.locator('td[data-field="interactions"]').get_attribute(
        "data-value") == str(3000 + 400 + 800)
    assert top.nth(1).locator('td[data-field="platform"]').text_content() == "telegram"
    dead = sum(v for (name, _), v in samples.items() if name == "smm_dlq_events_total")
    assert dead == 1
    assert page.locator("#dead-letters").get_attribute("data-value") == "1"

    # Updates: more mentions, and the page shows the new count without a reload.
    cell = ('article[data-brand="initech-bank"] tr[data-platform="telegram"] '
            'td[data-metric="smm_window_mentions"]')
    assert page.locator(cell).get_attribute("data-value") == "5"
    more = Feed(time.time())
    more.mentions("initech-bank", "telegram", [0.5] * 7)
    service.feed(more.lines, tmp_path)
    service.wait_for_events(feed.events + more.events)
    seen = updates(page)
    expect(page.locator(cell)).to_have_attribute("data-value", "12",
                                                 timeout=UPDATE_SECONDS * 1000)
    assert updates(page) > seen
    assert value(service.metrics(), "smm_window_mentions", brand="initech-bank",
                 platform="telegram", window="24h") == 12
    spark = ('article[data-brand="initech-bank"] figure[data-series="mentions"] polyline')
    points = page.locator(spark).get_attribute("points") or ""
    assert len(points.split()) >= 2  # the sparkline has the history the page sampled

    assert requested and all(
        r.startswith(url(service)) or r.startswith("data:") for r in requested), requested
    to_docs = os.environ.get("SMM_PULSE_SCREENSHOT") == "docs"
    page.screenshot(path=str(DOCS_SCREENSHOT if to_docs else tmp_path / "live-page.png"),
                    full_page=True)
