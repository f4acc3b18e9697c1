"""Table-backed state shared by the KPI agents.

Design (see docs/design.md):
- all state of a KPI family lives in one Faust table (``Section`` names the
  kind of state inside it), and a brand's batches all arrive on one partition
  of the family's topic, so every write about a brand goes, in order, to one
  changelog partition, and a flush writes counters before the post snapshots
  they were computed from (``Pipeline.flush_state``);
- a value records the offset of the batch that last wrote it ("o"): replaying a
  batch after a crash (at-least-once) skips the keys it already wrote, so state
  stays exact whichever of a flush's changelog writes made it before the crash;
- writes are behind: at most one changelog record per key between two offset
  commits (``Section.flush``).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from itertools import chain
from typing import Any, Protocol

import orjson
from faust.stores.memory import Store as MemoryStore
from faust.types import TableT

from smm_pulse.contributions import Cell, FollowerTotals
from smm_pulse.kpi.catalog import View
from smm_pulse.windows import Counters, Window, WindowSum, add_into, sum_counters
from streams.internal import Block

Parts = tuple[Any, ...]  # what names an entry of a section: its key's parts after the name
TOTAL = "total"  # pseudo-window of counters since the beginning; never expires


def table_key(*parts: Any) -> str:
    """Table keys are JSON arrays as text: hashable, and the same after changelog recovery."""
    return orjson.dumps(parts).decode()


def key_parts(key: str) -> list[Any]:
    return orjson.loads(key)


def restored_parts(key: str) -> Parts:
    """A restored table key's parts after the section name."""
    return tuple(key_parts(key)[1:])


