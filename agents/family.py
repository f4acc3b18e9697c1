"""The loop every KPI-family agent shares: decode a message, drop duplicates, count.

A message holds the events of the brands of one partition, per brand a block of
columns per kind of event (streams/internal.py); the loop hands each brand's
fresh events to the family as a ``Batch``. A family module supplies only what
its events do to its state (``BatchHandler``), optionally an async step that
runs before the handler (``Prepare``: work such as sentiment scoring, done off
the event loop while other agents go on; this agent's messages stay in order),
and optionally what to do once the whole message is handled.

No message can stop the agent: a failure while handling one is caught at that
message's boundary (``MessageGuard``). Its events go to the dead-letter topic
with reason ``internal_error`` and the error's text, the failure is counted in
``smm_internal_errors_total``, and the agent goes on with the next message, so
a restart never meets the same failure again (the message's offset is
committed). What the handler changed before it failed stays.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

from smm_pulse.kpi.catalog import Family
from smm_pulse.runtime.pipeline import Pipeline
from smm_pulse.streams.dead_letters import DeadLetter, Source, dead_letter
from smm_pulse.streams.events import Rejection
from smm_pulse.streams.internal import Block, Packed, decode

log = logging.getLogger(__name__)

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
# Given a message's value before its handling; awaited, so the next message waits for it.
Prepare = Callable[[bytes], Awaitable[None]]


def register_family_agent(
    pipeline: Pipeline,
    family: Family,
    handle: BatchHandler,
    *,
    count_events: bool = True,
    after_message: Callable[[], None] | None = None,
    prepare: Prepare | None = None,
) -> None:
    """``count_events``: False for families fed by other agents, not by collectors."""
    seen = pipeline.seen_ids(family)
    events_total, late_events_total = pipeline.events_total, pipeline.late_events_total
    topic = pipeline.family_topics[family]
    guard = MessageGuard(family, topic.get_topic_name(), pipeline.send_dead_letter,
                         pipeline.internal_errors_total, pipeline.dead_letters_total)

    def process(value: bytes, partition: int, offset: int) -> None:
        packed = decode(value)
        fresh, duplicates = seen.split(partition, offset, packed.blocks)
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
                handle(Batch(offset, brand, {type(b): b for b in current}, now))
        if after_message is not None:
            after_message()

    @pipeline.app.agent(topic, name=family.value)
    async def family_agent(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            if prepare is not None and not await guard.run_async(
                    prepare, event.value, message.partition, message.offset):
                continue  # the message's events went to the dead-letter topic
            guard.run(process, event.value, message.partition, message.offset)


class MessageGuard:
    """Runs a family's handling of one internal message; a failure ends at its boundary."""

    def __init__(self, family: Family, topic: str, send: Callable[[DeadLetter], None],
                 internal_errors: Any, dead_letters: Any) -> None:
        self.family = family
        self.topic = topic
        self.send = send
        self.internal_errors = internal_errors.labels(family.value)
        self.dead_letters = dead_letters

    def run(self, process: Callable[[bytes, int, int], None], value: bytes, partition: int,
            offset: int) -> None:
        try:
            process(value, partition, offset)
        except Exception as exc:
            self._failed(exc, value, partition, offset)

    async def run_async(self, step: Prepare, value: bytes, partition: int, offset: int) -> bool:
        """Whether ``step`` succeeded; a failure is handled as one in ``run``."""
        try:
            await step(value)
        except Exception as exc:
            self._failed(exc, value, partition, offset)
            return False
        return True

    def _failed(self, exc: Exception, value: bytes, partition: int, offset: int) -> None:
        """Called inside the ``except`` block: the log has the traceback."""
        log.exception("%s agent: the message at %s[%d]@%d failed; its events go to the "
                      "dead-letter topic", self.family.value, self.topic, partition, offset)
        self.internal_errors.inc()
        rejection = Rejection("internal_error", f"{type(exc).__name__}: {exc}", "unknown")
        body, input_topic, events = _as_events(value)
        self.dead_letters.labels(input_topic or self.topic, "internal_error").inc(events)
        self.send(dead_letter(rejection, body, None, Source(self.topic, partition, offset)))


def _as_events(value: bytes) -> tuple[bytes, str | None, int]:
    """(the message's events as a JSON array, their input topic, how many) where it decodes;
    else (its bytes, None, 1)."""
    try:
        packed: Packed = decode(value)
        events = [{"type": block.__struct_config__.tag, "brand": brand,
                   **dict(zip(block.__struct_fields__, row, strict=True))}
                  for brand, blocks in packed.blocks.items() for block in blocks
                  for row in block.rows()]
        return orjson.dumps(events), packed.topic, len(events)
    except Exception:  # what cannot be read is kept as it came
        return value, None, 1


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
