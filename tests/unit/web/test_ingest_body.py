"""Bodies of POST /ingest: split into messages by media type, answered per item from the
ingest stage's own triage, accepted items routed to the input topics as the SDK routes."""

from __future__ import annotations

import time

import orjson
import pytest
from aiokafka import ConsumerRecord

from smm_pulse.agents.ingest import triage
from smm_pulse.config import Topics
from smm_pulse.streams.events import Declared
from smm_pulse.web import ingest_body
from smm_pulse.web.ingest_body import input_records, item_count, letter_records, messages, outcomes

DECLARED = Declared({"acme", "globex"}.__contains__)
NOW = time.time()


def event(kind: str = "interaction", brand: str = "acme", n: int = 1) -> dict:
    common = {"event_id": f"{kind}-{brand}-{n}", "ts": NOW - 60, "platform": "vk",
              "brand": brand}
    if kind == "mention":
        return {"type": "mention", "text": "acme is great", **common}
    return {"type": "interaction", "account": "main", "action": "like", **common}


def record(value: bytes) -> ConsumerRecord:
    return ConsumerRecord("http:vk", -1, -1, -1, 0, None, value, None, -1, len(value), ())


def answered(raw: bytes, position: int = 0) -> tuple[list[dict], list[bytes]]:
    items, forward = outcomes(position, raw, triage(record(raw), DECLARED, NOW))
    return [item.answer() for item in items], [item.raw for item in forward]


@pytest.mark.parametrize(("content_type", "body", "expected"), [
    ("application/json", b'{"a": 1}', [b'{"a": 1}']),
    ("application/json; charset=utf-8", b"[1, 2]", [b"[1, 2]"]),
    ("application/x-ndjson", b'{"a": 1}\r\n\n  \n[{"b": 2}]\n', [b'{"a": 1}', b'[{"b": 2}]']),
    ("Application/X-NDJSON", b"{}", [b"{}"]),
    ("application/json", b"", [b""]),  # answered malformed_json, not dropped
    ("text/plain", b"{}", None),
    ("", b"{}", None),
])
def test_a_body_is_one_message_or_one_per_line_by_its_media_type(content_type, body, expected):
    assert messages(body, content_type) == expected


def test_the_rate_limit_counts_an_arrays_items_and_anything_else_as_one():
    assert item_count(orjson.dumps([event(n=1), event(n=2), event(n=3)])) == 3
    assert item_count(orjson.dumps(event())) == 1
    assert item_count(b"not json") == 1


def test_a_single_valid_event_is_accepted_and_forwarded_with_its_own_bytes():
    raw = orjson.dumps(event())
    assert answered(raw, 2) == ([{"message": 2, "status": "accepted"}], [raw])


def test_each_item_of_an_array_is_answered_and_only_valid_ones_are_forwarded():
    good, other = event(n=1), event("mention", "globex", n=2)
    raw = orjson.dumps([good, {**event(n=3), "brand": "initech"}, other, 5])
    answers, forward = answered(raw)
    assert [(a["index"], a["status"], a.get("reason")) for a in answers] == [
        (0, "accepted", None), (1, "rejected", "undeclared_brand"), (2, "accepted", None),
        (3, "rejected", "not_an_object")]
    assert [orjson.loads(item) for item in forward] == [good, other]


def test_a_body_that_is_not_json_is_one_rejected_item():
    answers, forward = answered(b"{nope")
    assert [(a["status"], a["reason"]) for a in answers] == [("rejected", "malformed_json")]
    assert forward == []


def test_a_rejected_field_is_named_in_the_answer():
    answers, _ = answered(orjson.dumps({**event(), "action": "wave"}))
    assert answers[0]["status"] == "rejected"
    assert answers[0]["reason"] == "invalid_field"
    assert answers[0]["field"] == "action"


def test_rejections_are_the_dead_letters_of_the_kafka_path_with_an_http_source():
    triaged = triage(record(orjson.dumps([event(), {"type": "nope"}])), DECLARED, NOW)
    (letter,) = triaged.dead_letters
    headers = dict(letter.headers)
    assert headers["smm.reason"] == b"unknown_type"
    assert headers["smm.source.topic"] == b"http:vk"
    assert headers["smm.source.partition"] == headers["smm.source.offset"] == b"-1"
    assert headers["smm.index"] == b"1"


def test_accepted_items_go_to_the_input_topic_of_their_type_keyed_by_brand():
    topics = Topics()
    items = [event(n=1), event("mention", n=2), event(brand="globex", n=3), event(n=4)]
    raw = orjson.dumps(items)
    _, forward = outcomes(0, raw, triage(record(raw), DECLARED, NOW))
    sent = [(r.topic, r.key, orjson.loads(r.value), r.items)
            for r in input_records(forward, topics)]
    assert sent == [("smm.engagement", b"acme", [items[0], items[3]], [0, 3]),
                    ("smm.mentions", b"acme", [items[1]], [1]),
                    ("smm.engagement", b"globex", [items[2]], [2])]


def test_each_accepted_item_names_its_place_among_the_requests_answers():
    raw = orjson.dumps([event(n=1), {"type": "nope"}, event(n=2)])
    _, forward = outcomes(3, raw, triage(record(raw), DECLARED, NOW), first=10)
    assert [item.answer for item in forward] == [10, 12]


def test_dead_letters_name_their_items_one_each_or_all_when_folded():
    letters = triage(record(orjson.dumps([{"type": "a"}, {"type": "b"}])), DECLARED,
                     NOW).dead_letters
    assert [r.items for r in letter_records(letters, [4, 5], "smm.dlq")] == [[4], [5]]
    assert [r.items for r in letter_records(letters[:1], [4, 5], "smm.dlq")] == [[4, 5]]


def test_forwarded_messages_are_split_before_they_pass_the_size_limit(monkeypatch):
    monkeypatch.setattr(ingest_body, "FORWARD_MESSAGE_BYTES", 400)
    items = [event(n=n) for n in range(10)]
    raw = orjson.dumps(items)
    _, forward = outcomes(0, raw, triage(record(raw), DECLARED, NOW))
    sent = input_records(forward, Topics())
    assert len(sent) > 1
    assert all(len(r.value) <= 400 + 2 for r in sent)
    assert [item for r in sent for item in orjson.loads(r.value)] == items
    assert [n for r in sent for n in r.items] == list(range(10))
