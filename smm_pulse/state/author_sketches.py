"""Top authors of a brand's mentions: a Space-Saving sketch per (platform, window, bucket)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from smm_pulse.state import space_saving
from smm_pulse.state.bucket_entries import BucketEntries
from smm_pulse.state.section import Parts, Section
from smm_pulse.windows import Window

# Authors each bucket's sketch keeps: a window's ranking is within 1/64 of the reach of
# its mentions (space_saving's bound); a sketch is about 3 KiB in the changelog.
AUTHORS_PER_BUCKET = 64

# grain start -> (platform, author) -> [reach, mentions, sentiment sum] of one batch
AuthorSums = Mapping[int, Mapping[tuple[str, str], Sequence[float]]]


class AuthorSketches:
    """A sketch per platform in each bucket (brand, window name, bucket start) of
    ``BucketEntries`` (offset guards: replays are exact; the janitor deletes expired
    buckets)."""

    def __init__(self, section: Section, windows: Iterable[Window],
                 capacity: int = AUTHORS_PER_BUCKET) -> None:
        self.buckets = BucketEntries(section, windows, "a")  # bucket -> platform -> sketch
        self.section = section  # the janitor deletes what ``expire`` returns from it
        self.capacity = capacity

    def apply(self, offset: int, brand: str, sums: AuthorSums, now: float) -> None:
        """Count one batch's authors (summed per grain, platform and author) into every
        window's buckets (``space_saving.add_all``)."""
        for _window, _start, sketches, grains in self.buckets.changes(offset, brand, sums, now):
            space_saving.add_all(sketches, grains, self.capacity)

    def top(self, brand: str, platform: str | None, window_name: str, limit: int,
            now: float) -> list[dict[str, Any]]:
        """The authors of most reach in the window, on one platform or all."""
        window = self.buckets.by_name[window_name]
        sketches = [sketch for platforms in self.buckets.covered(brand, window, now)
                    for on, sketch in platforms.items() if platform is None or on == platform]
        return [a.as_json() for a in space_saving.merge(sketches, self.capacity)[:limit]]

    def on_restored(self, key: str, value: Any) -> None:
        self.buckets.on_restored(key, value)

    def expire(self, now: float, owned: set[int]) -> list[Parts]:
        """Buckets no window reads any more (the janitor deletes them)."""
        return self.buckets.expire(now, owned)
