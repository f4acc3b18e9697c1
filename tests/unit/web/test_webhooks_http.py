"""The webhook routes: VK's confirmation handshake, the secrets of both platforms, mapped
events sent to the input topics, an unmapped call sent to the dead-letter topic with its
reason and counted, 429 over a collector's event rate, and 503 while the broker does not
acknowledge."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

import orjson
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from smm_pulse.web.ingest_http import HttpIngest
from smm_pulse.web.webhooks import TELEGRAM_SECRET_HEADER, Webhooks
from tests.unit.web.test_ingest_http import Producer, pipeline

GROUP = 218_375_112
CHANNEL = -1_001_987_654_321
CONFIG = f"""
brands: {{acme: {{}}}}
ingest_http: {{send_timeout_seconds: 0.2, max_body_bytes: 2048}}
webhooks:
  vk: {{shop: {{brand: acme, group_id: {GROUP}, confirmation: 5ab3e1f0, secret: s3cr3t}}}}
  telegram: {{news: {{brand: acme, channel_id: {CHANNEL}, secret_token: tg-secret}}}}
"""
LIKE = {"group_id": GROUP, "type": "like_add", "event_id": "e1", "v": "5.199",
        "secret": "s3cr3t", "object": {"liker_id": 1, "object_type": "post",
                                       "object_owner_id": -GROUP, "object_id": 7,
                                       "thread_reply_id": 0, "post_id": 0}}
JOIN = {**LIKE, "type": "group_join", "object": {"user_id": 1, "join_type": "join"}}
POST = {"update_id": 1, "channel_post": {
    "message_id": 342, "chat": {"id": CHANNEL, "type": "channel", "title": "Acme"},
    "date": int(time.time()) - 60, "text": "hello"}}


def post(requests: list[tuple[str, Any, dict[str, str]]], producer: Producer | None,
         config: str = CONFIG) -> tuple[list[tuple[int, str]], SimpleNamespace]:
    """Each request's status and text; the pipeline's state, with each answer's headers in
    ``headers``."""
    state = pipeline(config)
    state.headers = []
    ingest = HttpIngest(state, "unused:9092")  # type: ignore[arg-type]
    ingest.producer = producer  # type: ignore[assignment]
    hooks = Webhooks(ingest)

    async def scenario() -> list[tuple[int, str]]:
        app = web.Application()
        app.router.add_post("/webhooks/vk/{collector}", hooks.vk)
        app.router.add_post("/webhooks/telegram/{collector}", hooks.telegram)
        async with TestClient(TestServer(app)) as client:
            answers = []
            for path, payload, headers in requests:
                body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
                response = await client.post(path, data=body, headers=headers)
                answers.append((response.status, await response.text()))
                state.headers.append(dict(response.headers))
            return answers

    return asyncio.run(scenario()), state


def test_vk_confirmation_is_answered_with_the_configured_string_as_plain_text():
    answers, _ = post([("/webhooks/vk/shop", {"type": "confirmation", "group_id": GROUP}, {}),
                       ("/webhooks/vk/shop", {"type": "confirmation", "group_id": 1}, {})],
                      Producer())
    assert answers == [(200, "5ab3e1f0"), (401, "forbidden")]


def test_vk_calls_without_the_secret_are_forbidden_and_send_nothing():
    producer = Producer()
    answers, _ = post([("/webhooks/vk/shop", {**LIKE, "secret": "wrong"}, {}),
                       ("/webhooks/vk/shop", {k: v for k, v in LIKE.items() if k != "secret"},
                        {})], producer)
    assert answers == [(401, "forbidden"), (401, "forbidden")] and producer.sent == []


def test_a_mapped_vk_call_is_answered_ok_after_its_event_is_sent_to_the_input_topic():
    producer = Producer()
    answers, _ = post([("/webhooks/vk/shop", LIKE, {})], producer)
    assert answers == [(200, "ok")]
    [(topic, value, _)] = producer.sent
    [event] = orjson.loads(value)
    assert (topic, event["action"], event["brand"], event["platform"]) == (
        "smm.engagement", "like", "acme", "vk")


def test_an_unmapped_call_goes_to_the_dead_letter_topic_with_its_reason_and_is_counted():
    producer = Producer()
    answers, state = post([("/webhooks/vk/shop", JOIN, {})], producer)
    assert answers == [(200, "ok")]
    [(topic, value, headers)] = producer.sent
    assert (topic, orjson.loads(value)) == ("smm.dlq", JOIN)
    assert (dict(headers or [])["smm.reason"], dict(headers or [])["smm.source.topic"]) == (
        b"unmapped_webhook", b"webhook:vk:shop")
    assert state.registry.get_sample_value(
        "smm_dlq_events_total", {"topic": "webhook:vk:shop", "reason": "unmapped_webhook"}) == 1


def test_telegram_updates_need_the_secret_token_header():
    producer = Producer()
    answers, _ = post([("/webhooks/telegram/news", POST, {}),
                       ("/webhooks/telegram/news", POST, {TELEGRAM_SECRET_HEADER: "nope"}),
                       ("/webhooks/telegram/news", POST, {TELEGRAM_SECRET_HEADER: "tg-secret"})],
                      producer)
    assert [status for status, _ in answers] == [401, 401, 200]
    assert [topic for topic, _, _ in producer.sent] == ["smm.engagement"]


def test_a_telegram_body_that_is_not_json_goes_to_the_dead_letter_topic():
    producer = Producer()
    answers, _ = post([("/webhooks/telegram/news", b"{not json",
                        {TELEGRAM_SECRET_HEADER: "tg-secret"})], producer)
    assert answers[0][0] == 200
    [(topic, value, _)] = producer.sent
    assert (topic, value) == ("smm.dlq", b"{not json")


def test_an_unknown_collector_is_404():
    answers, _ = post([("/webhooks/vk/nobody", LIKE, {}),
                       ("/webhooks/telegram/nobody", POST, {TELEGRAM_SECRET_HEADER: "x"})],
                      Producer())
    assert [status for status, _ in answers] == [404, 404]


def test_each_collector_has_its_own_event_rate_and_over_it_the_answer_is_429():
    limited = CONFIG.replace("max_body_bytes: 2048", "max_body_bytes: 2048, "
                             "events_per_second: 0.01, burst_events: 2")
    secret = {TELEGRAM_SECRET_HEADER: "tg-secret"}
    producer = Producer()
    answers, state = post([("/webhooks/vk/shop", LIKE, {}), ("/webhooks/vk/shop", JOIN, {}),
                           ("/webhooks/vk/shop", {**LIKE, "secret": "wrong"}, {}),
                           ("/webhooks/vk/shop", LIKE, {}),
                           ("/webhooks/telegram/news", POST, secret)], producer, limited)
    # A call without the secret spends nothing; the bot's bucket is not the community's.
    assert [status for status, _ in answers] == [200, 200, 401, 429, 200]
    assert int(state.headers[3]["Retry-After"]) >= 1
    assert len(producer.sent) == 3


def test_while_the_broker_does_not_acknowledge_the_answer_is_503_with_retry_after():
    answers, state = post([("/webhooks/vk/shop", JOIN, {})], Producer(down=True))
    assert answers[0][0] == 503
    assert int(state.headers[0]["Retry-After"]) >= 1
    assert state.registry.get_sample_value(  # counted only once written
        "smm_dlq_events_total", {"topic": "webhook:vk:shop", "reason": "unmapped_webhook"}) \
        is None


def test_a_body_over_the_limit_is_413():
    answers, _ = post([("/webhooks/vk/shop", {**LIKE, "pad": "x" * 4096}, {})], Producer())
    assert answers[0][0] == 413
