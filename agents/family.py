"""The loop every KPI-family agent shares: decode a brand's batch, drop duplicates, count.

A family module supplies only what its events do to its state (``BatchHandler``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from agents.app import DEDUP_EXTRA_SECONDS, Pipeline
from agents.state import SeenEventIds
from smm_pulse.kpi.catalog import Family


@dataclass(frozen=True, slots=True)
class Batch:
    """The fresh (not duplicate) events of one brand from one internal message."""

    offset: int
    brand: str
    events: list[dict[str, Any]]
    now: float


BatchHandler = Callable[[Batch], None]


def register_family_agent(
    pipeline: Pipeline, family: Family, handle: BatchHandler, *, count_events: bool = True
) -> None:
    """``count_events``: False for families fed by other agents, not by collectors."""
    seen_table = pipeline.table(
        f"{family.value}-seen",
        on_changelog_event=lambda event: _restore(seen, event),
    )
    seen = SeenEventIds(seen_table, pipeline.horizon_seconds + DEDUP_EXTRA_SECONDS)
    pipeline.expiring.append((family, seen))
    events_total, late_events_total = pipeline.events_total, pipeline.late_events_total

    @pipeline.app.agent(pipeline.family_topics[family], name=family.value)
    async def family_agent(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            body = orjson.loads(event.value)
            fresh, duplicates = seen.split(body["events"], message.partition, message.offset)
            for records, outcome in ((fresh, "accepted"), (duplicates, "duplicate")):
                for event_type, n in Counter(r["type"] for r in records).items():
                    if count_events:
                        events_total.labels(body["topic"], event_type, outcome).inc(n)
            now = time.time()
            horizon = now - pipeline.horizon_seconds
            late = [r for r in fresh if r["ts"] < horizon]
            if late:
                fresh = [r for r in fresh if r["ts"] >= horizon]
                if count_events:
                    for event_type, n in Counter(r["type"] for r in late).items():
                        late_events_total.labels(body["topic"], event_type).inc(n)
            if fresh:
                handle(Batch(message.offset, event.key.decode(), fresh, now))


async def _restore(seen: SeenEventIds, event: Any) -> None:
    seen.on_changelog_value(event.key, event.value)
