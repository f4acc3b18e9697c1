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
    seen = SeenEventIds(pipeline.section(family, "seen"),
                        pipeline.horizon_seconds + DEDUP_EXTRA_SECONDS)
    pipeline.on_restore(family, seen.on_changelog_value)
    pipeline.expiring.append((family, seen))
    events_total, late_events_total = pipeline.events_total, pipeline.late_events_total

    @pipeline.app.agent(pipeline.family_topics[family], name=family.value)
    async def family_agent(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            body = orjson.loads(event.value)
            fresh, duplicates = seen.split(body["events"], message.partition, message.offset)
            if count_events:
                _count(events_total, body["topic"], fresh, "accepted")
                _count(events_total, body["topic"], duplicates, "duplicate")
            now = time.time()
            horizon = now - pipeline.horizon_seconds
            late = [r for r in fresh if r["ts"] < horizon]
            if late:
                fresh = [r for r in fresh if r["ts"] >= horizon]
                if count_events:
                    _count(late_events_total, body["topic"], late)
            if fresh:
                handle(Batch(message.offset, event.key.decode(), fresh, now))


def _count(metric: Any, topic: str, records: list[dict[str, Any]], *labels: str) -> None:
    """One increment per (topic, type) of a batch, not one per event."""
    for event_type, n in Counter(r["type"] for r in records).items():
        metric.labels(topic, event_type, *labels).inc(n)
