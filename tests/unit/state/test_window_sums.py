"""Window views kept as running sums equal the buckets summed afresh, whatever happens."""

from __future__ import annotations

import random

import pytest

from smm_pulse.state import TOTAL, Section, WindowBuckets, table_key
from smm_pulse.windows import Window, WindowSum, sum_counters
from tests.unit.state.test_seen_event_ids import DictTable, cells

WINDOWS = [Window.parse("5m"), Window.parse("1h")]
PAIRS = [("acme", "vk"), ("acme", "x"), ("rival", "vk")]


def summed_afresh(buckets: WindowBuckets, now: float) -> dict:
    """The definition: per pair and window, the counters of the buckets covering ``now``."""
    parts: dict = {}
    for (brand, platform, window_name, start), value in buckets.section.items():
        window = next((w for w in WINDOWS if w.name == window_name), None)
        if window is None or window.covers(start, now):
            parts.setdefault((brand, platform), {}).setdefault(window_name, []).append(value["c"])
    return {pair: {name: sum_counters(parts[pair].get(name, ())) for name in [TOTAL, "5m", "1h"]}
            for pair in parts}


def gained(buckets: WindowBuckets, now: float) -> dict:
    return {pair: {name: dict(view.gained) for name, view in views.items()}
            for pair, views in buckets.views(now).items()}


def assert_same(got: dict, expected: dict) -> None:
    assert got.keys() == expected.keys()
    for pair, windows in expected.items():
        for name, counters in windows.items():
            assert got[pair][name] == pytest.approx(counters), (pair, name)


@pytest.mark.parametrize("seed", range(20))
def test_running_sums_equal_the_covered_buckets_through_writes_replays_expiry_and_restores(seed):
    rng = random.Random(seed)
    table = DictTable()
    buckets = WindowBuckets(Section(table, "buckets", lambda _parts: 0), WINDOWS)
    now, offset = 1_000_000.0, 0
    for _step in range(300):
        action = rng.random()
        if action < 0.6:  # a batch, sometimes replayed, with late and future events
            offset = offset if rng.random() < 0.1 else offset + 1
            brand, platform = rng.choice(PAIRS)
            contributions = [(now + rng.uniform(-4_000, 300),
                              {"likes": rng.randint(1, 5), "score": rng.random()})
                             for _ in range(rng.randint(1, 4))]
            buckets.apply(offset, brand, cells(platform, contributions), now)
        elif action < 0.7:  # the janitor
            for parts in buckets.expire(now, owned={0}):
                del buckets.section[parts]
        elif action < 0.8:  # a changelog record restored over a bucket
            parts, value = rng.choice(list(buckets.section.items()) or [(None, None)])
            if parts is not None:
                key = table_key("buckets", *parts)
                restored = None if rng.random() < 0.3 else {"o": value["o"], "c": {"likes": 7}}
                if restored is None:
                    table.pop(key)
                else:
                    table[key] = restored
                buckets.section.on_restored(key, restored)
                buckets.on_restored(key, restored)
        else:  # a read, now and then at an earlier time
            at = now - rng.uniform(0, 600) if rng.random() < 0.2 else now
            assert_same(gained(buckets, at), summed_afresh(buckets, at))
        now += rng.choice([0.5, 3, 7, 61, 400])
    assert_same(gained(buckets, now), summed_afresh(buckets, now))


def test_a_window_sum_is_due_again_when_a_bucket_leaves_or_a_future_one_enters():
    window = Window.parse("5m")  # buckets of 5 s
    total = WindowSum.of(window, [(1_000, {"likes": 1}), (1_300, {"likes": 2})], now=1_200)
    assert total.counters == {"likes": 1}
    assert total.until == 1_300  # the future bucket begins
    assert total.is_current(1_299) and not total.is_current(1_300)
    total = WindowSum.of(window, [(1_000, {"likes": 1})], now=1_200)
    assert total.until == 1_000 + 5 + 300  # the bucket leaves the window
    assert not total.is_current(1_199)  # an earlier read is summed afresh too


def test_the_janitor_s_deletes_leave_the_bucket_index():
    buckets = WindowBuckets(Section(DictTable(), "buckets", lambda _parts: 0), WINDOWS)
    buckets.apply(1, "acme", cells("vk", [(1_000, {"likes": 1})]), now=1_000)
    later = 1_000 + 3_600 + 60
    expired = buckets.expire(later, owned={0})
    assert {window_name for _brand, _platform, window_name, _start in expired} == {"5m", "1h"}
    for parts in expired:
        del buckets.section[parts]
    assert buckets._keys["acme", "vk"].keys() == {TOTAL}
    assert buckets.views(later)["acme", "vk"][TOTAL].gained == {"likes": 1}


@pytest.mark.parametrize("names", [["5m", "1h", "24h"], ["7m", "1h", "30m"], ["90s"]])
def test_each_bucket_holds_the_contributions_inside_it_whether_window_buckets_nest_or_not(names):
    """Coarser windows are summed from finer buckets where they nest: the same counters."""
    windows = [Window.parse(name) for name in names]
    rng = random.Random(len(names))
    now = 1_000_000.0
    contributions = [(now - rng.uniform(0, 5_000), {"likes": rng.randint(1, 5)})
                     for _ in range(1_000)]
    buckets = WindowBuckets(Section(DictTable(), "buckets", lambda _parts: 0), windows)
    buckets.apply(1, "acme", cells("vk", contributions), now)
    buckets.settle()  # read below from the section itself, not through a view
    expected: dict = {(TOTAL, 0): sum(deltas["likes"] for _ts, deltas in contributions)}
    for window in windows:
        for ts, deltas in contributions:
            start = window.bucket_of(ts)
            if not window.is_expired(start, now):
                expected[window.name, start] = expected.get((window.name, start), 0) + \
                    deltas["likes"]
    held = {(window_name, start): value["c"]["likes"]
            for (_b, _p, window_name, start), value in buckets.section.items()}
    assert held == expected
