"""POST /ingest's answers: 401 without a collector token, 413 over the size limit, 415 for
other media, 429 over the rate, 503 when the broker is down (nothing sent) or does not
acknowledge (each item written or not), and per-item answers only after the broker
acknowledged the events and the dead letters."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

import orjson
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry, Counter

from smm_pulse.config import parse_config
from smm_pulse.kpi.catalog import DEAD_LETTERS, EVENTS
from smm_pulse.streams.events import Declared
from smm_pulse.web.auth import sha256_hex
from smm_pulse.web.ingest_http import HttpIngest

TOKEN = "vk-collector-token"
CONFIG = f"""
brands: {{acme: {{}}}}
ingest_http:
  collectors: {{vk: {{token_sha256: {sha256_hex(TOKEN)}}}}}
  max_body_bytes: 2048
  events_per_second: 1
  burst_events: 5
  send_timeout_seconds: 0.2
"""
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


def event(n: int, **changes: Any) -> dict[str, Any]:
    return {"type": "interaction", "event_id": f"e{n}", "ts": time.time() - 60,
            "platform": "vk", "brand": "acme", "account": "main", "action": "like", **changes}


class Producer:
    """Records what is sent, with the part of aiokafka's producer the pre-flight check reads.
    ``down``: the broker is not reachable; ``acknowledges``: how many records it
    acknowledges (all when None), the later ones never."""

    def __init__(self, down: bool = False, acknowledges: int | None = None) -> None:
        self.down = down
        self.acknowledges = acknowledges
        self.sent: list[tuple[str, bytes, list[tuple[str, bytes]] | None]] = []
        self.client = SimpleNamespace(
            cluster=SimpleNamespace(leader_for_partition=lambda _partition: 0),
            ready=self._ready, send=self._metadata)

    async def partitions_for(self, _topic: str) -> set[int]:
        return {0}

    async def _ready(self, _node: int) -> bool:
        return not self.down

    async def _metadata(self, _node: int, _request: object) -> None:
        return None

    async def send(self, topic: str, value: bytes, key: bytes | None = None,
                   headers: list[tuple[str, bytes]] | None = None) -> asyncio.Future[None]:
        acknowledged: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.acknowledges is None or len(self.sent) < self.acknowledges:
            self.sent.append((topic, value, headers))
            acknowledged.set_result(None)
        return acknowledged


def pipeline(config: str = CONFIG) -> SimpleNamespace:
    """What the HTTP routes read of a worker's pipeline: configuration, counters."""
    registry = CollectorRegistry()
    return SimpleNamespace(
        config=parse_config(config, "test.yaml", environ={}),
        declared=Declared({"acme"}.__contains__),
        events_total=Counter(EVENTS.name, EVENTS.help, EVENTS.labels, registry=registry),
        dead_letters_total=Counter(DEAD_LETTERS.name, DEAD_LETTERS.help, DEAD_LETTERS.labels,
                                   registry=registry),
        registry=registry,
    )


def post(requests: list[tuple[bytes, dict[str, str]]], producer: Producer | None = None,
         ) -> tuple[list[tuple[int, Any, dict[str, str]]], HttpIngest]:
    ingest = HttpIngest(pipeline(), "unused:9092")  # type: ignore[arg-type]
    ingest.producer = producer  # type: ignore[assignment]

    async def scenario() -> list[tuple[int, Any, dict[str, str]]]:
        app = web.Application()
        app.router.add_post("/ingest", ingest.handle)
        async with TestClient(TestServer(app)) as client:
            answers = []
            for body, headers in requests:
                response = await client.post("/ingest", data=body, headers=headers)
                answers.append((response.status, await response.json(),
                                dict(response.headers)))
            return answers

    return asyncio.run(scenario()), ingest


def test_without_a_valid_collector_token_the_answer_is_401_and_nothing_is_sent():
    producer = Producer()
    body = orjson.dumps(event(1))
    answers, _ = post([(body, {"Content-Type": "application/json"}),
                       (body, {**AUTH, "Authorization": "Bearer wrong"}),
                       (body, {**AUTH, "Authorization": f"Bearer {sha256_hex(TOKEN)}"})],
                      producer)
    assert [status for status, _, _ in answers] == [401, 401, 401]
    assert producer.sent == []


