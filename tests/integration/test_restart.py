"""A worker killed with kill -9 mid-feed and restarted ends with exactly the values of a clean run.

After the kill, Kafka redelivers what was processed but not committed
(at-least-once); the tables come back from their changelogs. Offset guards and
the duplicate index must make the replay change nothing.
"""

from __future__ import annotations

import signal
import time

import pytest

from tests.integration.conftest import Service, wait_until, write_config
from tests.integration.reference_feed import CONFIG, assert_kpis, build_feed

pytestmark = pytest.mark.integration

SETTLE_SECONDS = 5.0  # values must stay exact after redelivery has settled


def test_kill_9_mid_feed_and_restart_gives_exact_values(broker, tmp_path):
    config = write_config(tmp_path / "smm.yaml", CONFIG)
    first = Service(config, broker.bootstrap, tmp_path / "first.log").start()
    feed = build_feed(time.time())
    half = len(feed.lines) // 2
    first.feed(feed.lines[:half], tmp_path)
    first.feed(feed.lines[half:], tmp_path)
    first.stop(signal.SIGKILL)  # no commit, no flush: some work is redelivered

    second = Service(config, broker.bootstrap, tmp_path / "second.log").start()
    try:
        wait_until(lambda: assert_kpis(second.metrics()))
        time.sleep(SETTLE_SECONDS)
        assert_kpis(second.metrics())
    finally:
        second.stop()
