"""Bodies of ``POST /ingest``: their messages, each item's answer, and the input-topic
messages of the accepted items.

A body is one message (``application/json``: one event or an array of them)
or one message per non-blank line (``application/x-ndjson``). Each message is
validated by the ingest stage's own ``triage``; the answer has one entry per
item: a message that is not JSON, or a single event, is one item.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from smm_pulse.agents.ingest import Triage
from smm_pulse.config import Topics
from smm_pulse.streams.dead_letters import DeadLetter
from smm_pulse.streams.events import TYPE_NAME, Event, Rejection, item_bytes
from smm_pulse.streams.topics import INPUT_TOPIC_OF_TYPE
from smm_pulse.web.delivery import Record

JSON = "application/json"
JSON_LINES = ("application/x-ndjson", "application/jsonl", "application/x-jsonlines")
# Items per input message at most this many bytes: well under a producer's request
# limit (1 MiB by default) with the record's overhead.
FORWARD_MESSAGE_BYTES = 512 * 1024


def messages(body: bytes, content_type: str) -> list[bytes] | None:
    """The body's messages, or None for a media type ``/ingest`` does not take."""
    media = content_type.split(";")[0].strip().lower()
    if media == JSON:
        return [body]
    if media in JSON_LINES:
        return [line for line in (raw.rstrip(b"\r") for raw in body.split(b"\n"))
                if line.strip()]
    return None


def item_count(message: bytes) -> int:
    """Events a message holds as the rate limit counts them: an array's items, else one."""
    items = item_bytes(message)
    return len(items) if items is not None else 1


@dataclass(frozen=True, slots=True)
class Item:
    """One item's answer: accepted for processing, or rejected with its reason."""

    message: int  # the message's position in the body (its line, from 0)
    index: int | None  # the position in its array; None for a single event or whole message
    rejection: Rejection | None = None

    def answer(self, delivery: str | None = None) -> dict[str, Any]:
        """The item's answer; ``delivery`` (a 503's answers): whether its record, its input
        message or its dead letter, was written (``delivery.STATES``)."""
        place: dict[str, Any] = {"message": self.message}
        if self.index is not None:
            place["index"] = self.index
        if delivery is not None:
            place["delivery"] = delivery
        if self.rejection is None:
            return {**place, "status": "accepted"}
        rejected = {**place, "status": "rejected", "reason": self.rejection.reason,
                    "detail": self.rejection.detail}
        if self.rejection.field is not None:
            rejected["field"] = self.rejection.field
        return rejected


@dataclass(frozen=True, slots=True)
class Accepted:
    """An accepted event, its own bytes, and the place of its answer in the request's."""

    answer: int
    event: Event
    raw: bytes


def outcomes(position: int, raw: bytes, triaged: Triage, first: int = 0
             ) -> tuple[list[Item], list[Accepted]]:
    """Each item's answer, and the accepted events each with its own bytes and its place
    among the request's answers (``first``: the place of this message's first answer)."""
    whole = [r for r in triaged.rejected if r.index is None]
    if whole:  # not JSON, too deep, a rejected single event, or an internal error
        return [Item(position, None, whole[0])], []
    items = item_bytes(raw)
    if items is None:  # a single valid event
        return ([Item(position, None)], [Accepted(first, triaged.accepted[0], raw)]) \
            if triaged.accepted else ([], [])
    rejected = {r.index: r for r in triaged.rejected}
    accepted = iter(triaged.accepted)
    answers, forward = [], []
    for index, item in enumerate(items):
        if index in rejected:
            answers.append(Item(position, index, rejected[index]))
        else:
            answers.append(Item(position, index))
            forward.append(Accepted(first + index, next(accepted), item))
    return answers, forward


def input_records(accepted: Iterable[Accepted], topics: Topics) -> list[Record]:
    """Records for the input topics, as the collector SDK sends them: mentions to the
    mentions topic, the rest to engagement, keyed by brand, as arrays of the items' own
    bytes of up to ``FORWARD_MESSAGE_BYTES``; each names the answers of its items."""
    groups: dict[tuple[str, str], list[Accepted]] = {}
    for item in accepted:
        topic = getattr(topics, INPUT_TOPIC_OF_TYPE[TYPE_NAME[type(item.event)]])
        groups.setdefault((topic, item.event.brand), []).append(item)
    out: list[Record] = []
    for (topic, brand), items in groups.items():
        chunk: list[Accepted] = []
        size = 0
        for item in items:
            if chunk and size + len(item.raw) + 1 > FORWARD_MESSAGE_BYTES:
                out.append(_array(topic, brand, chunk))
                chunk, size = [], 0
            chunk.append(item)
            size += len(item.raw) + 1
        out.append(_array(topic, brand, chunk))
    return out


def _array(topic: str, brand: str, items: list[Accepted]) -> Record:
    return Record(topic, brand.encode(), b"[" + b",".join(i.raw for i in items) + b"]",
                  [i.answer for i in items])


def letter_records(letters: Sequence[DeadLetter], rejected: Sequence[int], topic: str
                   ) -> list[Record]:
    """Dead-letter records, each naming the answers (``rejected``: the places of one
    message's rejected items) it carries: one each, or all of them for a folded record."""
    paired = len(letters) == len(rejected)
    return [Record(topic, letter.key, letter.value,
                   [rejected[n]] if paired else list(rejected), letter.headers)
            for n, letter in enumerate(letters)]