def test_a_body_over_the_limit_is_413_whether_its_length_is_declared_or_not():
    async def chunks() -> Any:
        for _ in range(3):
            yield b" " * 1000

    producer = Producer()
    ingest = HttpIngest(pipeline(), "unused:9092")  # type: ignore[arg-type]
    ingest.producer = producer  # type: ignore[assignment]

    async def scenario() -> list[int]:
        app = web.Application()
        app.router.add_post("/ingest", ingest.handle)
        async with TestClient(TestServer(app)) as client:
            declared = await client.post("/ingest", data=b" " * 3000, headers=AUTH)
            streamed = await client.post("/ingest", data=chunks(), headers=AUTH)
            return [declared.status, streamed.status]

    assert asyncio.run(scenario()) == [413, 413]
    assert producer.sent == []


def test_other_media_types_are_415():
    answers, _ = post([(b"{}", {**AUTH, "Content-Type": "text/plain"})], Producer())
    assert answers[0][0] == 415


def test_over_the_collectors_rate_the_answer_is_429_with_retry_after():
    body = orjson.dumps([event(n) for n in range(5)])
    answers, _ = post([(body, AUTH), (body, AUTH)], Producer())
    assert [status for status, _, _ in answers] == [200, 429]
    assert int(answers[1][2]["Retry-After"]) >= 1


def test_items_are_answered_after_the_broker_took_events_and_dead_letters():
    producer = Producer()
    lines = orjson.dumps(event(1)) + b"\n" + orjson.dumps([event(2), {**event(3),
                                                                       "brand": "nobody"}])
    answers, ingest = post([(lines, {**AUTH, "Content-Type": "application/x-ndjson"})],
                           producer)
    status, answer, _ = answers[0]
    assert status == 200
    assert (answer["accepted"], answer["rejected"]) == (2, 1)
    assert [(i["message"], i.get("index"), i["status"]) for i in answer["items"]] == [
        (0, None, "accepted"), (1, 0, "accepted"), (1, 1, "rejected")]
    assert answer["items"][2]["reason"] == "undeclared_brand"
    topics = [topic for topic, _, _ in producer.sent]
    assert sorted(topics) == ["smm.dlq", "smm.engagement"]
    (letter_headers,) = [headers for topic, _, headers in producer.sent if topic == "smm.dlq"]
    assert dict(letter_headers)["smm.source.topic"] == b"http:vk"
    registry = ingest.pipeline.registry
    assert registry.get_sample_value("smm_dlq_events_total",
                                     {"topic": "http:vk", "reason": "undeclared_brand"}) == 1


def test_when_the_broker_is_down_nothing_is_sent_and_every_item_is_not_written():
    producer = Producer(down=True)
    answers, ingest = post([(orjson.dumps([event(1), {"type": "nope"}]), AUTH)], producer)
    status, answer, headers = answers[0]
    assert status == 503
    assert int(headers["Retry-After"]) >= 1
    assert producer.sent == []
    assert (answer["written"], answer["not_written"], answer["unknown"]) == (0, 2, 0)
    assert [(i["status"], i["delivery"]) for i in answer["items"]] == [
        ("accepted", "not_written"), ("rejected", "not_written")]
    assert "send the whole request again" in answer["retry"]
    # not counted: the collector sends the body again
    assert ingest.pipeline.registry.get_sample_value(
        "smm_dlq_events_total", {"topic": "http:vk", "reason": "unknown_type"}) is None


def test_when_the_broker_stops_acknowledging_each_item_says_whether_it_was_written():
    lines = b"\n".join(orjson.dumps(e) for e in (
        [event(1), event(2, brand="nobody")], event(3, type="mention", text="hi")))
    producer = Producer(acknowledges=1)  # the first record: the engagement message
    answers, _ = post([(lines, {**AUTH, "Content-Type": "application/x-ndjson"})], producer)
    status, answer, _ = answers[0]
    assert status == 503
    assert [(i["message"], i.get("index"), i["status"], i["delivery"])
            for i in answer["items"]] == [
        (0, 0, "accepted", "written"), (0, 1, "rejected", "unknown"),
        (1, None, "accepted", "unknown")]
    assert (answer["written"], answer["not_written"], answer["unknown"]) == (1, 0, 2)


def test_before_the_producer_started_the_answer_is_503_and_nothing_is_written():
    answers, _ = post([(orjson.dumps(event(1)), AUTH)], None)
    status, answer, _ = answers[0]
    assert status == 503
    assert [i["delivery"] for i in answer["items"]] == ["not_written"]
