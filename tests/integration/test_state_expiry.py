"""State stays bounded: once event time passes the longest window, the janitor deletes it."""

from __future__ import annotations

import time

import orjson
import pytest

from tests.integration.conftest import Service, value, wait_until, write_config

pytestmark = pytest.mark.integration

CONFIG = """
brands: {acme: {}}
windows: [5s, 10s]
partitions: 2
"""


def test_window_state_shrinks_to_running_totals_after_the_windows_pass(broker, tmp_path):
    service = Service(write_config(tmp_path / "smm.yaml", CONFIG), broker.bootstrap,
                      tmp_path / "service.log").start()
    try:
        now = time.time()
        events = [
            {"type": "interaction", "event_id": f"i{i}", "ts": now - i % 3, "platform": "vk",
             "brand": "acme", "account": "main", "action": "like"}
            for i in range(30)
        ] + [{"type": "message", "event_id": "m1", "ts": now, "platform": "vk", "brand": "acme",
              "account": "main", "thread_id": "t", "direction": "in"}]
        service.feed([orjson.dumps(events)], tmp_path)
        samples = service.wait_for_events(len(events))
        labels = {"brand": "acme", "platform": "vk"}
        assert value(samples, "smm_window_interactions", window="10s", **labels) == 30
        assert value(samples, "smm_state_keys", table="engagement-buckets") > 1
        assert value(samples, "smm_state_keys", table="response-threads") == 1

        def expired() -> None:
            after = service.metrics()
            # only the running total of (acme, vk) is left; windows read zero
            assert value(after, "smm_state_keys", table="engagement-buckets") == 1
            assert value(after, "smm_state_keys", table="response-threads") == 0
            assert value(after, "smm_window_interactions", window="10s", **labels) == 0

        wait_until(expired, timeout=75)  # 10 s window + one 30 s janitor pass, with slack
    finally:
        service.stop()
