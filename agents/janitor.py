"""Janitor: deletes state no window will read again, also state restored from changelogs.

Faust never expires windows restored from a changelog (engine notes), so expiry
is ours: every ``INTERVAL_SECONDS`` the janitor deletes expired buckets and
remembered event ids of the partitions this worker owns, writing tombstones to
the changelog so that a restarted worker does not restore them either.
"""

from __future__ import annotations

import time

from faust.types import TableT

from agents.app import Pipeline
from agents.state import key_parts

INTERVAL_SECONDS = 30.0


def delete(table: TableT, partition: int, key: str) -> None:
    """Delete a key outside stream iteration: the partition is known from the key's brand."""
    table.data.pop(key, None)
    table.send_changelog(partition, key, None, value_serializer="raw")


def prune(pipeline: Pipeline, now: float) -> int:
    """Delete expired state of owned partitions; returns how many keys went."""
    deleted = 0
    for family, buckets in pipeline.buckets.items():
        owned = pipeline.owned_partitions(family)
        for brand, key in list(buckets.expired_keys(now)):
            partition = pipeline.partition_of(brand)
            if partition in owned:
                delete(buckets.table, partition, key)
                deleted += 1
    for family, seen in pipeline.seen.items():
        owned = pipeline.owned_partitions(family)
        for key in list(seen.expired_keys(now)):
            partition = key_parts(key)[0]
            if partition in owned:
                seen.forget(key)
                delete(seen.table, partition, key)
                deleted += 1
    return deleted


def register(pipeline: Pipeline) -> None:
    @pipeline.app.timer(INTERVAL_SECONDS, name="janitor")
    async def janitor() -> None:
        prune(pipeline, time.time())
