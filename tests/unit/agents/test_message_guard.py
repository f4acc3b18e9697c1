"""A family agent's failure on one internal message ends at that message's boundary."""

from __future__ import annotations

import orjson
from prometheus_client import CollectorRegistry, Counter

from smm_pulse.agents.family import MessageGuard
from smm_pulse.kpi.catalog import Family
from smm_pulse.streams.dead_letters import VALUE_LIMIT, DeadLetter
from smm_pulse.streams.internal import Interactions, Packed, encoded

EVENTS = CollectorRegistry()
events_total = Counter("smm_events", "", ["topic", "type", "outcome"], registry=EVENTS)


def guard() -> tuple[MessageGuard, list[DeadLetter], Counter, Counter]:
    registry = CollectorRegistry()
    errors = Counter("smm_internal_errors", "", ["family"], registry=registry)
    dlq = Counter("smm_dlq_events", "", ["topic", "reason"], registry=registry)
    sent: list[DeadLetter] = []
    return MessageGuard(Family.ENGAGEMENT, "app.kpi.engagement", sent.append, errors, dlq,
                        events_total), sent, errors, dlq


def body() -> bytes:
    block = Interactions(["e1", "e2"], [1.0, 2.0], ["vk", "vk"], ["like", "unlike"], [None, 3],
                         [None, None])
    [value] = encoded(Packed("smm.engagement", {"acme": [block]}))
    return value


def failing(value: bytes, partition: int, offset: int) -> None:
    raise OverflowError("Integer exceeds 64-bit range")


def test_a_failing_message_goes_to_the_dead_letter_topic_as_its_events_and_is_counted():
    message_guard, sent, errors, dlq = guard()
    message_guard.run(failing, body(), 3, 99)  # raises nothing
    [letter] = sent
    headers = dict(letter.headers)
    assert headers["smm.reason"] == b"internal_error"
    assert b"OverflowError: Integer exceeds 64-bit range" in headers["smm.detail"]
    assert (headers["smm.source.partition"], headers["smm.source.offset"]) == (b"3", b"99")
    events = orjson.loads(letter.value)
    assert [(e["type"], e["brand"], e["event_id"], e["action"]) for e in events] == [
        ("interaction", "acme", "e1", "like"), ("interaction", "acme", "e2", "unlike")]
    assert errors.labels("engagement")._value.get() == 1
    assert dlq.labels("smm.engagement", "internal_error")._value.get() == 2


def test_an_unreadable_internal_message_is_kept_as_it_came():
    message_guard, sent, _, _ = guard()
    message_guard.run(failing, b"\xff\x00garbage", 0, 1)
    assert sent[0].value == b"\xff\x00garbage"


def test_a_message_handled_without_failure_writes_no_dead_letter():
    message_guard, sent, errors, _ = guard()
    handled: list[int] = []
    message_guard.run(lambda value, partition, offset: handled.append(offset), body(), 0, 7)
    assert handled == [7] and sent == []
    assert errors.labels("engagement")._value.get() == 0


def test_a_failed_messages_events_count_as_rejected_in_parts_under_the_record_limit():
    message_guard, sent, _, dlq = guard()
    n = 40_000
    block = Interactions([f"event-{i:06d}" for i in range(n)], [1.0] * n, ["vk"] * n,
                         ["like"] * n, [None] * n, [None] * n)
    [value] = encoded(Packed("smm.mentions", {"acme": [block]}), limit=64 * 1024 * 1024)
    before = events_total.labels("smm.mentions", "interaction", "rejected")._value.get()
    message_guard.run(failing, value, 0, 3)
    assert len(sent) > 1 and all(len(letter.value) <= VALUE_LIMIT for letter in sent)
    assert sum(len(orjson.loads(letter.value)) for letter in sent) == n
    assert dlq.labels("smm.mentions", "internal_error")._value.get() == n
    after = events_total.labels("smm.mentions", "interaction", "rejected")._value.get()
    assert after - before == n
