"""One value per (brand, window, bucket start), for state ranked when read.

Top posts and top authors keep, per window bucket of a brand, one value that
batches change as a whole (every post's gains, the platforms' author
sketches): one section entry and one changelog record per bucket, not per post
or author, and one lookup and offset check per bucket a batch touches.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar

from smm_pulse.state.section import Parts, Section, expired_entries, is_replayed, restored_parts
from smm_pulse.windows import Window

V = TypeVar("V")


class BucketEntries:
    """Values keyed (brand, window name, bucket start): {"o": offset, field: {...}}.

    A value records the offset of the last batch that changed it ("o"): a
    replayed batch skips the buckets it already changed and changes the others
    as it did the first time (a bucket's value depends only on itself and the
    batch), so replays are exact. The janitor deletes expired buckets.
    """

    def __init__(self, section: Section, windows: Iterable[Window], field: str) -> None:
        self.section = section
        self.windows = tuple(windows)
        self.field = field
        self.by_name = {w.name: w for w in self.windows}
        # (brand, window name) -> bucket start -> parts, of the buckets held
        self._index: dict[tuple[str, str], dict[int, Parts]] = {}
        self.forgotten = 0  # buckets forgotten so far (expired, or deleted by a restore)

    def changes(self, offset: int, brand: str, by_grain: Mapping[int, V], now: float
                ) -> Iterator[tuple[Window, int, dict[Any, Any], list[V]]]:
        """Where one batch's values per grain start go: for each window and bucket they
        fall in, (window, bucket start, the bucket's value to change in place, the batch's
        values of the grains in it). Buckets that already counted the batch (a replay)
        and expired ones are left out."""
        for window in self.windows:
            cutoff = window.expiry_cutoff(now)
            size = window.bucket_seconds
            per_bucket: dict[int, list[V]] = {}
            for grain, value in by_grain.items():
                start = grain // size * size
                if start > cutoff:
                    per_bucket.setdefault(start, []).append(value)
            for start, values in per_bucket.items():
                held = self._changing(offset, brand, window.name, start)
                if held is not None:
                    yield window, start, held, values

    def _changing(self, offset: int, brand: str, window_name: str, start: int
                  ) -> dict[Any, Any] | None:
        """The bucket's value, to change in place for the batch at ``offset`` (written
        with the next flush); None if the bucket already counted that batch (a replay)."""
        parts = (brand, window_name, start)
        stored = self.section.get(parts)
        if stored is None:
            stored = {"o": offset, self.field: {}}
            self.section[parts] = stored
            self._index.setdefault((brand, window_name), {})[start] = parts
        elif is_replayed(stored, offset):
            return None
        else:
            stored["o"] = offset
            self.section.changed(parts)
        return stored[self.field]

    def held(self, brand: str, window: Window) -> Iterator[tuple[int, dict[Any, Any]]]:
        """(bucket start, value) of every bucket of the window held."""
        for start, parts in self._index.get((brand, window.name), {}).items():
            stored = self.section.get(parts)
            if stored is not None:
                yield start, stored[self.field]

    def covered(self, brand: str, window: Window, now: float) -> Iterator[dict[Any, Any]]:
        """The values of the buckets inside the window at ``now``."""
        return (value for start, value in self.held(brand, window) if window.covers(start, now))

    def on_restored(self, key: str, value: Any) -> None:
        if self.section.owns(key):
            parts = restored_parts(key)
            brand, window_name, start = parts
            if value is not None:
                self._index.setdefault((brand, window_name), {})[start] = parts
            else:
                self._forget(parts)

    def expire(self, now: float, owned: set[int]) -> list[Parts]:
        """Buckets no window reads any more (forgotten here: the janitor deletes them)."""
        def is_expired(parts: Parts, _value: Any) -> bool:
            window = self.by_name.get(parts[1])
            return window is None or window.is_expired(parts[2], now)

        expired = expired_entries(self.section, owned, is_expired)
        for parts in expired:
            self._forget(parts)
        return expired

    def _forget(self, parts: Parts) -> None:
        brand, window_name, start = parts
        held = self._index.get((brand, window_name), {})
        if held.pop(start, None) is not None:
            self.forgotten += 1
        if not held:
            self._index.pop((brand, window_name), None)
