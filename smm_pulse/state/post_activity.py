"""Top posts of a brand: what each post gained per window bucket, ranked when read.

A window bucket of a brand holds what each of its posts gained in it, as one
entry {"o": offset, "p": {post key: gains of the ``RANKED_COUNTERS``, in their
order}} (``BucketEntries``; the key is ``post_key``): one changelog record per
bucket, however many posts. A key per post and bucket cost the service about
40% of its batched throughput and 2.5 times its memory per key
(docs/benchmarks.md). The ranking is computed at read time over the posts
with gains in the window's buckets, so it is exact for them.

Reads rank by each post's interactions in the window, a running sum per
(brand, window) that writes keep up to date once a read has made it (the
``WindowSum`` of the brand's window counters), and add up the other counters
of the posts shown only.
"""
from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import chain, compress
from operator import add
from typing import Any

from smm_pulse.contributions import RANKED_COUNTERS, PostGains, RankedGains, post_of
from smm_pulse.kpi import formulas
from smm_pulse.state.bucket_entries import BucketEntries
from smm_pulse.state.section import Parts, Section, restored_parts
from smm_pulse.windows import Window, WindowSum

# Posts with gains per (brand, platform) at most: a post first seen beyond it is not
# ranked until others expire (counted in ``refused``); the brand's KPIs are unaffected.
MAX_POSTS_PER_PLATFORM = 2_000

# Which ranked counters the KPI formula counts as interactions (it sums them): a post's
# interactions are the sum of those gains.
_COUNTED = tuple(formulas.interactions({name: 1}) == 1 for name in RANKED_COUNTERS)


def interactions(gains: Iterable[float]) -> float:
    """``formulas.interactions`` of gains in ``RANKED_COUNTERS`` order."""
    return sum(compress(gains, _COUNTED))


