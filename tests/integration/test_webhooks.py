"""Webhooks against a real worker and broker: a VK comment and Telegram channel updates posted
with their platforms' secrets are counted on /metrics as the contract's events, a retried
call counts as duplicates, a call no event maps to lands in the dead-letter topic, and a
collector over its event rate is answered 429 while the others are not."""

from __future__ import annotations

import time

import orjson
import pytest
import requests

from tests.integration.conftest import value, wait_until
from tests.integration.test_events_in_kpis_out import read_dlq
from tests.integration.test_hostile_input import service_topics

pytestmark = pytest.mark.integration

GROUP = 218_375_112
CHANNEL = -1_001_987_654_321
DISCUSSION = -1_002_123_456_789
FLOOD_GROUP = 218_375_113
RATE, BURST = 1, 8  # events a second and at once, per collector
CONFIG = f"""
brands: {{acme: {{}}}}
ingest_http: {{events_per_second: {RATE}, burst_events: {BURST}}}
webhooks:
  vk:
    shop: {{brand: acme, group_id: {GROUP}, confirmation: 5ab3e1f0, secret: s3cr3t}}
    flood: {{brand: acme, group_id: {FLOOD_GROUP}, confirmation: 77aa, secret: fl00d}}
  telegram: {{news: {{brand: acme, channel_id: {CHANNEL}, secret_token: tg-secret}}}}
"""
# The payloads' times: at import, so a 1h window holds them however late the test runs.
NOW = int(time.time())
WALL_REPLY = {"group_id": GROUP, "type": "wall_reply_new", "event_id": "a1b2c3", "v": "5.199",
              "secret": "s3cr3t",
              "object": {"id": 5412, "from_id": 381_944_107, "date": NOW - 30,
                         "text": "Когда доставка?", "post_owner_id": -GROUP, "post_id": 1187,
                         "owner_id": -GROUP, "parents_stack": [], "thread": {"count": 0}}}
CHANNEL_CHAT = {"id": CHANNEL, "title": "Acme News", "type": "channel"}
CHANNEL_POST = {"update_id": 10, "channel_post": {
    "message_id": 342, "sender_chat": CHANNEL_CHAT, "chat": CHANNEL_CHAT, "date": NOW - 20,
    "text": "Скидки до 30%"}}
REACTIONS = {"update_id": 11, "message_reaction_count": {
    "chat": CHANNEL_CHAT, "message_id": 342, "date": NOW - 10,
    "reactions": [{"type": {"type": "emoji", "emoji": "👍"}, "total_count": 4}]}}


def post(service, platform: str, payload: dict, headers: dict[str, str] | None = None,
         collector: str = "") -> requests.Response:
    collector = collector or {"vk": "shop", "telegram": "news"}[platform]
    return requests.post(f"http://127.0.0.1:{service.port}/webhooks/{platform}/{collector}",
                         data=orjson.dumps(payload), timeout=30,
                         headers={"Content-Type": "application/json", **(headers or {})})


def events(service, outcome: str) -> float:
    return sum(v for (name, labels), v in service.metrics(("smm_events_total",)).items()
               if name == "smm_events_total" and dict(labels)["outcome"] == outcome)


def test_vk_and_telegram_calls_are_counted_as_contract_events(service):
    confirm = post(service, "vk", {"type": "confirmation", "group_id": GROUP})
    assert (confirm.status_code, confirm.text) == (200, "5ab3e1f0")
    assert post(service, "vk", {**WALL_REPLY, "secret": "wrong"}).status_code == 401
    answer = post(service, "vk", WALL_REPLY)
    assert (answer.status_code, answer.text) == (200, "ok")
    secret = {"X-Telegram-Bot-Api-Secret-Token": "tg-secret"}
    assert post(service, "telegram", CHANNEL_POST).status_code == 401
    for update in (CHANNEL_POST, REACTIONS):
        answer = post(service, "telegram", update, secret)
        assert answer.status_code == 200 and answer.json() == {"ok": True}

    def counted() -> None:  # the comment's message and interaction; post and its reactions
        assert events(service, "accepted") == 4
        samples = service.metrics()
        assert value(samples, "smm_window_interactions", brand="acme", platform="vk",
                     window="1h") == 1
        assert value(samples, "smm_window_interactions", brand="acme", platform="telegram",
                     window="1h") == 4

    wait_until(counted, timeout=45)

    assert post(service, "vk", WALL_REPLY).text == "ok"  # VK delivers it again

    def repeated() -> None:
        assert events(service, "duplicate") == 2

    wait_until(repeated, timeout=45)


def test_a_call_no_event_maps_to_lands_in_the_dead_letter_topic(service, broker):
    join = {**WALL_REPLY, "type": "group_join", "object": {"user_id": 1, "join_type": "join"}}
    assert post(service, "vk", join).text == "ok"

    def counted() -> None:  # a whole scrape may be a render up to a second old
        assert value(service.metrics(), "smm_dlq_events_total", topic="webhook:vk:shop",
                     reason="unmapped_webhook") == 1

    wait_until(counted, timeout=30)
    (letter,) = read_dlq(broker.bootstrap, service_topics(service)["dlq"], 1)
    assert dict(letter.headers)["smm.reason"] == b"unmapped_webhook"
    assert orjson.loads(letter.value) == join


def test_a_collector_over_its_event_rate_gets_429_and_the_others_do_not(service):
    def like(n: int) -> dict:
        return {"group_id": FLOOD_GROUP, "type": "like_add", "event_id": f"flood-{n}",
                "v": "5.199", "secret": "fl00d",
                "object": {"liker_id": n, "object_type": "post", "object_owner_id": -FLOOD_GROUP,
                           "object_id": 7, "thread_reply_id": 0, "post_id": 0}}

    started = time.monotonic()
    statuses, limited = [], None
    for n in range(40):  # one event a call
        answer = post(service, "vk", like(n), collector="flood")
        statuses.append(answer.status_code)
        if answer.status_code == 429:
            limited = answer
            break
    elapsed = time.monotonic() - started
    assert limited is not None, statuses
    assert int(limited.headers["Retry-After"]) >= 1
    assert set(statuses[:-1]) == {200}
    assert BURST <= len(statuses) - 1 <= BURST + RATE * elapsed + 1
    wrong = post(service, "vk", {**like(99), "secret": "nope"}, collector="flood")
    assert wrong.status_code == 401  # checked first: spends nothing
    confirm = post(service, "vk", {"type": "confirmation", "group_id": GROUP})
    assert (confirm.status_code, confirm.text) == (200, "5ab3e1f0")
    secret = {"X-Telegram-Bot-Api-Secret-Token": "tg-secret"}
    assert post(service, "telegram", CHANNEL_POST, secret).status_code == 200  # its own bucket
