"""The loop every KPI-family agent shares: decode a message, drop duplicates, count.

A message holds events of any brands of one partition (the ingest stage packs
them); the loop hands each brand's fresh events to the family as a ``Batch``.
A family module supplies only what its events do to its state (``BatchHandler``),
and optionally what to do once the whole message is handled.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from agents.app import Pipeline
from smm_pulse.kpi.catalog import Family


@dataclass(slots=True)
class Batch:
    """The fresh (not duplicate) events of one brand from one internal message (at ``offset``)."""
    # Not frozen: one per brand and message, and a frozen dataclass costs ~4x to build.

    offset: int
    brand: str
    events: list[dict[str, Any]]
    now: float


BatchHandler = Callable[[Batch], None]


def register_family_agent(
    pipeline: Pipeline,
    family: Family,
    handle: BatchHandler,
    *,
    count_events: bool = True,
    after_message: Callable[[], None] | None = None,
) -> None:
    """``count_events``: False for families fed by other agents, not by collectors."""
    seen = pipeline.seen_ids(family)
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
            for brand, events in by_brand(fresh).items():
                handle(Batch(message.offset, brand, events, now))
            if after_message is not None:
                after_message()


def by_brand(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Records grouped by brand, each group in arrival order."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        groups[record["brand"]].append(record)
    return groups


def _count(metric: Any, topic: str, records: list[dict[str, Any]], *labels: str) -> None:
    """One increment per (topic, type) of a batch, not one per event."""
    for event_type, n in Counter(r["type"] for r in records).items():
        metric.labels(topic, event_type, *labels).inc(n)
