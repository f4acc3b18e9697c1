"""Records of the dead-letter topic: what was refused, its own bytes, and why.

A rejected item of a batch is written alone, not with its whole message: one
message of a thousand bad items would otherwise write a thousand copies of
itself; where many tiny items would make the headers outweigh the message,
their rejections share one record (``folded``). A message that is not JSON at
all stays one record. A value over
``VALUE_LIMIT`` bytes is cut, and the ``smm.truncated`` header gives its size,
so no record passes a producer's request limit (1 MiB by default).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from smm_pulse.streams.events import Rejection, item_bytes

VALUE_LIMIT = 512 * 1024
KEY_LIMIT = 1024
DETAIL_LIMIT = 1000  # characters of the ``smm.detail`` header
# A message's dead letters take at most twice its bytes plus this, else they are folded.
FOLD_SLACK = 4096


@dataclass(frozen=True, slots=True)
class Source:
    """Where the refused bytes were read: topic, partition and offset of their message."""

    topic: str
    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class DeadLetter:
    value: bytes
    key: bytes | None
    headers: list[tuple[str, bytes]]

    @property
    def size(self) -> int:
        """Bytes of the record's key, value and headers."""
        return (len(self.value) + len(self.key or b"")
                + sum(len(name) + len(value) for name, value in self.headers))


def dead_letter(rejection: Rejection, value: bytes, key: bytes | None,
                source: Source) -> DeadLetter:
    """One record: the refused bytes (cut to ``VALUE_LIMIT``) and the reason in headers."""
    detail = rejection.detail
    headers = {
        "smm.reason": rejection.reason,
        "smm.detail": detail if len(detail) <= DETAIL_LIMIT else detail[:DETAIL_LIMIT] + "...",
        "smm.type": rejection.event_type,
        "smm.source.topic": source.topic,
        "smm.source.partition": str(source.partition),
        "smm.source.offset": str(source.offset),
    }
    if rejection.index is not None:
        headers["smm.index"] = str(rejection.index)
    if rejection.field is not None:
        headers["smm.field"] = rejection.field
    if len(value) > VALUE_LIMIT:
        headers["smm.truncated"] = str(len(value))  # the size before the cut
        value = value[:VALUE_LIMIT]
    return DeadLetter(value, key if key is None or len(key) <= KEY_LIMIT else key[:KEY_LIMIT],
                      [(name, text.encode()) for name, text in headers.items()])


def dead_letters(raw: bytes, key: bytes | None, rejections: Sequence[Rejection],
                 source: Source) -> list[DeadLetter]:
    """The records of one message's rejections: one per rejection with a batch item's own
    bytes (else the message's), or, where their headers would take more than the message
    itself (``folded``), one record for them all."""
    items = item_bytes(raw) if any(r.index is not None for r in rejections) else None
    letters = [dead_letter(r, items[r.index] if items and r.index is not None
                           and r.index < len(items) else raw, key, source)
               for r in rejections]
    if len(letters) > 1 and sum(letter.size for letter in letters) > 2 * len(raw) + FOLD_SLACK:
        return [folded(raw, key, rejections, source)]
    return letters


def folded(raw: bytes, key: bytes | None, rejections: Sequence[Rejection],
           source: Source) -> DeadLetter:
    """One record for many small rejected items: the whole message, the most frequent
    reason in ``smm.reason``, and how many items were rejected for each reason in
    ``smm.reasons`` (JSON). A thousand bad two-byte items would otherwise write a
    thousand sets of headers, 50 times the message."""
    counts = Counter(r.reason for r in rejections)
    (reason, _), = counts.most_common(1)
    summary = Rejection(reason, f"{len(rejections)} items of the batch were rejected; "
                        "smm.reasons counts them by reason", "unknown")
    letter = dead_letter(summary, raw, key, source)
    letter.headers.append(("smm.reasons", orjson.dumps(dict(counts.most_common()))))
    return letter
