"""The loop every KPI-family agent shares: decode a message, drop duplicates, count.

A message holds the events of the brands of one partition, per brand a block of
columns per kind of event (streams/internal.py); the loop hands each brand's
fresh events to the family as a ``Batch``. A family module supplies only what
its events do to its state (``BatchHandler``), and optionally what to do once
the whole message is handled.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from agents.app import Pipeline
from smm_pulse.kpi.catalog import Family
from streams.internal import Block, decode

B = TypeVar("B", bound=Block)


@dataclass(slots=True)
class Batch:
    """The fresh (not duplicate) events of one brand from one internal message (at ``offset``)."""
    # Not frozen: one per brand and message, and a frozen dataclass costs ~4x to build.

    offset: int
    brand: str
    blocks: dict[type[Block], Block]  # by kind
    now: float

    def get(self, kind: type[B]) -> B | None:
        """The batch's events of one kind, if any."""
        return self.blocks.get(kind)  # type: ignore[return-value]


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
            packed = decode(event.value)
            fresh, duplicates = seen.split(message.partition, message.offset, packed.blocks)
            if count_events:
                _count(events_total, packed.topic, fresh.values(), "accepted")
                _count(events_total, packed.topic, duplicates.values(), "duplicate")
            now = time.time()
            horizon = now - pipeline.horizon_seconds
            for brand, blocks in fresh.items():
                current, late = _split_late(blocks, horizon)
                if late and count_events:
                    _count(late_events_total, packed.topic, [late])
                if current:
                    handle(Batch(message.offset, brand, {type(b): b for b in current}, now))
            if after_message is not None:
                after_message()


def _split_late(blocks: list[Block], horizon: float) -> tuple[list[Block], list[Block]]:
    """(blocks of the events at or after ``horizon``, blocks of the older ones)."""
    if all(min(block.ts) >= horizon for block in blocks):  # the usual case, one pass in C
        return blocks, []
    current: list[Block] = []
    late: list[Block] = []
    for block in blocks:
        for found, part in zip((current, late), block.split([ts >= horizon for ts in block.ts]),
                               strict=True):
            if part is not None:
                found.append(part)
    return current, late


def _count(metric: Any, topic: str, groups: Iterable[list[Block]], *labels: str) -> None:
    """One increment per (topic, type) of a message, not one per event."""
    kinds: Counter[str] = Counter()
    for blocks in groups:
        for block in blocks:
            kinds[block.__struct_config__.tag] += len(block)  # type: ignore[index]
    for kind, n in kinds.items():
        metric.labels(topic, kind, *labels).inc(n)
