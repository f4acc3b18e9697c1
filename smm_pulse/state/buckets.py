"""Window buckets: counters per brand, platform, window and bucket start, with running sums."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import chain
from typing import Any

from smm_pulse.contributions import Cell, FollowerTotals
from smm_pulse.kpi.catalog import View
from smm_pulse.state.section import (
    TOTAL,
    PairView,
    PairViews,
    Parts,
    Section,
    Views,
    expired_entries,
    is_replayed,
    restored_parts,
)
from smm_pulse.windows import Counters, Window, WindowSum, add_into, sum_counters

Pair = tuple[str, str]  # (brand, platform)

# Cells ``WindowBuckets`` keeps unsettled at most (memory bound for a backlog).
MAX_UNSETTLED = 50_000


class WindowBuckets:
    """Counters per (brand, platform, window, bucket start), plus running totals.

    Each window's counters are also kept summed (``WindowSum``), so a view,
    read at every scrape, costs the same however many buckets there are. The
    sums follow every write: the agent's (``settle``), the janitor's deletes
    (``expire``) and changelog recovery (``on_restored``, which has the sum
    summed afresh).

    Batches are added when the state is next read, not one by one (``apply``
    keeps them, ``settle`` adds them): under a steady load a message brings a
    (brand, platform) a handful of events, and writing each batch's buckets
    cost more than its events did (docs/benchmarks.md, "Window buckets written
    when read"). Whatever reads the
    buckets settles them first: views, the janitor, the flush before each
    offset commit and a revocation of partitions.
    """

    def __init__(self, section: Section, windows: Iterable[Window], *,
                 totals: bool = True) -> None:
        self.section = section
        self.windows = tuple(windows)
        # Running totals (TOTAL) never expire: off for pairs that come and go (posts).
        self.totals = totals
        self._by_name = {w.name: w for w in self.windows}
        # Windows by bucket size, each with the index of the coarsest earlier one whose
        # buckets nest in its own (``_pending`` sums that one's), or None.
        finest_first = sorted(self.windows, key=lambda w: w.bucket_seconds)
        self._finest_first = [
            (window, next((i for i in reversed(range(n))
                           if window.bucket_seconds % finest_first[i].bucket_seconds == 0), None))
            for n, window in enumerate(finest_first)]
        # pair -> window name (or TOTAL) -> bucket start -> the bucket's parts, of
        # configured windows
        self._keys: dict[Pair, dict[str, dict[float, Parts]]] = {}
        self._sums: dict[Pair, dict[str, WindowSum]] = {}
        # pair -> the count of bucket writes when one of its buckets was last written or
        # forgotten: a pair's views change only then, or when a window sum is due again.
        self._writes = 0
        self._written_at: dict[Pair, int] = {}
        # Batches not yet added: brand -> (offset, cells, now), in arrival order.
        self._unsettled: dict[str, list[tuple[int, Mapping[Cell, float], float]]] = {}
        self._unsettled_count = 0  # cells in ``_unsettled``
        # brand -> the highest offset any of its buckets holds ("o"), or higher.
        self._offsets: dict[str, int] = {}

    def apply(self, offset: int, brand: str, cells: Mapping[Cell, float], now: float) -> None:
        """Add one batch's summed contributions when the buckets are next read (``settle``)."""
        self._unsettled.setdefault(brand, []).append((offset, cells, now))
        self._unsettled_count += len(cells)
        if self._unsettled_count >= MAX_UNSETTLED:
            self.settle()

    def settle(self) -> None:
        """Add the batches kept by ``apply``; too-old events reach only the totals.

        A brand's batches at offsets above all its buckets' (normal running) are
        added as one: the buckets they touch record the last one's offset, and
        hold all of them. A batch at or below (a replay after a crash) is added
        alone, each bucket skipping it if it already holds it.
        """
        unsettled, self._unsettled, self._unsettled_count = self._unsettled, {}, 0
        for brand, batches in unsettled.items():
            highest = self._offsets.get(brand, -1)
            run: list[Mapping[Cell, float]] = []
            run_now = 0.0
            for offset, cells, now in batches:
                if offset <= highest:
                    if run:
                        self._add(brand, highest, run, run_now)
                        run = []
                    self._add(brand, offset, [cells], now)
                else:
                    run.append(cells)
                    highest, run_now = offset, now
            if run:
                self._add(brand, highest, run, run_now)

    def _add(self, brand: str, offset: int, batches: Sequence[Mapping[Cell, float]],
             now: float) -> None:
        """Add batches' cells, as of ``now``, to the buckets that do not hold ``offset``."""
        self._holds_offset(brand, offset)
        section = self.section
        for (platform, window_name, start), deltas in self._pending(batches, now).items():
            parts = (brand, platform, window_name, start)
            stored = section.get(parts)
            if stored is None:
                section[parts] = {"o": offset, "c": deltas}
                self._remember(parts)
            elif not is_replayed(stored, offset):
                # In place: values are serialised only when flushed, after this returns.
                add_into(stored["c"], deltas)
                stored["o"] = offset
                section.changed(parts)
            else:
                continue
            self._writes += 1
            self._written_at[brand, platform] = self._writes
            window_sum = self._sums.get((brand, platform), {}).get(window_name)
            if window_sum is not None:
                window_sum.add(start, deltas)

    def _holds_offset(self, brand: str, offset: int) -> None:
        """A bucket of ``brand`` now holds ``offset``: later batches at or below it are replays."""
        self._offsets[brand] = max(offset, self._offsets.get(brand, -1))

    def _pending(self, batches: Iterable[Mapping[Cell, float]],
                 now: float) -> dict[tuple[str, str, float], Counters]:
        """Cells summed per (platform, window name, bucket start); TOTAL's start is 0.

        Each window is summed from the finest one whose buckets nest in its own
        (all of that one's, expired or not), not from every cell again.
        """
        levels: list[dict[Cell, float]] = []  # per window, finest first
        for window, source in self._finest_first:
            cells = (levels[source].items() if source is not None
                     else chain.from_iterable(batch.items() for batch in batches))
            levels.append(_per_bucket(cells, window))
        found: dict[tuple[str, str, float], Counters] = {}
        for (window, _source), level in zip(self._finest_first, levels, strict=True):
            cutoff = window.expiry_cutoff(now)
            for (platform, start, counter), amount in level.items():
                if start > cutoff:
                    bucket = (platform, window.name, start)
                    counters = found.get(bucket)
                    if counters is None:
                        counters = found[bucket] = {}
                    counters[counter] = amount
        if not self.totals:
            return found
        # Every level holds every cell (the configuration requires a window): the
        # coarsest has the fewest to add.
        for (platform, _start, counter), amount in levels[-1].items():
            total = found.setdefault((platform, TOTAL, 0), {})
            total[counter] = total.get(counter, 0) + amount
        return found

    def views(self, now: float, audiences: Mapping[Pair, FollowerTotals] | None = None) -> Views:
        """Counters gained per window (and TOTAL) as KPI views, per (brand, platform).

        The TOTAL view also carries the start of the newest bucket with events
        (data freshness). With ``audiences`` (the engagement family's followers
        per pair), views carry their pair's followers, and pairs with followers
        but no counters are included. Each pair's views are computed when read
        (``PairViews``), from the buckets settled here; a pair's stamp says they
        are unchanged since a reading with the same stamp (no bucket of it
        written or forgotten, the same audience, every window sum still current).
        """
        self.settle()
        found = audiences or {}

        def pair_views(pair: Pair) -> PairView:
            keys = self._keys.get(pair, {})
            sums = self._sums.setdefault(pair, {})
            audience = found.get(pair)
            followers = audience.latest if audience else None
            windowed: PairView = {}
            newest: float | None = None
            for window in self.windows:
                current = sums.get(window.name)
                if current is None or not current.is_current(now):
                    current = sums[window.name] = WindowSum.of(
                        window, self._counters(keys.get(window.name, {})), now)
                windowed[window.name] = View(
                    dict(current.counters), followers, window.seconds,
                    audience.at_start.get(window.name) if audience else None)
                if current.newest is not None:
                    newest = current.newest if newest is None else max(newest, current.newest)
            total = sum_counters(c for _start, c in self._counters(keys.get(TOTAL, {})))
            return {TOTAL: View(total, followers, 0, newest_event=newest)} | windowed

        def stamp(pair: Pair) -> object:
            """The pair's last write and audience, while every window sum is current: its
            views depend on nothing else (None: some sum is due again)."""
            sums = self._sums.get(pair)
            if sums is None or len(sums) < len(self.windows) or not all(
                    current.is_current(now) for current in sums.values()):
                return None
            return self._written_at.get(pair), found.get(pair)

        return PairViews({*self._keys, *found}, pair_views, stamp)

    def gained(self, pairs: Iterable[Pair], window_name: str, now: float
               ) -> dict[Pair, Counters]:
        """Counters gained in one window per pair, for ``pairs`` only (those with buckets)."""
        self.settle()
        window = self._by_name[window_name]
        found: dict[Pair, Counters] = {}
        for pair in pairs:
            keys = self._keys.get(pair)
            if keys is None:
                continue
            sums = self._sums.setdefault(pair, {})
            current = sums.get(window_name)
            if current is None or not current.is_current(now):
                current = sums[window_name] = WindowSum.of(
                    window, self._counters(keys.get(window_name, {})), now)
            found[pair] = current.counters
        return found

    def holds(self, pair: Pair) -> bool:
        """Whether any bucket of ``pair`` is held (the janitor forgets expired ones)."""
        return pair in self._keys

    def _counters(self, buckets: Mapping[float, Parts]) -> Iterator[tuple[float, Counters]]:
        """(bucket start, counters) of the buckets still held."""
        for start, parts in buckets.items():
            stored = self.section.get(parts)
            if stored is not None:
                yield start, stored["c"]

    def on_restored(self, key: str, value: Any) -> None:
        """A bucket written by changelog recovery: its window is summed afresh."""
        if self.section.owns(key):
            parts = restored_parts(key)
            self._index(parts, present=value is not None)
            if value is not None:
                self._holds_offset(parts[0], value["o"])

    def _index(self, parts: Parts, *, present: bool) -> None:
        brand, platform, window_name, start = parts
        if window_name != TOTAL and window_name not in self._by_name:
            return  # a window no longer configured: only the janitor reads it
        pair = (brand, platform)
        self._writes += 1
        self._written_at[pair] = self._writes
        self._sums.get(pair, {}).pop(window_name, None)
        if present:
            self._remember(parts)
            return
        by_window = self._keys.get(pair, {})
        by_window.get(window_name, {}).pop(start, None)
        if not by_window.get(window_name, True):
            del by_window[window_name]
        if not by_window:
            self._keys.pop(pair, None)
            self._sums.pop(pair, None)
            self._written_at.pop(pair, None)  # written again, it gets a higher count

    def _remember(self, parts: Parts) -> None:
        brand, platform, window_name, start = parts
        self._keys.setdefault((brand, platform), {}).setdefault(window_name, {})[start] = parts

    def expire(self, now: float, owned: set[int]) -> list[Parts]:
        """Buckets no window will read again (forgotten here: the janitor deletes them)."""
        self.settle()

        def is_expired(parts: Parts, _value: Any) -> bool:
            _brand, _platform, window_name, start = parts
            window = self._by_name.get(window_name)
            return window_name != TOTAL and (window is None or window.is_expired(start, now))

        expired = expired_entries(self.section, owned, is_expired)
        for parts in expired:
            self._index(parts, present=False)
        return expired


def _per_bucket(cells: Iterable[tuple[Cell, float]], window: Window) -> dict[Cell, float]:
    """Cells summed per (platform, bucket start of ``window``, counter).

    A bucket start is computed once per cell start: cells share a few.
    """
    summed: dict[Cell, float] = {}
    starts: dict[float, int] = {}
    for (platform, ts, counter), amount in cells:
        start = starts.get(ts)
        if start is None:
            start = starts[ts] = window.bucket_of(ts)
        cell = (platform, start, counter)
        summed[cell] = summed.get(cell, 0) + amount
    return summed
