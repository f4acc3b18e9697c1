"""Janitor: deletes state no window will read again, also state restored from changelogs.

Faust never expires table windows restored from a changelog (they never enter
its expiry heap), so expiry is ours: every ``janitor_interval_seconds`` (the
configuration) the janitor deletes expired buckets and
remembered event ids of the partitions this worker owns; the deletes reach the
changelog as tombstones with the next flush, so a restarted worker does not
restore them either.
"""

from __future__ import annotations

import time

from smm_pulse.runtime.pipeline import Pipeline


def prune(pipeline: Pipeline, now: float) -> int:
    """Delete expired state of owned partitions; returns how many keys went."""
    deleted = 0
    for family, state in pipeline.expiring:
        for parts in state.expire(now, pipeline.owned_partitions(family)):
            del state.section[parts]
            deleted += 1
    return deleted


def register(pipeline: Pipeline) -> None:
    @pipeline.app.timer(pipeline.config.janitor_interval_seconds, name="janitor")
    async def janitor() -> None:
        prune(pipeline, time.time())
