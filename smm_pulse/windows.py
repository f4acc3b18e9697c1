"""Trailing event-time windows kept as buckets of counters.

A window W is read at wall-clock ``now`` as the sum of its buckets that overlap
(now - W, now]. Each window has ``BUCKETS_PER_WINDOW`` buckets, so its trailing
edge moves in steps of W/60 (5 s for 5m, 1 min for 1h, 24 min for 24h): an event
up to one bucket older than W may still be counted. Windows that cover all
events are exact.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from smm_pulse.config import duration_seconds

BUCKETS_PER_WINDOW = 60

Counters = dict[str, float]


@dataclass(frozen=True, slots=True)
class Window:
    name: str
    seconds: int
    bucket_seconds: int = field(init=False)  # per event on the hot path: computed once

    def __post_init__(self) -> None:
        object.__setattr__(self, "bucket_seconds", max(1, self.seconds // BUCKETS_PER_WINDOW))

    @classmethod
    def parse(cls, name: str) -> Window:
        return cls(name, duration_seconds(name))

    def bucket_of(self, ts: float) -> int:
        size = self.bucket_seconds
        return int(ts // size) * size

    def expires_at(self, bucket_start: float) -> float:
        """When no part of the bucket can be inside (now - W, now] any more."""
        return bucket_start + self.bucket_seconds + self.seconds

    def expiry_cutoff(self, now: float) -> float:
        """Buckets starting at or before this are expired at ``now``."""
        return now - self.bucket_seconds - self.seconds

    def is_expired(self, bucket_start: float, now: float) -> bool:
        return bucket_start <= self.expiry_cutoff(now)

    def covers(self, bucket_start: float, now: float) -> bool:
        return not self.is_expired(bucket_start, now) and bucket_start <= now


def grain_seconds(windows: Iterable[Window]) -> int:
    """The longest time that divides every window's bucket size: contributions summed
    over a grain fall in one bucket of every window (``GrainSums``)."""
    return math.gcd(*(w.bucket_seconds for w in windows))


def add_into(total: Counters, deltas: Mapping[str, float]) -> None:
    for name, value in deltas.items():
        total[name] = total.get(name, 0) + value


def sum_counters(parts: Iterable[Mapping[str, float]]) -> Counters:
    total: Counters = {}
    for part in parts:
        add_into(total, part)
    return total


@dataclass(slots=True)
class WindowSum:
    """A window's counters summed over the buckets it covers at every time in [since, until).

    Kept by adding what buckets gain (``add``), so a read costs nothing however
    many buckets there are; it is summed afresh (``of``) once ``until`` has
    passed, that is when a bucket leaves the window or a future one enters it.
    """

    window: Window
    since: float
    counters: Counters = field(default_factory=dict)
    until: float = math.inf
    newest: float | None = None  # start of the newest covered bucket
    # Buckets starting at or before this are out of the window at ``since``: computed
    # once, not in every ``add``.
    cutoff: float = field(init=False)

    def __post_init__(self) -> None:
        self.cutoff = self.window.expiry_cutoff(self.since)

    @classmethod
    def of(cls, window: Window, buckets: Iterable[tuple[float, Mapping[str, float]]],
           now: float) -> WindowSum:
        """The sum at ``now`` of (bucket start, counters) pairs."""
        total = cls(window, now)
        for start, counters in buckets:
            total.add(start, counters)
        return total

    def add(self, start: float, deltas: Mapping[str, float]) -> None:
        """Counters gained by the bucket starting at ``start``.

        Comparisons rather than min() and max(): this runs for every bucket
        written, and the calls took about as long as the rest.
        """
        if start > self.since:  # not begun yet: the sum is due again when it begins
            if start < self.until:
                self.until = start
        elif start > self.cutoff:
            add_into(self.counters, deltas)
            expires = self.window.expires_at(start)
            if expires < self.until:
                self.until = expires
            if self.newest is None or start > self.newest:
                self.newest = start

    def is_current(self, now: float) -> bool:
        return self.since <= now < self.until
