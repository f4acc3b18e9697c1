"""What a webhook adapter makes of one platform call: contract events, or why none.

Adapters are pure functions of the call's JSON (and the collector's settings):
the HTTP side sends their events through the same validation as ``POST /ingest``
and an unmapped call to the dead-letter topic with reason ``unmapped_webhook``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Event = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Mapped:
    """The events a call maps to; ``unmapped``: why it maps to none (a dead letter)."""

    events: list[Event] = field(default_factory=list)
    unmapped: str | None = None


def unmapped(why: str) -> Mapped:
    return Mapped([], why)


def obj(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one: absent parts read as missing."""
    return value if isinstance(value, dict) else {}


def integer(value: Any) -> int | None:
    """A JSON integer (not a boolean), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None
