"""A kind of state inside a KPI family's Faust table, written behind, guarded by offsets."""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any, Protocol

import orjson
from faust.stores.memory import Store as MemoryStore
from faust.types import TableT

from smm_pulse.kpi.catalog import View

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
    every offset commit (smm_pulse/runtime/transport.py). A key written by a thousand
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


PairView = dict[str, View]  # window name or TOTAL -> View
Views = Mapping[tuple[str, str], PairView]  # (brand, platform) -> its views


class PairViews(Mapping[tuple[str, str], PairView]):
    """Views per (brand, platform), each pair's computed when first read.

    A whole scrape reads thousands of pairs' views a pair at a time, letting
    the event loop run between them (smm_pulse/web/render.py): computed all at
    once, one family's views held the loop for up to a second with 1,000
    brands on 6 platforms. A pair read later sees the state as of its reading.
    A family that can tell cheaply that a pair's views have not changed gives
    ``stamp``: a scrape then skips computing them.
    """

    def __init__(self, pairs: Iterable[tuple[str, str]],
                 compute: Callable[[tuple[str, str]], PairView],
                 stamp: Callable[[tuple[str, str]], object] | None = None) -> None:
        self._computed: dict[tuple[str, str], PairView | None] = dict.fromkeys(pairs)
        self._compute = compute
        self._stamp = stamp

    def stamp(self, pair: tuple[str, str]) -> object:
        """A value equal to the pair's stamp at an earlier reading only if its views are
        the same as then (None: unknown without computing them)."""
        return None if self._stamp is None else self._stamp(pair)

    def __getitem__(self, pair: tuple[str, str]) -> PairView:
        found = self._computed[pair]  # KeyError for a pair not held
        if found is None:
            found = self._computed[pair] = self._compute(pair)
        return found

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._computed)

    def __len__(self) -> int:
        return len(self._computed)

    def __contains__(self, pair: object) -> bool:
        return pair in self._computed


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
