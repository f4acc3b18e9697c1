"""Per-collector token buckets of POST /ingest."""

from __future__ import annotations

import pytest

from smm_pulse.web.rate_limit import RateLimits, TokenBucket, retry_after


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_then_the_bucket_refills_at_the_rate():
    clock = Clock()
    bucket = TokenBucket(rate=10, burst=20, clock=clock)
    assert bucket.take(20) == 0
    assert bucket.take(5) == pytest.approx(0.5)  # five events at 10/s
    clock.now += 0.5
    assert bucket.take(5) == 0
    assert bucket.take(1) == pytest.approx(0.1)


def test_the_bucket_never_holds_more_than_the_burst():
    clock = Clock()
    bucket = TokenBucket(rate=10, burst=20, clock=clock)
    clock.now += 3600
    assert bucket.take(20) == 0
    assert bucket.take(1) > 0


def test_a_request_over_the_burst_passes_on_a_full_bucket_and_leaves_debt():
    clock = Clock()
    bucket = TokenBucket(rate=10, burst=20, clock=clock)
    assert bucket.take(50) == 0
    assert bucket.take(1) == pytest.approx(3.1)  # 30 events of debt, then one more
    clock.now += 3.2
    assert bucket.take(1) == 0


def test_each_collector_has_its_own_bucket():
    limits = RateLimits(rate=1, burst=2, clock=Clock())
    assert limits.take("vk", 2) == 0
    assert limits.take("vk", 1) > 0
    assert limits.take("tg", 2) == 0


@pytest.mark.parametrize(("seconds", "header"), [(0.01, "1"), (1.0, "1"), (1.2, "2"), (30, "30")])
def test_retry_after_is_whole_seconds_rounded_up(seconds, header):
    assert retry_after(seconds) == header
