"""Hostile messages on a real worker: each is rejected or counted, none stops the service.

Each message here once stopped a worker for good (a crash at every restart):
JSON nested a thousand levels, integers past 64 bits, a time of 1e300, a
2 MB invalid message over the producer's limit, a thousand bad items in one
message. Now each is refused with a reason into bounded dead letters, good
events after them are counted, and a restart goes on.
"""

from __future__ import annotations

import json
import time
from collections import Counter

import orjson
import pytest
from kafka import KafkaProducer

from tests.integration.conftest import Service, wait_until
from tests.integration.test_events_in_kpis_out import read_dlq

pytestmark = pytest.mark.integration
CONFIG = "brands:\n  acme: {}\n"


def event(i: int, **fields: object) -> dict:
    return {"type": "interaction", "event_id": f"hostile-{i}", "ts": time.time(),
            "platform": "vk", "brand": "acme", "account": "main", "action": "like", **fields}


def deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def hostile_messages() -> list[tuple[bytes, int]]:
    """(message, events it rejects)."""
    valid = orjson.dumps(event(0))
    thousand_bad = json.dumps([event(i, brand="nobody", note="y" * 120)
                               for i in range(1000)]).encode()
    return [
        (deep(1000), 1),
        (valid[:-1] + b',"extra":' + deep(1000) + b"}", 1),
        (json.dumps(event(1, count=2**70)).encode(), 1),
        (json.dumps(event(2, action="unlike", count=2**64 - 1)).encode(), 1),
        (json.dumps([event(3, count=2**64 - 1), event(4, count=2**64 - 1)]).encode(), 2),
        (json.dumps(event(5, type="post_metrics", post_id="p", published_at=1e300)).encode(), 1),
        (json.dumps(event(6, ts=1e300)).encode(), 1),
        (b"[" + b"x" * (2 * 1024 * 1024), 1),
        (thousand_bad, 1000),
        (json.dumps(event(7, platform="platform-of-the-day")).encode(), 1),
        (json.dumps(event(8, type="mention", text="hi", lang="en\n")).encode(), 1),
    ]


def produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, max_request_size=8 * 1024 * 1024)
    for value in values:
        producer.send(topic, value, key=b"acme")
    producer.flush(timeout=60)
    producer.close()


def good_events(first: int, n: int) -> list[bytes]:
    return [orjson.dumps(event(i)) for i in range(first, first + n)]


def test_hostile_messages_are_rejected_and_the_worker_goes_on_across_a_restart(
        service, broker, tmp_path):
    topics = service_topics(service)
    hostile = hostile_messages()
    rejected = sum(n for _, n in hostile)
    produce(broker.bootstrap, topics["engagement"], [m for m, _ in hostile])
    produce(broker.bootstrap, topics["engagement"], good_events(100, 5))

    samples = service.wait_for_events(rejected + 5)
    outcomes: Counter[str] = Counter()
    for (name, labels), v in samples.items():
        if name == "smm_events_total":
            outcomes[dict(labels)["outcome"]] += int(v)
    assert outcomes == {"rejected": rejected, "accepted": 5}

    letters = read_dlq(broker.bootstrap, topics["dlq"], rejected)
    assert len(letters) == rejected
    sizes = [len(r.value) + sum(len(k) + len(v) for k, v in r.headers) for r in letters]
    assert max(sizes) < 1024 * 1024
    reasons = [dict(r.headers)["smm.reason"].decode() for r in letters]
    assert {"too_deep", "invalid_field", "malformed_json", "undeclared_brand",
            "undeclared_platform"} <= set(reasons)

    truncated = [r for r in letters if "smm.truncated" in dict(r.headers)]
    assert [dict(r.headers)["smm.truncated"] for r in truncated] == [b"2097153"]
    thousand = [size for r, size in zip(letters, sizes, strict=True)
                if dict(r.headers)["smm.reason"] == b"undeclared_brand"]
    assert sum(thousand) < 2 * len(hostile[8][0])  # bounded: about the message's own size

    # The same worker's group restarts over the same topics: nothing replays into a crash.
    service.stop()
    again = Service(service.config, broker.bootstrap, tmp_path / "again.log").start()
    try:
        produce(broker.bootstrap, topics["engagement"], good_events(200, 3))
        wait_until(lambda: assert_accepted(again, 3), timeout=90)
    finally:
        again.stop()


def assert_accepted(service: Service, n: int) -> None:
    accepted = sum(v for (name, labels), v in service.metrics(("smm_events_total",)).items()
                   if name == "smm_events_total" and dict(labels)["outcome"] == "accepted")
    assert accepted >= n


def service_topics(service: Service) -> dict[str, str]:
    from smm_pulse.config import load_config
    topics = load_config(service.config).topics
    return {"engagement": topics.engagement, "dlq": topics.dlq}