class PostActivity:
    """Every post's gains per window bucket of a brand, with a bound on the posts."""

    def __init__(self, section: Section, windows: Iterable[Window],
                 limit: int = MAX_POSTS_PER_PLATFORM) -> None:
        self.buckets = BucketEntries(section, windows, "p")  # bucket -> post key -> gains
        self.section = section  # the janitor deletes what ``expire`` returns from it
        self.limit = limit
        self.refused = 0  # batches' posts not tracked for the limit
        # brand -> keys of the posts with gains held (some may have expired since: pruned
        # when a platform is full, once buckets were forgotten since the last pruning)
        self._tracked: dict[str, set[str]] = {}
        # brand -> platform -> posts tracked, kept once a brand has more than ``limit``
        # posts in all (below that, no platform can be full)
        self._counts: dict[str, dict[str, int]] = {}
        self._pruned_at: dict[str, int] = {}  # ``buckets.forgotten`` at the last pruning
        # (brand, window name) -> interactions per post key in the window, once read
        self._sums: dict[tuple[str, str], WindowSum] = {}

    def apply(self, offset: int, brand: str, gains: PostGains, now: float) -> None:
        """Add one batch's gains per grain start and post key to every window's buckets,
        of the posts within the bound."""
        tracked = self._tracked.setdefault(brand, set())
        if not all(map(tracked.issuperset, gains.values())):  # posts new to the brand
            new = set(chain.from_iterable(gains.values())) - tracked
            if brand not in self._counts and len(tracked) + len(new) <= self.limit:
                tracked |= new
            else:
                gains = self._admitted(brand, gains)
        for window, start, held, grains in self.buckets.changes(offset, brand, gains, now):
            for posts in grains:
                _add_gains(held, posts)
            running = self._sums.get((brand, window.name))
            if running is not None:
                for posts in grains:
                    running.add(start, {key: interactions(g) for key, g in posts.items()})

    def _admitted(self, brand: str, gains: PostGains) -> PostGains:
        """The gains of the posts within the bound, in the batch's order (a replay admits
        the same); the new ones admitted are tracked."""
        tracked = self._tracked[brand]
        if brand not in self._counts:
            self._count(brand)
        refused: set[str] = set()
        for posts in gains.values():
            for key in posts:
                if key not in tracked and key not in refused and not self._admit(brand, key):
                    refused.add(key)
        if not refused:
            return gains
        return {grain: {key: g for key, g in posts.items() if key not in refused}
                for grain, posts in gains.items()}

    def _admit(self, brand: str, key: str) -> bool:
        """Whether a post new to the brand has room on its platform (then it is tracked)."""
        platform = post_of(key)[0]
        counts = self._counts[brand]
        if counts.get(platform, 0) >= self.limit and \
                self._pruned_at.get(brand) != self.buckets.forgotten:
            # Every post with gains is in the longest window's buckets (they expire last).
            self._pruned_at[brand] = self.buckets.forgotten
            longest = max(self.buckets.windows, key=lambda w: w.seconds)
            self._tracked[brand].intersection_update(
                {k for _start, posts in self.buckets.held(brand, longest) for k in posts})
            counts = self._count(brand)
        if counts.get(platform, 0) >= self.limit:
            self.refused += 1
            return False
        self._tracked[brand].add(key)
        counts[platform] = counts.get(platform, 0) + 1
        return True

    def _count(self, brand: str) -> dict[str, int]:
        """Count the brand's tracked posts per platform, and keep the counts."""
        counts = self._counts[brand] = {}
        for key in self._tracked[brand]:
            platform = post_of(key)[0]
            counts[platform] = counts.get(platform, 0) + 1
        return counts

    def on_restored(self, key: str, value: Any) -> None:
        if not self.section.owns(key):
            return
        self.buckets.on_restored(key, value)
        brand, window_name, _start = restored_parts(key)
        self._sums.pop((brand, window_name), None)  # summed afresh when read
        if value is not None:
            self._tracked.setdefault(brand, set()).update(value["p"])
            self._counts.pop(brand, None)  # counted again when needed

    def expire(self, now: float, owned: set[int]) -> list[Parts]:
        """Buckets no window reads any more (the janitor deletes them)."""
        return self.buckets.expire(now, owned)

    def top(self, brand: str, platform: str | None, window_name: str, limit: int, now: float,
            followers: Callable[[], Mapping[tuple[str, str], int]]) -> list[dict[str, Any]]:
        """Posts by interactions gained in the window (ties by platform, then post), with
        their ER.

        ER is the KPI formula's: the post's interactions over the brand's latest
        followers on the post's platform (``followers``, read only when needed).
        """
        window = self.buckets.by_name[window_name]
        prefix = "" if platform is None else f"{platform} "
        candidates = [(-gained, key) for key, gained in self._interactions(brand, window, now)
                      if key.startswith(prefix)]
        rows: list[dict[str, Any]] = []
        audience: Mapping[tuple[str, str], int] | None = None
        # Posts whose gains all cancel out (a like, then an unlike) are left out: the
        # candidates are taken in order until ``limit`` have gained something.
        for _gained, key in _best_first(candidates, limit):
            counters = self._gains(brand, key, window, now)
            if not any(counters.values()):
                continue
            if audience is None:
                audience = followers()
            on, post_id = post_of(key)
            rows.append({
                "post_id": post_id, "platform": on,
                "interactions": formulas.interactions(counters),
                "engagement_rate": formulas.engagement_rate(counters, audience.get((brand, on))),
                **counters})
            if len(rows) == limit:
                break
        return rows

    def _interactions(self, brand: str, window: Window, now: float
                      ) -> Iterable[tuple[str, float]]:
        """(post key, interactions gained in the window): the running sum, summed afresh
        when a bucket has left or entered the window since."""
        running = self._sums.get((brand, window.name))
        if running is None or not running.is_current(now):
            running = self._sums[brand, window.name] = WindowSum.of(
                window, ((start, {key: interactions(g) for key, g in posts.items()})
                         for start, posts in self.buckets.held(brand, window)), now)
        return running.counters.items()

    def _gains(self, brand: str, key: str, window: Window, now: float) -> dict[str, float]:
        """A post's ranked counters gained in the window."""
        total: RankedGains = (0,) * len(RANKED_COUNTERS)
        for posts in self.buckets.covered(brand, window, now):
            gains = posts.get(key)
            if gains is not None:
                total = tuple(map(add, total, gains))
        return dict(zip(RANKED_COUNTERS, total, strict=True))


def _add_gains(held: dict[str, RankedGains], posts: Mapping[str, RankedGains]) -> None:
    """Add a batch's gains of some posts to a bucket's, in place.

    Gains are tuples: new values, not changed in place (a batch's gains go to
    every window's bucket), which the garbage collector stops tracking. Posts new
    to the bucket, the usual case in its first seconds, are copied in C.
    """
    if held.keys().isdisjoint(posts):
        held.update(posts)
        return
    for key, gains in posts.items():
        kept = held.get(key)
        held[key] = gains if kept is None else tuple(map(add, kept, gains))


def _best_first(candidates: list[tuple[float, str]], limit: int
                ) -> Iterator[tuple[float, str]]:
    """The candidates in order: the first ``limit`` found cheaply, the rest only if read."""
    yield from heapq.nsmallest(limit, candidates)
    if len(candidates) > limit:
        yield from sorted(candidates)[limit:]
