"""The worker's process-wide memory settings (smm_pulse/runtime/memory.py)."""

from __future__ import annotations

import gc
import platform
import subprocess
import sys
import weakref
from collections.abc import Iterator

import pytest

from smm_pulse.runtime.memory import (
    YOUNG_COLLECTION_ALLOCATIONS,
    GcSettings,
)

glibc_only = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def pauses() -> Iterator[tuple[GcSettings, Clock]]:
    clock = Clock()
    policy = GcSettings(thaw_seconds=600, clock=clock)
    policy.install()
    try:
        yield policy, clock
    finally:
        policy.uninstall()


def a_cycle() -> weakref.ref[Node]:
    first, second = Node(), Node()
    first.other, second.other = second, first
    gc.collect()  # survives (still referenced here), so it is frozen
    return weakref.ref(first)


def test_a_full_collection_freezes_its_survivors(pauses: tuple[GcSettings, Clock]) -> None:
    gc.collect()
    assert gc.get_freeze_count() > 0


def test_cycles_among_frozen_objects_are_collected_after_the_thaw(
        pauses: tuple[GcSettings, Clock]) -> None:
    _policy, clock = pauses
    cycle = a_cycle()
    gc.collect()
    assert cycle() is not None  # frozen: the full collection skipped it

    clock.now = 600.0
    gc.collect()  # thaws instead of freezing
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert cycle() is None
    assert gc.get_freeze_count() > 0  # frozen again after the collection that looked at all


def test_the_young_generation_is_collected_less_often_until_uninstalled() -> None:
    before = gc.get_threshold()
    policy = GcSettings()
    policy.install()
    assert gc.get_threshold() == (YOUNG_COLLECTION_ALLOCATIONS, *before[1:])
    policy.uninstall()
    assert gc.get_threshold() == before


def test_uninstall_unfreezes_and_stops_freezing() -> None:
    policy = GcSettings()
    policy.install()
    gc.collect()
    policy.uninstall()
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert gc.get_freeze_count() == 0


# Run in a fresh interpreter: in the test process, a free chunk left in the heap by
# earlier tests can serve the buffer below without a mapping, whatever the setting.
LARGE_BUFFER_CHECK = """
import ctypes, ctypes.util, sys
from smm_pulse.runtime.memory import MMAP_THRESHOLD_BYTES, return_large_buffers_to_os

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]

libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.mallinfo2.restype = MallInfo2
if sys.argv[1] == "set":
    assert return_large_buffers_to_os()
bigger = bytearray(3 * MMAP_THRESHOLD_BYTES)
del bigger
before = libc.mallinfo2().hblkhd
buffer = bytearray(3 * MMAP_THRESHOLD_BYTES // 2)
print(libc.mallinfo2().hblkhd - before >= len(buffer))
"""


def buffer_is_mapped(with_setting: bool) -> bool:
    done = subprocess.run([sys.executable, "-c", LARGE_BUFFER_CHECK,
                           "set" if with_setting else "unset"],
                          capture_output=True, text=True, check=True)
    return done.stdout.strip() == "True"


@glibc_only
def test_large_buffers_stay_mapped_after_a_bigger_one_was_freed() -> None:
    """Without the setting, freeing the bigger buffer moves glibc's threshold past the smaller."""
    assert buffer_is_mapped(with_setting=True)
    assert not buffer_is_mapped(with_setting=False)
