"""POST /ingest and the API token against a real worker and broker: events posted with a
collector token are counted on /metrics, an invalid item is answered with its reason and
lands in the dead-letter topic, and the JSON API asks for its token."""

from __future__ import annotations

import time

import orjson
import pytest
import requests

from smm_pulse.web.auth import sha256_hex
from tests.integration.conftest import wait_until
from tests.integration.test_events_in_kpis_out import read_dlq
from tests.integration.test_hostile_input import service_topics

pytestmark = pytest.mark.integration

COLLECTOR_TOKEN = "collector-token-for-tests"
API_TOKEN = "api-token-for-tests"
CONFIG = f"""
brands: {{acme: {{}}}}
api: {{token: {API_TOKEN}}}
ingest_http:
  collectors: {{vk: {{token_sha256: {sha256_hex(COLLECTOR_TOKEN)}}}}}
  max_body_bytes: 4096
"""


def event(n: int, **changes: object) -> dict:
    return {"type": "interaction", "event_id": f"http-{n}", "ts": time.time() - 60,
            "platform": "vk", "brand": "acme", "account": "main", "action": "like",
            **changes}


def ingest(service, body: bytes, token: str | None = COLLECTOR_TOKEN,
           content_type: str = "application/json") -> requests.Response:
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.post(f"http://127.0.0.1:{service.port}/ingest", data=body,
                         headers=headers, timeout=30)


def accepted_events(service) -> float:
    return sum(v for (name, labels), v in service.metrics(("smm_events_total",)).items()
               if name == "smm_events_total" and dict(labels)["outcome"] == "accepted")


def test_posted_events_are_counted_and_a_bad_item_lands_in_the_dlq(service, broker):
    lines = b"\n".join([orjson.dumps(event(1)), orjson.dumps([event(2), event(3),
                                                               event(4, brand="nobody")])])
    answer = ingest(service, lines, content_type="application/x-ndjson")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["accepted"], body["rejected"]) == (3, 1)
    bad = body["items"][3]
    assert (bad["message"], bad["index"], bad["status"], bad["reason"]) == (
        1, 2, "rejected", "undeclared_brand")

    def all_accepted() -> None:
        assert accepted_events(service) == 3

    wait_until(all_accepted, timeout=45)
    (letter,) = read_dlq(broker.bootstrap, service_topics(service)["dlq"], 1)
    headers = dict(letter.headers)
    assert headers["smm.reason"] == b"undeclared_brand"
    assert headers["smm.source.topic"] == b"http:vk"
    assert orjson.loads(letter.value)["event_id"] == "http-4"


def test_without_a_collector_token_or_over_the_size_limit_nothing_is_taken(service):
    assert ingest(service, orjson.dumps(event(10)), token=None).status_code == 401
    assert ingest(service, orjson.dumps(event(11)), token=API_TOKEN).status_code == 401
    big = orjson.dumps([event(n) for n in range(100, 160)])
    assert len(big) > 4096
    assert ingest(service, big).status_code == 413


def test_the_json_api_needs_its_token_and_health_stays_open(service):
    base = f"http://127.0.0.1:{service.port}"
    assert requests.get(f"{base}/api/kpis/acme", timeout=10).status_code == 401
    assert requests.get(f"{base}/api/overview", timeout=10).status_code == 401
    with_token = requests.get(f"{base}/api/kpis/acme", timeout=10,
                              headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert with_token.status_code == 200
    assert with_token.json()["brand"] == "acme"
    assert requests.get(f"{base}/healthz", timeout=10).status_code == 200
    assert requests.get(f"{base}/static/page.js", timeout=10).status_code == 200
