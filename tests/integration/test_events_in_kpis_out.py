"""End to end on the real embedded broker: JSON Lines fed with ``smm-pulse feed`` become exact KPIs,
and every bad input lands in the DLQ with its reason while its neighbours are counted.
"""

from __future__ import annotations

import time
from collections import Counter

import orjson
import pytest
from kafka import KafkaConsumer

from smm_pulse.config import load_config
from tests.integration.conftest import wait_until
from tests.integration.reference_feed import CONFIG as REFERENCE_CONFIG
from tests.integration.reference_feed import (
    TRUNCATED,
    assert_kpis,
    build_feed,
    outcomes,
)

pytestmark = pytest.mark.integration
CONFIG = REFERENCE_CONFIG  # read by the module-scoped `service` fixture


def read_dlq(bootstrap: str, topic: str, expected: int) -> list:
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             consumer_timeout_ms=3000, enable_auto_commit=False)
    records: list = []
    deadline = time.monotonic() + 60
    while len(records) < expected and time.monotonic() < deadline:
        records.extend(consumer)
    consumer.close()
    return records


def assert_a_scrape_of_some_metrics_has_just_their_samples(service) -> None:
    wanted = ("smm_window_interactions", "smm_mentions_total", "smm_events_total",
              "smm_state_keys")  # KPIs, counters and gauges computed at scrape time
    everything = service.metrics()
    some = service.metrics(names=wanted)
    assert {name for name, _labels in some} == set(wanted)
    assert some == {key: v for key, v in everything.items() if key[0] in wanted}


def test_fed_events_yield_exact_kpis_and_bad_input_lands_in_the_dlq(service, broker, tmp_path):
    feed = build_feed(time.time())
    report = service.feed(feed.lines, tmp_path)
    total = sum(feed.outcomes.values())
    assert report.startswith(f"sent {total} events in ")

    samples = service.wait_for_events(total)
    assert outcomes(samples) == feed.outcomes
    dead_letters = Counter()
    for (name, labels), v in samples.items():
        if name == "smm_dlq_events_total":
            dead_letters[dict(labels)["reason"]] += int(v)
    assert dead_letters == Counter(feed.rejections)
    late = sum(v for (name, _), v in samples.items() if name == "smm_late_events_total")
    assert late == 1
    # Share of voice takes one more hop (mentions agent -> voice agent) than the counts.
    wait_until(lambda: assert_kpis(service.metrics()), timeout=30)
    wait_until(lambda: assert_a_scrape_of_some_metrics_has_just_their_samples(service))

    dlq_topic = load_config(service.config).topics.dlq
    dlq = read_dlq(broker.bootstrap, dlq_topic, len(feed.rejections))
    reasons = [dict(r.headers)["smm.reason"].decode() for r in dlq]
    assert sorted(reasons) == sorted(feed.rejections)
    truncated = next(r for r in dlq if r.value == TRUNCATED)  # the original bytes
    assert dict(truncated.headers)["smm.reason"] == b"malformed_json"
    # The SDK keys batches by brand: [42, share, dance] is sent as [42] and [share, dance].
    batch_item = next(r for r in dlq if dict(r.headers).get("smm.field") == b"action")
    assert dict(batch_item.headers)["smm.index"] == b"1"
    assert orjson.loads(batch_item.value)["action"] == "dance"  # the item alone

    # Replaying everything: accepted events become duplicates, KPIs do not move.
    service.feed(feed.lines, tmp_path)
    replayed = service.wait_for_events(2 * total)
    assert outcomes(replayed) == Counter(
        accepted=feed.outcomes["accepted"],
        duplicate=2 * feed.outcomes["duplicate"] + feed.outcomes["accepted"],
        rejected=2 * feed.outcomes["rejected"],
    )
    time.sleep(3)  # let any (wrongly) re-forwarded share-of-voice records arrive
    assert_kpis(service.metrics())
