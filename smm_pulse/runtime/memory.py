"""Process-wide memory settings of a worker: less garbage-collector work, a heap that shrinks.

Measured in docs/benchmarks.md ("Garbage-collector settings" and "mmap
threshold at 8 MiB"); ``smm-pulse up`` applies them before the worker starts.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import platform
import time
from collections.abc import Callable
from typing import Any

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number
MMAP_THRESHOLD_BYTES = 8 * 1024 * 1024
THAW_SECONDS = 600.0
YOUNG_COLLECTION_ALLOCATIONS = 20_000  # Python's default: 700
OLDEST_GENERATION = 2  # a full collection


def return_large_buffers_to_os() -> bool:
    """Allocations of ``MMAP_THRESHOLD_BYTES`` and more get their own mapping; True if set.

    glibc raises this threshold (up to 32 MiB) whenever such a buffer is
    freed; from then on the largest buffers came from the heap and left holes
    in it that it could not give back, and the worker's resident memory crept
    up under a steady load. Setting it stops the raising.

    Why not lower: every page of a new mapping is faulted in when first
    written, about 4 us a page on these machines, and the worker's buffers of
    a few hundred KiB to a few MiB (produce requests, which aiokafka copies at
    each level of their nesting, fetches, record batches) are allocated many
    times a second. At 46,000 events/s a threshold of 256 KiB cost 14,000-15,000
    page faults a second, 8 MiB 2,400-2,600 (docs/benchmarks.md, "mmap threshold at 8 MiB").
    Only glibc has it; elsewhere nothing changes.
    """
    if platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))


class GcSettings:
    """Garbage collections that look at fewer objects, fewer times.

    Python's full collection traverses every container: with the worker's
    state (hundreds of thousands of dicts, none in a reference cycle) it took
    0.3-0.6 s every few seconds under load, and stopped everything meanwhile.
    After each full collection the survivors are frozen (``gc.freeze``), so the
    next one skips them. Frozen objects are still freed by reference counting;
    only a reference cycle among them would wait, so every ``thaw_seconds``
    they are unfrozen and the next full collection looks at everything once.

    The young generation is collected every ``YOUNG_COLLECTION_ALLOCATIONS``
    net allocations instead of every 700: a message's thousands of events are
    alive across many young collections, so each was traversed in every one
    and again in the older generations they were promoted to: 14% of the
    worker's time at 12,000 events/s, 5% with this setting. A young
    collection then takes up to ~50 ms instead of ~1 ms; 50,000 spent no less
    time in all, in pauses twice as long.
    """

    def __init__(self, thaw_seconds: float = THAW_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.thaw_seconds = thaw_seconds
        self.clock = clock
        self._thawed_at = clock()

    def install(self) -> None:
        self._thresholds = gc.get_threshold()
        gc.set_threshold(YOUNG_COLLECTION_ALLOCATIONS, *self._thresholds[1:])
        gc.callbacks.append(self._after_collection)

    def uninstall(self) -> None:
        gc.callbacks.remove(self._after_collection)
        gc.set_threshold(*self._thresholds)
        gc.unfreeze()

    def _after_collection(self, phase: str, info: dict[str, Any]) -> None:
        if phase != "stop" or info["generation"] != OLDEST_GENERATION:
            return
        now = self.clock()
        if now - self._thawed_at >= self.thaw_seconds:
            gc.unfreeze()
            self._thawed_at = now
        else:
            gc.freeze()
