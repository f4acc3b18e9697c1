"""POST /ingest while the real broker is stopped (SIGSTOP: the process stops answering, its
memory storage kept; SIGTERM would lose every topic), before and in the middle of a big
request: a 503 with Retry-After that says item by item what was written; nothing at all
when the broker was stopped before; and once the broker is back and the whole request is
sent again, /metrics counts each event exactly once. Last, with the broker's process gone,
a 503 at once and nothing written."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import requests
from kafka import KafkaConsumer, TopicPartition

from smm_pulse.runtime.broker import EmbeddedBroker
from smm_pulse.web.auth import sha256_hex
from tests.integration.conftest import Service, free_port, value, wait_until
from tests.integration.test_hostile_input import service_topics

pytestmark = pytest.mark.integration

TOKEN = "collector-token-for-outage-tests"
CONFIG = f"""
brands: {{acme: {{}}}}
ingest_http:
  collectors: {{poller: {{token_sha256: {sha256_hex(TOKEN)}}}}}
  max_body_bytes: 33554432
  events_per_second: 1000000
  burst_events: 1000000
  send_timeout_seconds: 4
"""
BIG = 60_000  # events of the big request: about 12 MiB, some 25 input records


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """A broker of this module's own: it is stopped and resumed here."""
    log = tmp_path_factory.mktemp("outage-broker") / "tansu.log"
    with EmbeddedBroker(port=free_port(), log_file=log) as running:
        yield running


def likes(prefix: str, count: int) -> bytes:
    ts = time.time() - 60
    return orjson.dumps([{"type": "interaction", "event_id": f"{prefix}-{n}", "ts": ts,
                          "platform": "vk", "brand": "acme", "account": "main",
                          "action": "like"} for n in range(count)])


def ingest(service: Service, body: bytes) -> requests.Response:
    return requests.post(f"http://127.0.0.1:{service.port}/ingest", data=body, timeout=120,
                         headers={"Authorization": f"Bearer {TOKEN}",
                                  "Content-Type": "application/json"})


def events(service: Service) -> Counter[str]:
    counts: Counter[str] = Counter()
    for (name, labels), v in service.metrics(("smm_events_total",)).items():
        if name == "smm_events_total":
            counts[dict(labels)["outcome"]] += int(v)
    return counts


def likes_in_the_hour(service: Service) -> float | None:
    return value(service.metrics(("smm_window_interactions",)), "smm_window_interactions",
                 brand="acme", platform="vk", window="1h")


def deliveries(answer: requests.Response) -> Counter[str]:
    body = answer.json()
    counted = Counter(item["delivery"] for item in body["items"])
    assert counted == Counter({state: body[state] for state in
                               ("written", "not_written", "unknown") if body[state]})
    return counted


def send_until_taken(service: Service, body: bytes) -> requests.Response:
    """The whole request again, as a collector does after a 503, until it is taken."""
    deadline = time.monotonic() + 90
    while True:
        answer = ingest(service, body)
        if answer.status_code != 503 or time.monotonic() > deadline:
            assert answer.status_code == 200, answer.text[:500]
            return answer
        time.sleep(int(answer.headers["Retry-After"]))


class StopOnFirstWrite(threading.Thread):
    """Stops the broker as soon as the topic's first record is written."""

    def __init__(self, broker: EmbeddedBroker, topic: str) -> None:
        super().__init__(daemon=True)
        self.broker, self.topic = broker, topic
        self.stopped_at_offset = -1

    def run(self) -> None:
        consumer = KafkaConsumer(bootstrap_servers=self.broker.bootstrap)
        partitions = [TopicPartition(self.topic, p)
                      for p in consumer.partitions_for_topic(self.topic) or ()]
        start = sum(consumer.end_offsets(partitions).values())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            end = sum(consumer.end_offsets(partitions).values())
            if end > start:
                os.kill(self.broker.pid, signal.SIGSTOP)
                self.stopped_at_offset = end
                break
            time.sleep(0.002)
        consumer.close(autocommit=False)


def test_stopped_before_a_request_nothing_is_written_and_the_retry_counts_once(
        service: Service, broker: EmbeddedBroker):
    body = likes("before", 1_000)
    os.kill(broker.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        answer = ingest(service, body)
        waited = time.monotonic() - started
    finally:
        os.kill(broker.pid, signal.SIGCONT)
    assert answer.status_code == 503, answer.text[:500]
    assert int(answer.headers["Retry-After"]) >= 1
    assert deliveries(answer) == {"not_written": 1_000}
    assert waited < 4 + 2  # the send timeout bounds the wait

    assert send_until_taken(service, body).json()["accepted"] == 1_000

    def counted_once() -> None:
        assert events(service) == {"accepted": 1_000}  # no duplicate: nothing was written
        assert likes_in_the_hour(service) == 1_000

    wait_until(counted_once, timeout=90)


def test_stopped_during_a_big_request_the_answer_says_what_was_written_and_the_retry_counts_once(
        service: Service, broker: EmbeddedBroker, tmp_path: Path):
    before = events(service)
    body = likes("during", BIG)
    stopper = StopOnFirstWrite(broker, service_topics(service)["engagement"])
    stopper.start()
    try:
        answer = ingest(service, body)
    finally:
        stopper.join(timeout=60)
        os.kill(broker.pid, signal.SIGCONT)
    assert stopper.stopped_at_offset > 0, "the broker was not stopped in the middle"
    assert answer.status_code == 503, answer.text[:500]
    assert int(answer.headers["Retry-After"]) >= 1
    states = deliveries(answer)
    # Handed to the broker before it stopped: written, or unknown when it stopped before
    # acknowledging; the records after those were never sent.
    assert states["written"] + states["unknown"] > 0
    assert states["not_written"] > 0
    # Items come in body order, and records are written in that order.
    written = [item["index"] for item in answer.json()["items"]
               if item["delivery"] == "written"]
    assert written == list(range(len(written)))

    assert send_until_taken(service, body).json()["accepted"] == BIG

    def counted_once() -> None:
        now = events(service)
        assert now["accepted"] - before["accepted"] == BIG
        # The retry's repeats are the first try's records that reached the topic: all
        # those answered written, maybe some unknown, none answered not written.
        repeated = now["duplicate"] - before["duplicate"]
        assert states["written"] <= repeated <= states["written"] + states["unknown"]
        assert likes_in_the_hour(service) == before["accepted"] + BIG

    wait_until(counted_once, timeout=120)


def test_with_the_broker_gone_the_answer_is_503_at_once_and_nothing_is_written(
        service: Service, broker: EmbeddedBroker):
    broker.stop()  # for good: its memory storage is gone, so this module's last test
    started = time.monotonic()
    answer = ingest(service, likes("gone", 100))
    assert answer.status_code == 503, answer.text[:500]
    assert int(answer.headers["Retry-After"]) >= 1
    assert deliveries(answer) == {"not_written": 100}
    assert time.monotonic() - started < 4  # refused connections fail the pre-flight check
