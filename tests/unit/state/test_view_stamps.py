"""A pair's views stamp says truly whether they changed: a scrape that skips a pair whose
stamp is unchanged writes what computing its views would have written."""

from __future__ import annotations

import random

import pytest

from smm_pulse.state import Section, WindowBuckets, table_key
from smm_pulse.windows import Window
from tests.unit.state.test_seen_event_ids import DictTable, cells

WINDOWS = [Window.parse("5m"), Window.parse("1h")]
PAIRS = [("acme", "vk"), ("acme", "x"), ("rival", "vk")]


def one_partition_buckets() -> tuple[DictTable, WindowBuckets]:
    table = DictTable()
    return table, WindowBuckets(Section(table, "buckets", lambda _parts: 0), WINDOWS)


@pytest.mark.parametrize("seed", range(20))
def test_an_unchanged_stamp_means_unchanged_views(seed):
    rng, (table, buckets) = random.Random(seed), one_partition_buckets()
    now, offset, skipped = 1_000_000.0, 0, 0
    last: dict = {}  # pair -> (stamp, views) at the last reading
    for _step in range(400):
        action = rng.random()
        if action < 0.5:  # a batch with late and future events
            offset += 1
            brand, platform = rng.choice(PAIRS)
            buckets.apply(offset, brand, cells(platform, [
                (now + rng.uniform(-4_000, 60), {"likes": rng.randint(1, 5)})
                for _ in range(rng.randint(1, 3))]), now)
        elif action < 0.6:  # the janitor
            for parts in buckets.expire(now, owned={0}):
                del buckets.section[parts]
        elif action < 0.65:  # a changelog record restored over a bucket
            held = list(buckets.section.items())
            if held:
                parts, value = rng.choice(held)
                key = table_key("buckets", *parts)
                table[key] = {"o": value["o"], "c": {"likes": 9}}
                buckets.section.on_restored(key, table[key])
                buckets.on_restored(key, table[key])
        else:  # a scrape
            views = buckets.views(now)
            for pair in views:
                stamp = views.stamp(pair)
                if stamp is not None and pair in last and last[pair][0] == stamp:
                    skipped += 1
                    assert views[pair] == last[pair][1], (pair, now)
                current = views[pair]
                last[pair] = (views.stamp(pair), current)
        now += rng.choice([0.5, 1, 3, 7, 61])
    assert skipped  # the stamps did let scrapes skip pairs