class Section:
    """One kind of state (buckets, posts, seen ids, ...) inside a family's table.

    Why not a table each: Kafka orders writes within one changelog partition
    only, and the offset guards need what survives a crash to be consistent
    across kinds of state (see ``flush``). Sharing the family's table, one
    changelog partition holds all of a brand's writes in order.

    Entries are named by tuples of parts (a post by brand, platform, account
    and post id); the table's key is a JSON array of the section's name and
    the parts, built once per entry: the agents look entries up by parts, and
    building the JSON key each time cost more than the lookup.

    Writes are behind: a value changes in memory at once (views read it) and
    reaches the changelog at the next ``flush``, which the worker runs before
    every offset commit (agents/transport.py). A key written by a thousand
    batches between two commits costs one changelog record.

    Call ``on_restored`` for every record the table restores from its changelog.
    """

    def __init__(
        self,
        table: TableT,
        name: str,
        partition_of: Callable[[Parts], int],
        *,
        baseline: bool = False,
    ) -> None:
        self.table = table
        self.name = name
        self.partition_of = partition_of  # changelog partition from the key parts
        # Baseline state (posts) is what later contributions are computed from:
        # flushed after the counters it fed (see ``flush``).
        self.baseline = baseline
        self._prefix = table_key(name)[:-1] + ","  # keys are JSON arrays starting with the name
        self._keys: dict[Parts, str] = {}  # parts -> table key, of every entry held here
        self._dirty: dict[str, int] = {}  # key -> changelog partition, awaiting the next flush
        self._held: dict[str, int] = {}  # the same, of partitions revoked (``hold_changes``)

    @functools.cached_property
    def _data(self) -> MutableMapping[str, Any]:
        """The table's values: with the app's memory store, the store's own dict.

        Every state write and read goes through here, and the store's Mapping
        methods are Python calls wrapping that dict (several times its cost).
        """
        store = self.table.data
        return store.data if isinstance(store, MemoryStore) else store

    def on_restored(self, key: str, value: Any) -> None:
        if self.owns(key):
            parts = restored_parts(key)
            if value is None:
                self._keys.pop(parts, None)
            else:
                self._keys[parts] = key

    def owns(self, key: str) -> bool:
        return key.startswith(self._prefix)

    def get(self, parts: Parts) -> Any:
        key = self._keys.get(parts)
        return None if key is None else self._data.get(key)

    def changing(self, parts: Parts, new: Callable[[], Any]) -> Any:
        """The value at ``parts`` (``new()`` stored first if none), to change in place:
        it is written with the next flush."""
        value = self.get(parts)
        if value is None:
            self[parts] = value = new()
        else:
            self.changed(parts)
        return value

    def changed(self, parts: Parts) -> None:
        """A value held here was changed in place: it is written with the next flush."""
        key = self._keys[parts]
        if key not in self._dirty:  # a key written again before the flush keeps its partition
            self._dirty[key] = self.partition_of(parts)

    def __setitem__(self, parts: Parts, value: Any) -> None:
        key = self._keys.get(parts)
        if key is None:
            key = self._keys[parts] = table_key(self.name, *parts)
        self._data[key] = value
        if key not in self._dirty:
            self._dirty[key] = self.partition_of(parts)

    def __delitem__(self, parts: Parts) -> None:
        key = self._keys.pop(parts, None) or table_key(self.name, *parts)
        self._data.pop(key, None)
        self._dirty[key] = self.partition_of(parts)

    def __contains__(self, parts: Parts) -> bool:
        key = self._keys.get(parts)
        return key is not None and key in self._data

    def items(self) -> Iterator[tuple[Parts, Any]]:
        """(parts, value) of every entry held here.

        A generator: the janitor walks every entry, and a list of them all cost
        it more than its checks (and the garbage collector saw them all).
        Do not change the section while iterating.
        """
        data = self._data
        for parts, key in self._keys.items():
            value = data.get(key)
            if value is not None:
                yield parts, value

    def __len__(self) -> int:
        return len(self._keys)

    def flush(self, owned: set[int]) -> set[int]:
        """Write changed keys of ``owned`` partitions to the changelog; returns the partitions.

        Changes on partitions not owned are held, as at a revocation
        (``hold_changes``): writing them would interleave with their owner's
        writes, and dropping them loses them if the partition comes back.
        """
        written = set()
        for key, partition in self._dirty.items():
            if partition in owned:
                self.table.send_changelog(partition, key, self._data.get(key))
                written.add(partition)
            else:
                self._held[key] = partition
        self._dirty.clear()
        return written

    def hold_changes(self, revoked: set[int]) -> None:
        """Set aside unflushed changes of revoked partitions until they are assigned back.

        Not written meanwhile: another worker may own the partition (it
        replays the changes from the committed offset). Not forgotten either:
        memory keeps the changed values, so when the partition comes back here
        a replay finds its batches already applied (offset guards) and changes
        nothing; the changes must still reach the changelog before the next
        commit passes their offsets (they were dropped before, and lost).
        """
        for key, partition in list(self._dirty.items()):
            if partition in revoked:
                self._held[key] = self._dirty.pop(key)

    def resume_changes(self, assigned: set[int]) -> None:
        """Held changes of ``assigned`` partitions are written by the next flush.

        It writes each key's value in memory then: where another owner wrote
        the key meanwhile, recovery has put its value there.
        """
        for key, partition in list(self._held.items()):
            if partition in assigned:
                self._dirty.setdefault(key, self._held.pop(key))


class Expiring(Protocol):
    """State the janitor expires: it forgets the keys ``expire`` returns from ``section``."""

    section: Section

    def expire(self, now: float, owned: set[int]) -> list[Parts]:
        """Entries of expired state in ``owned`` partitions, forgotten by the owner."""
        ...


Views = dict[tuple[str, str], dict[str, View]]  # (brand, platform) -> window name or TOTAL -> View


def expired_entries(
    section: Section, owned: set[int], is_expired: Callable[[Parts, Any], bool]
) -> list[Parts]:
    """A section's entries in ``owned`` partitions that ``is_expired``.

    Expiry is checked first: it is false for most entries, and cheaper than
    finding an entry's partition.
    """
    return [parts for parts, value in section.items()
            if is_expired(parts, value) and section.partition_of(parts) in owned]


