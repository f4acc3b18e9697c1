"""Top authors by reach: Space-Saving sketches per bucket, merged, against exact sums."""

from __future__ import annotations

import itertools
import random

import pytest

from smm_pulse.state import space_saving

CAPACITY = 16


def reference_buckets(seed: int) -> list[list[tuple[str, float]]]:
    """30 buckets of mentions: a few heavy authors among 500 (Zipf-like), reach per mention
    from 0 to 5,000."""
    rng = random.Random(seed)
    authors = [f"author-{i}" for i in range(500)]
    weights = [1 / (i + 1) ** 1.1 for i in range(len(authors))]
    return [[(rng.choices(authors, weights)[0], float(rng.randint(0, 5_000)))
             for _ in range(rng.randint(50, 300))] for _bucket in range(30)]


def sketched(buckets: list[list[tuple[str, float]]], capacity: int) -> list[space_saving.Sketch]:
    sketches = []
    for mentions in buckets:
        sketch: space_saving.Sketch = {}
        for author, reach in mentions:
            space_saving.add(sketch, author, reach, 1, 0.5, capacity)
        sketches.append(sketch)
    return sketches


def exact(buckets: list[list[tuple[str, float]]]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for mentions in buckets:
        for author, reach in mentions:
            totals[author] = totals.get(author, 0) + reach
    return totals


@pytest.mark.parametrize("seed", range(5))
def test_merged_reach_is_within_the_stated_error_and_that_within_reach_over_capacity(seed):
    buckets = reference_buckets(seed)
    true = exact(buckets)
    total = sum(true.values())
    merged = space_saving.merge(sketched(buckets, CAPACITY), CAPACITY)
    assert any(row.reach_error > 0 for row in merged)  # the sketches did evict
    for row in merged:
        assert abs(row.reach - true[row.author]) <= row.reach_error + 1e-6, row
        assert row.reach_error <= total / CAPACITY
    listed = {row.author for row in merged}
    floors = sum(space_saving.floor(s, CAPACITY) for s in sketched(buckets, CAPACITY))
    for author, reach in true.items():
        if author not in listed:
            assert reach <= floors <= total / CAPACITY
    # Every author with more than twice the bound ranks above every author with none.
    heavy = {a for a, r in true.items() if r > 2 * total / CAPACITY}
    assert heavy and heavy <= {row.author for row in merged[:len(heavy)]}


def test_a_sketch_with_room_for_every_author_is_exact():
    buckets = reference_buckets(1)
    true = exact(buckets)
    merged = space_saving.merge(sketched(buckets, 1_000), 1_000)
    assert {row.author: row.reach for row in merged} == true
    assert all(row.reach_error == 0 and row.sentiment == 0.5 for row in merged)
    counts = {}
    for mentions in buckets:
        for author, _reach in mentions:
            counts[author] = counts.get(author, 0) + 1
    assert {row.author: row.mentions for row in merged} == counts


def test_the_evicted_author_is_the_least_reach_whatever_the_entries_order():
    forward: space_saving.Sketch = {"a": [5, 0, 1, 0], "b": [5, 0, 1, 0], "c": [9, 0, 1, 0]}
    backward = dict(reversed(list(forward.items())))
    for sketch in (forward, backward):
        space_saving.add(sketch, "d", 1, 1, 0.2, capacity=3)
        assert sorted(sketch) == ["b", "c", "d"] and list(sketch["d"][:2]) == [6, 5]


def test_merged_rows_rank_by_reach_then_author():
    sketches = [{"x": [10, 0, 1, 1], "y": [10, 0, 2, -1]}, {"z": [15, 0, 1, 0], "y": [1, 0, 1, 0]}]
    merged = space_saving.merge(sketches, capacity=4)
    assert [(r.author, r.reach, r.mentions) for r in merged] == [
        ("z", 15, 1), ("y", 11, 3), ("x", 10, 1)]
    assert merged[1].sentiment == pytest.approx(-1 / 3)


@pytest.mark.parametrize("seed", range(3))
def test_batches_counted_at_once_keep_the_bound_against_exact_sums(seed):
    buckets = reference_buckets(seed)
    true = exact(buckets)
    total = sum(true.values())
    sketches: dict[int, space_saving.Sketch] = {}
    rng = random.Random(seed)
    for number, mentions in enumerate(buckets):  # each bucket in a few batches
        cuts = [0, *sorted(rng.sample(range(1, len(mentions)), 3)), len(mentions)]
        for part in (mentions[a:b] for a, b in itertools.pairwise(cuts)):
            batch: dict[tuple[int, str], list[float]] = {}
            for author, reach in part:
                row = batch.setdefault((number, author), [0, 0, 0])
                row[0] += reach
                row[1] += 1
                row[2] += 0.5
            space_saving.add_all(sketches, [batch], CAPACITY)
    merged = space_saving.merge(sketches.values(), CAPACITY)
    assert any(row.reach_error > 0 for row in merged)
    for row in merged:
        assert abs(row.reach - true[row.author]) <= row.reach_error + 1e-6, row
        assert row.reach_error <= total / CAPACITY
    heavy = {a for a, r in true.items() if r > 2 * total / CAPACITY}
    assert heavy and heavy <= {row.author for row in merged[:len(heavy)]}
