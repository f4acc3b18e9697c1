"""Batches added to window buckets when they are next read give exact counters, replays included.

``WindowBuckets.apply`` keeps batches and ``settle`` adds them, several at a
time; the settles of a replay after a crash need not fall where the first
run's did. Whatever survived of the changelog, the counters must come out as
if every batch had been added once, one by one.
"""

from __future__ import annotations

import copy
import random

import pytest

from smm_pulse.state import MAX_UNSETTLED, TOTAL, Section, WindowBuckets
from smm_pulse.windows import Window
from tests.unit.state.test_seen_event_ids import DictTable, cells

NOW = 1_000_000.0
WINDOWS = [Window.parse("5m"), Window.parse("1h")]
PAIRS = [("acme", "vk"), ("acme", "x"), ("globex", "vk")]


Contribution = tuple[float, dict[str, float]]  # (event time, counters)
Message = list[tuple[str, str, list[Contribution]]]  # (brand, platform, contributions)


def messages(rng: random.Random, count: int) -> list[Message]:
    """Messages (offset = index) each bringing some pairs a few contributions."""
    return [[(brand, platform,
              [(NOW - rng.uniform(0, 3_000), {"likes": rng.randint(1, 5)})
               for _ in range(rng.randint(1, 3))])
             for brand, platform in rng.sample(PAIRS, rng.randint(1, len(PAIRS)))]
            for _ in range(count)]


def apply_message(buckets: WindowBuckets, offset: int, message: Message) -> None:
    """As the agents do: a batch per brand, its platforms' cells together."""
    by_brand: dict[str, dict] = {}
    for brand, platform, contributions in message:
        by_brand.setdefault(brand, {}).update(cells(platform, contributions))
    for brand, batch in by_brand.items():
        buckets.apply(offset, brand, batch, NOW)


def new_buckets(restored: dict | None = None) -> WindowBuckets:
    table = DictTable(copy.deepcopy(restored or {}))
    buckets = WindowBuckets(Section(table, "buckets", lambda _parts: 0), WINDOWS)
    for key, value in table.items():  # what changelog recovery does
        buckets.section.on_restored(key, value)
        buckets.on_restored(key, value)
    return buckets


def counters(buckets: WindowBuckets) -> dict:
    return {(pair, name): view.gained for pair, views in buckets.views(NOW).items()
            for name, view in views.items()}


def run(buckets: WindowBuckets, numbered: list[tuple[int, Message]], rng: random.Random,
        log: list | None = None) -> list[tuple[int, int]]:
    """Apply messages, settling and flushing at random points (and at the end).

    A flush appends every changed bucket to ``log`` in a random order (what a
    crash may cut short); returns (log length, offset to commit) per flush.
    """
    flushes = []
    for i, (offset, message) in enumerate(numbered, start=1):
        apply_message(buckets, offset, message)
        if rng.random() < 0.3 or i == len(numbered):
            buckets.settle()
            if log is not None:
                table = buckets.section.table
                buckets.section.flush(owned={0})
                changed = [(key, copy.deepcopy(value))
                           for _partition, key, value in table.changelog]
                table.changelog.clear()
                rng.shuffle(changed)
                log += changed
                flushes.append((len(log), offset + 1))
    return flushes


@pytest.mark.parametrize("seed", range(10))
def test_settled_batches_count_once_whatever_prefix_of_the_changelog_survives(seed):
    rng = random.Random(seed)
    numbered = list(enumerate(messages(rng, 12)))
    one_by_one = new_buckets()
    for offset, message in numbered:
        apply_message(one_by_one, offset, message)
        one_by_one.settle()
    expected = counters(one_by_one)

    first, log = new_buckets(), []
    flushes = run(first, numbered, rng, log)
    assert counters(first) == expected
    for cut in range(len(log) + 1):
        restored: dict = {}
        for key, value in log[:cut]:
            restored[key] = value
        # Offsets are committed after a flush completes; maybe not yet the last one.
        commits = [0] + [offset for end, offset in flushes if end <= cut]
        for replay_from in set(commits[-2:]):
            replayed = new_buckets(restored)
            run(replayed, numbered[replay_from:], rng)
            assert counters(replayed) == expected, (cut, replay_from)


def test_a_batch_is_seen_by_the_next_read_without_a_flush():
    buckets = new_buckets()
    buckets.apply(1, "acme", cells("vk", [(NOW - 10, {"likes": 2})]), NOW)
    assert buckets.views(NOW)["acme", "vk"]["5m"].gained == {"likes": 2}
    buckets.apply(2, "acme", cells("vk", [(NOW - 5, {"likes": 1})]), NOW)
    assert buckets.views(NOW)["acme", "vk"]["5m"].gained == {"likes": 3}


def test_a_batch_replayed_after_its_buckets_were_read_counts_once():
    """A worker that keeps its memory and reads a partition again from an earlier offset."""
    buckets = new_buckets()
    for offset in (1, 2):
        buckets.apply(offset, "acme", cells("vk", [(NOW - 10, {"likes": 2})]), NOW)
        buckets.views(NOW)
    for offset in (1, 2, 3):
        buckets.apply(offset, "acme", cells("vk", [(NOW - 10, {"likes": 2})]), NOW)
    assert buckets.views(NOW)["acme", "vk"]["5m"].gained == {"likes": 6}


def test_kept_batches_are_added_without_a_read_once_enough_wait():
    """A backlog with nothing reading the buckets does not hold every batch in memory."""
    buckets = new_buckets()
    batch = cells("vk", [(NOW - 10 - i / 1_000, {"likes": 1}) for i in range(1_000)])
    for offset in range(MAX_UNSETTLED // len(batch) - 1):
        buckets.apply(offset, "acme", batch, NOW)
    assert len(buckets.section) == 0  # all kept
    buckets.apply(MAX_UNSETTLED, "acme", batch, NOW)
    assert len(buckets.section) > 0
    assert buckets.section.get(("acme", "vk", TOTAL, 0))["c"] == {"likes": MAX_UNSETTLED}