def is_replayed(stored: Mapping[str, Any] | None, offset: int) -> bool:
    """True when the batch at ``offset`` (or a later one) already wrote this value."""
    return stored is not None and stored["o"] >= offset


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
    cost more than its events did (docs/benchmarks.md). Whatever reads the
    buckets settles them first: views, the janitor, the flush before each
    offset commit and a revocation of partitions.
    """

    def __init__(self, section: Section, windows: Iterable[Window]) -> None:
        self.section = section
        self.windows = tuple(windows)
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
        but no counters are included.
        """
        self.settle()
        audiences = audiences or {}
        result: Views = {}
        for pair in {*self._keys, *audiences}:
            keys = self._keys.get(pair, {})
            sums = self._sums.setdefault(pair, {})
            audience = audiences.get(pair)
            followers = audience.latest if audience else None
            windowed: dict[str, View] = {}
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
            result[pair] = {TOTAL: View(total, followers, 0, newest_event=newest)} | windowed
        return result

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


class SeenEventIds:
    """Duplicate detection by (brand, event_id), written once per internal message.

    A message's accepted ids are one value keyed by the message's (partition,
    offset), grouped by brand. An id first accepted by this very message is
    not a duplicate on replay: the offset guards of the other sections decide.
    """

    def __init__(self, section: Section, retention_seconds: float) -> None:
        self.section = section
        self.retention_seconds = retention_seconds
        # brand -> event id -> (partition, offset) of the message that first accepted it
        self._first_seen: dict[str, dict[str, Parts]] = {}

    def on_changelog_value(self, key: str, value: Mapping[str, Any] | None) -> None:
        """Keep the index in step with values restored from the family's changelog."""
        if value is not None and self.section.owns(key):
            batch = restored_parts(key)
            for brand, ids in value["ids"].items():
                first_seen = self._first_seen.setdefault(brand, {})
                for event_id in ids:
                    first_seen.setdefault(event_id, batch)

    def split(self, partition: int, offset: int, by_brand: Mapping[str, list[Block]]
              ) -> tuple[dict[str, list[Block]], dict[str, list[Block]]]:
        """(fresh, duplicates) per brand among a message's events; remembers the fresh ones.

        A brand's ids are first checked all at once, in C: new, and each once
        (the usual case). Only otherwise is each looked at, block by block.
        """
        batch_key = (partition, offset)
        fresh: dict[str, list[Block]] = {}
        duplicates: dict[str, list[Block]] = {}
        fresh_ids: dict[str, dict[str, Parts]] = {}
        for brand, blocks in by_brand.items():
            first_seen = self._first_seen.setdefault(brand, {})
            ids = dict.fromkeys(chain.from_iterable(b.event_id for b in blocks), batch_key)
            if len(ids) == sum(map(len, blocks)) and first_seen.keys().isdisjoint(ids):
                fresh[brand], fresh_ids[brand] = blocks, ids
                continue
            ids.clear()
            for block in blocks:
                keep = []
                for event_id in block.event_id:
                    is_fresh = (event_id not in ids
                                and first_seen.get(event_id, batch_key) == batch_key)
                    if is_fresh:
                        ids[event_id] = batch_key
                    keep.append(is_fresh)
                for found, part in zip((fresh, duplicates), block.split(keep), strict=True):
                    if part is not None:
                        found.setdefault(brand, []).append(part)
            if ids:
                fresh_ids[brand] = ids
        if fresh and batch_key not in self.section:
            # Ids as tuples: the garbage collector stops tracking a tuple of strings, so
            # its middle collections no longer walk every id of every recent message.
            self.section[batch_key] = {
                "o": offset, "t": max(max(b.ts) for blocks in fresh.values() for b in blocks),
                "w": time.time(), "ids": {brand: tuple(ids) for brand, ids in fresh_ids.items()}}
            # Every id here is new, or was first seen by this very message (a replay).
            for brand, ids in fresh_ids.items():
                self._first_seen[brand].update(ids)
        return fresh, duplicates

    def expire(self, now: float, owned: set[int]) -> list[Parts]:
        """Messages whose ids are past retention by event time and by arrival time."""
        horizon = now - self.retention_seconds
        expired = expired_entries(self.section, owned,
                                  lambda _parts, value: max(value["t"], value["w"]) < horizon)
        for batch in expired:
            for brand, ids in self.section.get(batch)["ids"].items():
                first_seen = self._first_seen.get(brand, {})
                for event_id in ids:
                    if first_seen.get(event_id) == batch:
                        del first_seen[event_id]
        return expired
