"""Top posts of a brand: what each post gained per window bucket, ranked when read.

A post's gains (snapshot differences and interactions naming it) are window
buckets like a brand's (``WindowBuckets``, with its offset guards, settling and
expiry), with the post in place of the platform and no running totals: a post
leaves the state when its last bucket expires. The ranking is computed at read
time over the posts with buckets in the window, so it is exact for them.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson

from smm_pulse.contributions import RANKED_COUNTERS, Cell
from smm_pulse.kpi import formulas
from smm_pulse.state.buckets import WindowBuckets
from smm_pulse.state.section import restored_parts

# Posts with buckets per (brand, platform) at most: a post first seen beyond it is not
# ranked until others expire (counted in ``refused``); the brand's KPIs are unaffected.
MAX_POSTS_PER_PLATFORM = 2_000

class PostActivity:
    """Per-post window buckets of one family, with a bound on the posts per platform."""

    def __init__(self, buckets: WindowBuckets, limit: int = MAX_POSTS_PER_PLATFORM) -> None:
        self.buckets = buckets
        self.limit = limit
        self.refused = 0  # batches' posts not tracked for the limit
        # (brand, platform) -> post keys tracked (some may have expired since: pruned when full)
        self._tracked: dict[tuple[str, str], set[str]] = {}

    def apply(self, offset: int, brand: str, cells: Mapping[Cell, float], now: float) -> None:
        """Add one batch's cells, keyed by ``post_key``, of the posts within the bound."""
        admitted: dict[str, bool] = {}
        kept: dict[Cell, float] = {}
        for cell, amount in cells.items():
            key = cell[0]
            ok = admitted.get(key)
            if ok is None:
                ok = admitted[key] = self._admit(brand, key)
            if ok:
                kept[cell] = amount
        if kept:
            self.buckets.apply(offset, brand, kept, now)

    def _admit(self, brand: str, key: str) -> bool:
        platform = orjson.loads(key)[0]
        tracked = self._tracked.setdefault((brand, platform), set())
        if key in tracked:
            return True
        if len(tracked) >= self.limit:
            self.buckets.settle()
            tracked.intersection_update(
                [k for k in tracked if self.buckets.holds((brand, k))])
            if len(tracked) >= self.limit:
                self.refused += 1
                return False
        tracked.add(key)
        return True

    def on_restored(self, key: str, value: Any) -> None:
        if value is not None and self.buckets.section.owns(key):
            brand, post, *_bucket = restored_parts(key)
            self._tracked.setdefault((brand, orjson.loads(post)[0]), set()).add(post)

    def top(self, brand: str, platform: str | None, window_name: str, limit: int, now: float,
            followers: Callable[[], Mapping[tuple[str, str], int]]) -> list[dict[str, Any]]:
        """Posts by interactions gained in the window (ties by post), with their ER.

        ER is the KPI formula's: the post's interactions over the brand's latest
        followers on the post's platform (``followers``, read only when needed).
        """
        keys: Iterable[str] = (
            self._tracked.get((brand, platform), set()) if platform is not None else
            [k for (b, _p), posts in self._tracked.items() if b == brand for k in posts])
        gained = self.buckets.gained([(brand, k) for k in keys], window_name, now)
        ranked = sorted(
            ((formulas.interactions(counters), key, counters)
             for (_brand, key), counters in gained.items() if any(counters.values())),
            key=lambda row: (-row[0], row[1]))[:limit]
        audience = followers() if ranked else {}
        rows = []
        for interactions, key, counters in ranked:
            on, post_id = orjson.loads(key)
            rows.append({
                "post_id": post_id, "platform": on, "interactions": interactions,
                "engagement_rate": formulas.engagement_rate(counters,
                                                            audience.get((brand, on))),
                **{name: counters.get(name, 0) for name in RANKED_COUNTERS}})
        return rows
