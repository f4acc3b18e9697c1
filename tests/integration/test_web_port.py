"""The worker's web port, on a real worker: only the documented routes, any declared brand
found by its URL-encoded name, and events counted on time while many clients scrape a
large /metrics at once.
"""

from __future__ import annotations

import asyncio
import http.client
import json

import aiohttp
import pytest
import requests
import yaml

from smm_pulse.config import load_config
from smm_pulse.scrape_load import feed, load, wait_counted
from smm_pulse.web.paths import kpis_path
from tests.integration.conftest import wait_until

pytestmark = pytest.mark.integration

# Names a URL treats specially; "100%" and "100%25" both, so a second decoding of
# "100%2525" finds the wrong one.
SPECIAL_BRANDS = ["100%", "100%25", "{x}", "a/b", "sp ace", "why?#", "Café ☕", ".."]
# Enough brands with data that /metrics is megabytes (2.3 MB here).
LOAD_BRANDS = 360
CONFIG = yaml.safe_dump({
    "brands": {**{f"brand{i}": {} for i in range(LOAD_BRANDS)},
               **{name: {} for name in SPECIAL_BRANDS}},
    "windows": ["5m", "1h", "24h"],
    "partitions": 4,
}, allow_unicode=True)

# Faust's own views: tables and their contents, key routing, and those that debug or
# its settings turn on (partition assignment, the service graph, the monitor).
FAUST_VIEWS = ["/table/", "/table/engagement-state/", "/router/",
               '/router/engagement-state/["brand0"]/', "/assignment/", "/graph/",
               "/performance/"]

# The load: as many scrapers as asked of the service, markers for this long. The slowest
# of 20 markers took 0.36-0.45 s (scrapers taking gzip, as here) and 0.52-0.60 s
# (uncompressed) on a 2-core machine; before the shared render, 47-60 s
# (python -m smm_pulse.scrape_load): the goal below leaves room for a noisy machine.
SCRAPERS = 200
MARKER_SECONDS = 10
MARKER_GOAL_SECONDS = 2.0


def get(service, path: str) -> requests.Response:
    return requests.get(f"http://127.0.0.1:{service.port}{path}", timeout=30,
                        allow_redirects=False)


@pytest.mark.parametrize("path", FAUST_VIEWS)
def test_faust_views_of_tables_routing_and_statistics_are_not_served(service, path):
    assert get(service, path).status_code == 404


def test_the_documented_routes_answer(service):
    health = get(service, "/")
    assert health.status_code == 200 and health.json() == {"status": "OK"}
    metrics = get(service, "/metrics")
    assert metrics.status_code == 200 and "# TYPE smm_events_total counter" in metrics.text
    assert get(service, "/metrics?name[]=smm_events_total").status_code == 200
    events = get(service, "/api/events")
    assert events.status_code == 200 and set(events.json()) >= {"accepted", "rejected"}
    assert get(service, "/api/kpis/brand0").json()["brand"] == "brand0"


@pytest.mark.parametrize("name", SPECIAL_BRANDS)
def test_the_api_finds_a_declared_brand_by_its_url_encoded_name(service, name):
    response = get(service, kpis_path(name))
    assert response.status_code == 200, response.text
    assert response.json()["brand"] == name


def test_the_api_decodes_percent_escapes_once(service):
    assert get(service, "/api/kpis/100%2525").json()["brand"] == "100%25"
    assert get(service, "/api/kpis/100%25").json()["brand"] == "100%"
    assert get(service, "/api/kpis/100%252525").status_code == 404  # "100%2525": undeclared


def test_the_api_takes_braces_a_client_left_unescaped(service):
    connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=30)
    try:
        connection.request("GET", "/api/kpis/{x}")  # sent as is, braces and all
        response = connection.getresponse()
        assert response.status == 200
        assert json.loads(response.read())["brand"] == "{x}"
    finally:
        connection.close()


def test_events_are_counted_on_time_while_many_clients_scrape_a_large_metrics(
        service, broker):
    topics = load_config(service.config).topics
    sent = feed(broker.bootstrap, topics, LOAD_BRANDS, platforms=1)

    async def counted_all() -> None:  # the feed is the first input of this module's service
        async with aiohttp.ClientSession() as session:
            await wait_counted(session, service.port, sent, timeout=60)

    asyncio.run(counted_all())

    def metrics_are_large() -> None:  # once the shared render (up to 1 s old) has them
        assert len(get(service, "/metrics").content) > 2_000_000

    wait_until(metrics_are_large, timeout=30)

    delays, took, errors = load(broker.bootstrap, topics.engagement, service.port,
                                SCRAPERS, MARKER_SECONDS, waves=True, gzip=True)
    assert not errors
    assert len(took) >= 2 * SCRAPERS  # the scrapers were at it all along
    assert len(delays) == MARKER_SECONDS
    assert max(delays) < MARKER_GOAL_SECONDS, delays
