"""Top authors of a brand's mentions: a Space-Saving sketch per (platform, window, bucket)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from smm_pulse.state import space_saving
from smm_pulse.state.section import Parts, Section, expired_entries, is_replayed, restored_parts
from smm_pulse.windows import Window

# Authors each bucket's sketch keeps: a window's ranking is within 1/64 of the reach of
# its mentions (space_saving's bound); a sketch is about 3 KiB in the changelog.
AUTHORS_PER_BUCKET = 64

# (platform, grain start, author) -> [reach, mentions, sentiment sum] of one batch
AuthorSums = Mapping[tuple[str, int, str], list[float]]


class AuthorSketches:
    """Sketches keyed (brand, platform, window name, bucket start), like the window buckets.

    A bucket's sketch records the offset of the last batch it counted ("o"): a
    replayed batch skips the sketches it already changed and changes the others
    as it did the first time (a sketch depends only on its own state and the
    batch), so replays are exact. The janitor deletes expired buckets.
    """

    def __init__(self, section: Section, windows: Iterable[Window],
                 capacity: int = AUTHORS_PER_BUCKET) -> None:
        self.section = section
        self.windows = tuple(windows)
        self.capacity = capacity
        self._by_name = {w.name: w for w in self.windows}
        # (brand, window name) -> (platform, bucket start) -> parts, of the buckets held
        self._index: dict[tuple[str, str], dict[tuple[str, float], Parts]] = {}

    def apply(self, offset: int, brand: str, sums: AuthorSums, now: float) -> None:
        """Count one batch's authors (summed per grain) into every window's buckets."""
        for window in self.windows:
            cutoff = window.expiry_cutoff(now)
            per_bucket: dict[tuple[str, int], dict[str, list[float]]] = {}
            for (platform, grain, author), (reach, mentions, sentiment) in sums.items():
                start = window.bucket_of(grain)
                if start <= cutoff:
                    continue
                authors = per_bucket.setdefault((platform, start), {})
                kept = authors.get(author)
                if kept is None:
                    authors[author] = [reach, mentions, sentiment]
                else:
                    kept[0] += reach
                    kept[1] += mentions
                    kept[2] += sentiment
            for (platform, start), authors in per_bucket.items():
                self._count(offset, (brand, platform, window.name, start), authors)

    def _count(self, offset: int, parts: Parts, authors: dict[str, list[float]]) -> None:
        stored = self.section.get(parts)
        if stored is None:
            stored = {"o": offset, "a": {}}
            self.section[parts] = stored
            self._remember(parts)
        elif is_replayed(stored, offset):
            return
        else:
            stored["o"] = offset
            self.section.changed(parts)
        sketch = stored["a"]
        for author, (reach, mentions, sentiment) in authors.items():
            space_saving.add(sketch, author, reach, mentions, sentiment, self.capacity)

    def top(self, brand: str, platform: str | None, window_name: str, limit: int,
            now: float) -> list[dict[str, Any]]:
        """The authors of most reach in the window, on one platform or all."""
        window = self._by_name[window_name]
        held = self._index.get((brand, window_name), {})
        sketches = [stored["a"] for (on, start), parts in held.items()
                    if (platform is None or on == platform) and window.covers(start, now)
                    and (stored := self.section.get(parts)) is not None]
        return [a.as_json() for a in space_saving.merge(sketches, self.capacity)[:limit]]

    def on_restored(self, key: str, value: Any) -> None:
        if self.section.owns(key):
            parts = restored_parts(key)
            if value is None:
                self._forget(parts)
            else:
                self._remember(parts)

    def expire(self, now: float, owned: set[int]) -> list[Parts]:
        """Buckets no window reads any more (forgotten here: the janitor deletes them)."""
        def is_expired(parts: Parts, _value: Any) -> bool:
            window = self._by_name.get(parts[2])
            return window is None or window.is_expired(parts[3], now)

        expired = expired_entries(self.section, owned, is_expired)
        for parts in expired:
            self._forget(parts)
        return expired

    def _remember(self, parts: Parts) -> None:
        brand, platform, window_name, start = parts
        self._index.setdefault((brand, window_name), {})[platform, start] = parts

    def _forget(self, parts: Parts) -> None:
        brand, platform, window_name, start = parts
        held = self._index.get((brand, window_name), {})
        held.pop((platform, start), None)
        if not held:
            self._index.pop((brand, window_name), None)
