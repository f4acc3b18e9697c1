"""Cumulative snapshots (posts, ads): the last accepted one per item, and what each new one adds.

A collector polls an API for an item's totals; ``apply_snapshot`` turns each
snapshot into differences at its ``ts``. This keeps the state it folds into,
per item keyed by (brand, platform, account, item id), with the offset guard
that makes a replayed batch exact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from smm_pulse.agents.family import Batch
from smm_pulse.contributions import PostState, apply_snapshot
from smm_pulse.state import Parts, Section, expired_entries, is_replayed

# Called with (platform, time the changes count at, changes per counter).
AddChanges = Callable[[str, float, Sequence[float]], None]
# (platform, item, time the changes count at, changes per counter) of each snapshot; the
# item is the item's id or what ``fold``'s ``item_of`` gives in its place.
ItemChanges = tuple[str, Any, float, Sequence[float]]


class Snapshots:
    """The last accepted snapshot per item, kept with the state it replaced.

    The replaced state ("prev") lets a replayed batch recompute exactly the
    contributions it made the first time.
    """

    def __init__(self, section: Section, retention_seconds: float) -> None:
        self.section = section
        self.retention_seconds = retention_seconds

    def fold(self, batch: Batch, platforms: Iterable[str], accounts: Iterable[str],
             items: Sequence[str], times: Iterable[float],
             published: Iterable[float | None], counters: Iterable[Sequence[float | None]],
             horizon: float, add: AddChanges, per_item: list[ItemChanges] | None = None,
             item_of: Iterable[Any] | None = None) -> None:
        """Hand what the batch's snapshots contribute to ``add`` (and append it, with the
        item, to ``per_item`` if given: top posts, ads' campaigns); writes each item once.

        The columns hold one value per snapshot, in the batch's order. ``per_item`` gets
        each snapshot's contribution with its item id or, given ``item_of`` (a column),
        that snapshot's value of it (an ad's campaign).
        """
        states: dict[Parts, PostState | None] = {}
        before: dict[Parts, PostState | None] = {}  # as stored: it becomes "prev" unchanged
        for platform, account, item, ts, published_at, values, named in zip(
                platforms, accounts, items, times, published, counters,
                items if item_of is None else item_of, strict=True):
            key = (batch.brand, platform, account, item)
            if key not in states:
                states[key] = before[key] = self._kept(key, batch.offset)
            states[key], at, changes = apply_snapshot(states[key], ts, published_at, values,
                                                      horizon)
            if at is not None:
                add(platform, at, changes)
                if per_item is not None:
                    per_item.append((platform, named, at, changes))
        for key, state in states.items():
            self.section[key] = {"o": batch.offset, "s": state, "prev": before[key]}

    def _kept(self, key: Parts, offset: int) -> PostState | None:
        """The item's state before this batch, as stored (a replay finds it in "prev")."""
        stored = self.section.get(key)
        if stored is None:
            return None
        return stored["prev"] if is_replayed(stored, offset) else stored["s"]

    def expire(self, now: float, owned: set[int]) -> list[Parts]:
        """Items with no snapshot for the retention period."""
        horizon = now - self.retention_seconds
        return expired_entries(self.section, owned,
                               lambda _parts, value: value["s"][0] < horizon)
