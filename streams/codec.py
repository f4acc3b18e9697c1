"""JSON bytes the service holds on to: orjson's output copied to its own size.

orjson 3.12+ returns every result in a buffer of at least 4 KiB (a 60-byte
changelog key included) and never shrinks it. A flush holds thousands of
records at once: a worker's traced memory jumped by 300-400 MiB at every flush
(docs/benchmarks.md, "Memory"). Copying costs ~0.2 us per record.
"""

from __future__ import annotations

from typing import Any

import orjson


def dumps(value: Any) -> bytes:
    # join copies into a new bytes of the exact size (faster than bytes(memoryview(...)))
    return b"".join((orjson.dumps(value), b""))
