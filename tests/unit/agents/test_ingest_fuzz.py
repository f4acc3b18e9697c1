"""Fuzzing the ingest's triage of collector messages: any bytes in, an outcome out.

For every message: nothing raises, every item of a batch is counted once
(accepted or rejected), every rejection has a documented reason and one
dead-letter record, and the dead letters of a message stay within its size
plus their headers. ``make fuzz`` runs it far longer than the suite does.
"""

from __future__ import annotations

import json
import os

import orjson
from aiokafka import ConsumerRecord
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smm_pulse.agents.ingest import Packer, triage
from smm_pulse.streams.dead_letters import VALUE_LIMIT
from smm_pulse.streams.events import EVENT_TYPES, REASONS, Declared

NOW = 1_800_000_000.0
DECLARED = Declared({"acme", "globex"}.__contains__)
EXAMPLES = int(os.environ.get("SMM_PULSE_FUZZ_EXAMPLES", "300"))

scalars = st.one_of(
    st.none(), st.booleans(), st.text(max_size=20),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([NOW, NOW + 3600, "2027-01-15T10:00:00+03:00", "vk", "acme", "like", "in"]),
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
FIELDS = ("account", "post_id", "action", "count",
          "followers", "likes", "views", "published_at", "thread_id", "direction", "text",
          "lang", "reach", "sentiment", "author")
events = st.fixed_dictionaries(
    {"type": st.sampled_from([*EVENT_TYPES, "other"]), "event_id": st.text(min_size=1, max_size=8),
     "ts": st.sampled_from([NOW - 60, NOW, "2027-01-15T07:00:00Z"]),
     "platform": st.sampled_from(["vk", "VK", "x", "myspace"]),
     "brand": st.sampled_from(["acme", "globex", "initech"])},
    optional={name: json_values for name in FIELDS})
items = st.one_of(events, json_values)


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


VALID = json.dumps({"type": "interaction", "event_id": "e", "ts": NOW, "platform": "vk",
                    "brand": "acme", "account": "main", "action": "like"}).encode()

messages = st.one_of(
    st.integers(1, 3000).map(lambda d: VALID[:-1] + b', "extra": ' + nested(d) + b"}"),
    st.lists(items, max_size=8).map(lambda batch: json.dumps(batch).encode()),
    items.map(lambda item: json.dumps(item).encode()),
    st.binary(max_size=64),
    st.tuples(st.lists(items, max_size=4), st.integers(0, 200), st.binary(max_size=4))
    .map(lambda t: json.dumps(t[0]).encode()[: t[1]] + t[2]),  # cut and garbled
    st.integers(1, 3000).map(nested),
    # a number past a double's range beside other items
    st.lists(items, max_size=4).map(
        lambda batch: b"[" + VALID[:-1] + b',"x":1e400}' + b"".join(
            b"," + json.dumps(item).encode() for item in batch) + b"]"),
)


def record(value: bytes, key: bytes | None) -> ConsumerRecord:
    return ConsumerRecord(topic="smm.engagement", partition=3, offset=42, timestamp=0,
                          timestamp_type=0, key=key, value=value, checksum=None,
                          serialized_key_size=0, serialized_value_size=len(value), headers=())


def batch_size(value: bytes) -> int | None:
    """Items of a JSON array message; None for anything else."""
    try:
        decoded = json.loads(value)
    except (ValueError, RecursionError):
        return None
    return len(decoded) if isinstance(decoded, list) else None


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages, st.one_of(st.none(), st.binary(max_size=8)))
def test_every_message_is_counted_once_and_nothing_escapes(value: bytes, key: bytes | None):
    triaged = triage(record(value, key), DECLARED, NOW)

    items = batch_size(value)
    counted = len(triaged.accepted) + len(triaged.rejected)
    if items is not None and not any(r.reason == "too_deep" for r in triaged.rejected):
        assert counted == items
    else:
        assert counted <= 1
    assert all(r.reason in REASONS for r in triaged.rejected)
    assert 0 < len(triaged.dead_letters) <= len(triaged.rejected) or not triaged.rejected
    packer = Packer(lambda _brand: 0)  # accepted events pack into internal messages
    packer.add("smm.engagement", triaged.accepted, len(value))
    packer.messages()
    # a batch item's own bytes, or the whole message once: never more than the message,
    # and with the headers within twice the message (plus a few KiB)
    values = [letter.value for letter in triaged.dead_letters]
    assert all(len(v) <= VALUE_LIMIT for v in values)
    assert sum(map(len, values)) <= len(value)
    assert sum(letter.size for letter in triaged.dead_letters) <= 2 * len(value) + 8192
    if len(triaged.dead_letters) == len(triaged.rejected):
        for letter, rejection in zip(triaged.dead_letters, triaged.rejected, strict=True):
            assert dict(letter.headers)["smm.reason"] == rejection.reason.encode()
    else:
        [letter] = triaged.dead_letters
        counts = orjson.loads(dict(letter.headers)["smm.reasons"])
        assert sum(counts.values()) == len(triaged.rejected)
