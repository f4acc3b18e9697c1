"""Duplicate detection: the event ids a family accepted, by brand, kept for the retention."""
from __future__ import annotations

import time
from collections.abc import Mapping
from itertools import chain
from typing import Any

from smm_pulse.state.section import Parts, Section, expired_entries, restored_parts
from smm_pulse.streams.internal import Block


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
