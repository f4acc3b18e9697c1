"""Bodies of ``POST /ingest``: their messages, each item's answer, and the input-topic
messages of the accepted items.

A body is one message (``application/json``: one event or an array of them)
or one message per non-blank line (``application/x-ndjson``). Each message is
validated by the ingest stage's own ``triage``; the answer has one entry per
item: a message that is not JSON, or a single event, is one item.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from smm_pulse.agents.ingest import Triage
from smm_pulse.config import Topics
from smm_pulse.streams.events import TYPE_NAME, Event, Rejection, item_bytes
from smm_pulse.streams.topics import INPUT_TOPIC_OF_TYPE

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

    def answer(self) -> dict[str, Any]:
        place: dict[str, Any] = {"message": self.message}
        if self.index is not None:
            place["index"] = self.index
        if self.rejection is None:
            return {**place, "status": "accepted"}
        rejected = {**place, "status": "rejected", "reason": self.rejection.reason,
                    "detail": self.rejection.detail}
        if self.rejection.field is not None:
            rejected["field"] = self.rejection.field
        return rejected


def outcomes(position: int, raw: bytes, triaged: Triage
             ) -> tuple[list[Item], list[tuple[Event, bytes]]]:
    """Each item's answer, and the accepted events each with its own bytes."""
    whole = [r for r in triaged.rejected if r.index is None]
    if whole:  # not JSON, too deep, a rejected single event, or an internal error
        return [Item(position, None, whole[0])], []
    items = item_bytes(raw)
    if items is None:  # a single valid event
        return ([Item(position, None)], [(triaged.accepted[0], raw)]) if triaged.accepted \
            else ([], [])
    rejected = {r.index: r for r in triaged.rejected}
    accepted = iter(triaged.accepted)
    answers, forward = [], []
    for index, item in enumerate(items):
        if index in rejected:
            answers.append(Item(position, index, rejected[index]))
        else:
            answers.append(Item(position, index))
            forward.append((next(accepted), item))
    return answers, forward


def input_messages(accepted: Iterable[tuple[Event, bytes]], topics: Topics
                   ) -> list[tuple[str, bytes, bytes]]:
    """(topic, key, value) messages for the input topics, as the collector SDK sends them:
    mentions to the mentions topic, the rest to engagement, keyed by brand, as arrays of
    the items' own bytes of up to ``FORWARD_MESSAGE_BYTES``."""
    groups: dict[tuple[str, str], list[bytes]] = {}
    for event, raw in accepted:
        topic = getattr(topics, INPUT_TOPIC_OF_TYPE[TYPE_NAME[type(event)]])
        groups.setdefault((topic, event.brand), []).append(raw)
    out: list[tuple[str, bytes, bytes]] = []
    for (topic, brand), items in groups.items():
        chunk: list[bytes] = []
        size = 0
        for item in items:
            if chunk and size + len(item) + 1 > FORWARD_MESSAGE_BYTES:
                out.append((topic, brand.encode(), b"[" + b",".join(chunk) + b"]"))
                chunk, size = [], 0
            chunk.append(item)
            size += len(item) + 1
        out.append((topic, brand.encode(), b"[" + b",".join(chunk) + b"]"))
    return out
