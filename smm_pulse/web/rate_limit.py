"""Token buckets: events per second per collector of ``POST /ingest`` and per webhook
collector."""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class TokenBucket:
    """``rate`` events a second on average, up to ``burst`` at once.

    A request larger than the burst passes once the bucket is full and leaves
    it in debt, so a big body waits as long as its events take at the rate
    instead of never passing.
    """

    def __init__(self, rate: float, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.tokens = float(burst)
        self.at = clock()

    def take(self, events: int) -> float:
        """0 when ``events`` may pass (and are taken), else seconds until they may."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        needed = min(events, self.burst)
        if self.tokens >= needed:
            self.tokens -= events
            return 0.0
        return (needed - self.tokens) / self.rate


def retry_after(seconds: float) -> str:
    """A Retry-After header value: whole seconds, at least one."""
    return str(max(1, math.ceil(seconds)))


class RateLimits:
    """One bucket per collector (named by its source: ``http:<collector>``,
    ``webhook:<platform>:<collector>``), made at its first request."""

    def __init__(self, rate: float, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self._buckets: dict[str, TokenBucket] = {}

    def take(self, collector: str, events: int) -> float:
        bucket = self._buckets.get(collector)
        if bucket is None:
            bucket = self._buckets[collector] = TokenBucket(self.rate, self.burst, self.clock)
        return bucket.take(events)
