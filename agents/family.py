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
from smm_pulse.streams.dead_letters import VALUE_LIMIT, DeadLetter, Source, dead_letter
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
                         pipeline.internal_errors_total, pipeline.dead_letters_total,
                         events_total if count_events else None)

    def process(value: bytes, partition: int, offset: int) -> None:
        packed = decode(value)
        fresh, duplicates = seen.split(partition, offset, packed.blocks)
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
        if count_events:  # once handled: a failed message counts as rejected instead
            _count(events_total, packed.topic, fresh.values(), "accepted")
            _count(events_total, packed.topic, duplicates.values(), "duplicate")

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
                 internal_errors: Any, dead_letters: Any, events: Any | None = None) -> None:
        """``events``: where a failed message's events count as rejected (None for families
        fed by other agents, whose events are not read from collectors)."""
        self.family = family
        self.topic = topic
        self.send = send
        self.internal_errors = internal_errors.labels(family.value)
        self.dead_letters = dead_letters
        self.events = events

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
        bodies, input_topic, kinds = _as_events(value)
        topic = input_topic or self.topic
        self.dead_letters.labels(topic, "internal_error").inc(sum(kinds.values()))
        if self.events is not None:
            for kind, n in kinds.items():
                self.events.labels(topic, kind, "rejected").inc(n)
        for body in bodies:
            self.send(dead_letter(rejection, body, None, Source(self.topic, partition, offset)))


def _as_events(value: bytes) -> tuple[list[bytes], str | None, Counter[str]]:
    """(the message's events as JSON arrays of at most ``VALUE_LIMIT`` bytes, their input
    topic, how many of each type) where it decodes; else (its bytes, None, one unknown).

    The events hold the fields the service read (the KPIs' columns), for diagnosis; their
    ids are remembered as seen, so within the retention they are duplicates if fed again.
    """
    try:
        packed: Packed = decode(value)
        events = [{"type": block.__struct_config__.tag, "brand": brand,
                   **dict(zip(block.__struct_fields__, row, strict=True))}
                  for brand, blocks in packed.blocks.items() for block in blocks
                  for row in block.rows()]
    except Exception:  # what cannot be read is kept as it came
        return [value], None, Counter({"unknown": 1})
    return _in_parts(map(orjson.dumps, events)), packed.topic, Counter(
        event["type"] for event in events)


def _in_parts(items: Iterable[bytes]) -> list[bytes]:
    """JSON arrays of the items, each under ``VALUE_LIMIT`` bytes (a longer item alone)."""
    parts: list[bytes] = []
    part: list[bytes] = []
    size = 2
    for item in items:
        if part and size + len(item) + 1 > VALUE_LIMIT:
            parts.append(b"[" + b",".join(part) + b"]")
            part, size = [], 2
        part.append(item)
        size += len(item) + 1
    parts.append(b"[" + b",".join(part) + b"]")
    return parts


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
