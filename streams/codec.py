"""JSON bytes the service holds on to: orjson's output copied to its own size.

orjson 3.12+ returns every result in a buffer of at least 4 KiB (a 60-byte
changelog key included) and never shrinks it. A flush holds thousands of
records at once: a worker's traced memory jumped by 300-400 MiB at every flush
(docs/benchmarks.md, "Memory"). Copying costs ~0.2 us per record.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

INT64_MAX = 2**63 - 1
log = logging.getLogger(__name__)


def dumps(value: Any) -> bytes:
    """``value`` as JSON; an integer past 64 bits is saturated at the signed 64-bit bounds.

    The input's bounds keep every sum far below 2**63 (streams/events.py,
    ``MAX_COUNT``); should state still reach it, the value is written
    saturated, with a warning, rather than failing the flush that every offset
    commit waits for.
    """
    try:
        # join copies into a new bytes of the exact size (faster than bytes(memoryview(...)))
        return b"".join((orjson.dumps(value), b""))
    except orjson.JSONEncodeError as exc:
        if "64-bit" not in str(exc):
            raise
        log.warning("state value past the signed 64-bit range, saved saturated: %.200r", value)
        return orjson.dumps(saturated(value))


def saturated(value: Any) -> Any:
    """``value`` with every integer clamped to the signed 64-bit range."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return max(-INT64_MAX - 1, min(INT64_MAX, value))
    if isinstance(value, dict):
        return {key: saturated(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [saturated(item) for item in value]
    return value
