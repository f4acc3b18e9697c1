"""Snapshot and interaction semantics (docs/contract.md, section 2), without a broker."""

from __future__ import annotations

import random
from typing import NamedTuple

import pytest

from smm_pulse.contributions import (
    GrainSums,
    PostState,
    apply_snapshot,
    first_replies,
    follower_totals,
    followers_at,
    interaction_delta,
    mention_scores,
    record_followers,
)
from smm_pulse.streams.events import POST_COUNTERS, Interaction, Mention
from smm_pulse.streams.internal import Interactions, Mentions
from smm_pulse.windows import Window, grain_seconds, sum_counters

HORIZON = 1_000.0  # now minus the longest window


def snap(ts: float, published_at: float | None = None,
         **counters: int) -> tuple[float, float | None, tuple[int | None, ...]]:
    """A snapshot as ``apply_snapshot`` takes it: ts, published_at and counter values."""
    return ts, published_at, tuple(counters.get(name) for name in POST_COUNTERS)


class Changes(NamedTuple):
    ts: float
    deltas: dict[str, float]


def post(ts: float, **counters: int) -> PostState:
    """A post's kept state."""
    return [ts, *(counters.get(name, 0) for name in POST_COUNTERS)]


def counters_of(state: PostState) -> dict[str, float]:
    return {name: value for name, value in zip(POST_COUNTERS, state[1:], strict=True) if value}


def fold(kept: PostState | None, ts: float, published_at: float | None,
         values: tuple[int | None, ...]) -> tuple[PostState, Changes | None]:
    """``apply_snapshot``, its contribution as the counters that change."""
    state, at, changes = apply_snapshot(kept, ts, published_at, values, HORIZON)
    if at is None:
        return state, None
    return state, Changes(at, {name: change for name, change
                               in zip(POST_COUNTERS, changes, strict=True) if change})


def test_first_snapshot_contributes_its_totals_at_its_ts():
    state, contribution = fold(None, *snap(2_000, likes=10, reach=50))
    assert contribution.ts == 2_000
    assert contribution.deltas == {"likes": 10, "reach": 50}
    assert counters_of(state) == {"likes": 10, "reach": 50}  # absent counters are 0, not kept


def test_first_snapshot_contributes_at_published_at_when_given():
    _, contribution = fold(None, *snap(2_000, likes=4, published_at=1_500))
    assert contribution.ts == 1_500


def test_first_snapshot_of_a_post_older_than_the_longest_window_only_sets_the_baseline():
    state, contribution = fold(None, *snap(2_000, likes=500, published_at=900))
    assert contribution is None
    _, later = fold(state, *snap(2_100, likes=510))
    assert later.deltas == {"likes": 10}


def test_newer_snapshot_contributes_differences_which_may_be_negative():
    kept = post(2_000, likes=10, comments=3)
    state, contribution = fold(kept, *snap(2_060, likes=12, comments=1))
    assert contribution.ts == 2_060
    assert contribution.deltas == {"likes": 2, "comments": -2}
    assert state[0] == 2_060


def test_a_counter_falling_to_zero_contributes_its_whole_value_negatively():
    state, contribution = fold(post(2_000, likes=5, shares=2), *snap(2_060, likes=0, shares=2))
    assert contribution.deltas == {"likes": -5}
    _, later = fold(state, *snap(2_120, shares=3))  # likes absent: still 0
    assert later.deltas == {"shares": 1}


def test_absent_counter_keeps_its_previous_value():
    kept = post(2_000, likes=10, views=100)
    state, contribution = fold(kept, *snap(2_060, likes=11))
    assert contribution.deltas == {"likes": 1}
    assert counters_of(state)["views"] == 100


def test_older_or_equal_snapshot_changes_nothing():
    kept = post(2_000, likes=10)
    for ts in (2_000, 1_999):
        state, contribution = fold(kept, *snap(ts, likes=99))
        assert (state, contribution) == (kept, None)


def test_replaying_snapshots_changes_nothing():
    snapshots = [snap(2_000, likes=1), snap(2_010, likes=5), snap(2_020, likes=4)]
    state, total = None, 0
    for s in snapshots + snapshots:
        state, contribution = fold(state, *s)
        total += contribution.deltas.get("likes", 0) if contribution else 0
    assert total == 4


def test_interactions_add_and_unlike_subtracts():
    assert interaction_delta("like", 3) == ("likes", 3)
    assert interaction_delta("unlike", None) == ("likes", -1)
    assert interaction_delta("follow", None) == ("follows", 1)
    assert interaction_delta("unfollow", None) == ("unfollows", 1)


def interaction(ts: float, action: str, platform: str = "vk", count: int | None = None
                ) -> Interaction:
    return Interaction(event_id="i", ts=ts, platform=platform, brand="acme", account="main",
                       action=action, count=count)  # type: ignore[arg-type]


def bucket_sums(windows: list[Window], parts: list[tuple[str, float, dict]]) -> dict:
    """Counters per (window, platform, bucket start) of (platform, ts, deltas) parts."""
    found: dict = {}
    for window in windows:
        for platform, ts, deltas in parts:
            found.setdefault((window.name, platform, window.bucket_of(ts)), []).append(deltas)
    return {key: sum_counters(deltas) for key, deltas in found.items()}


@pytest.mark.parametrize("names", [["5m", "1h", "24h"], ["5m", "7m", "1h"]])  # grain 5 s, 1 s
def test_interactions_summed_per_grain_fill_every_window_bucket_as_one_by_one(names):
    """The grain divides every window's bucket size, so sums land where their parts would."""
    rng = random.Random(3)
    windows = [Window.parse(name) for name in names]
    events = [interaction(rng.uniform(0, 200_000), rng.choice(["like", "unlike", "view"]),
                          rng.choice(["vk", "x"]), rng.choice([None, 1, 4]))
              for _ in range(2_000)]
    sums = GrainSums(grain_seconds(windows))
    sums.add_interactions(Interactions.of(events))
    summed = [(platform, start, {counter: amount})
              for (platform, start, counter), amount in sums.cells.items()]
    one_by_one = [(e.platform, e.ts, dict([interaction_delta(e.action, e.count)]))
                  for e in events]
    assert len(summed) < len(one_by_one)
    assert bucket_sums(windows, summed) == bucket_sums(windows, one_by_one)


def test_follower_history_keeps_the_window_and_the_last_snapshot_before_it():
    history: list[list[float]] = []
    for ts, followers in [(500, 1), (800, 2), (1_200, 3), (1_100, 4), (1_200, 99)]:
        record_followers(history, ts, followers, HORIZON)
    assert history == [[800, 2], [1_100, 4], [1_200, 3]]
    assert followers_at(history, start=0, now=1_150) == (2, 4)
    assert followers_at(history, start=700, now=750) is None


def test_window_start_is_last_snapshot_before_it_else_first_inside():
    history = [[100, 10], [200, 20], [300, 30]]
    assert followers_at(history, start=250, now=400) == (20, 30)
    assert followers_at(history, start=50, now=250) == (10, 20)


def test_follower_totals_sum_accounts_and_leave_out_accounts_without_snapshots():
    five_min = Window.parse("5m")
    main = [[1_000, 100], [1_400, 150]]  # start of 5m window at 1_500 - 300 = 1_200: 100
    late = [[1_300, 50]]  # no snapshot before the window start: its first inside it
    future = [[1_600, 999]]  # nothing up to now: left out
    totals = follower_totals([main, late, future], now=1_500, windows=[five_min])
    assert (totals.latest, totals.at_start["5m"]) == (200, 150)
    assert follower_totals([future], now=1_500, windows=[five_min]) is None


def mention(ts: float, text: str, **fields: object) -> Mention:
    return Mention(event_id="m", ts=ts, platform="x", brand="acme", text=text,
                   **fields)  # type: ignore[arg-type]


def test_the_collectors_sentiment_wins_over_the_scorer():
    asked = []

    def scorer(texts: list[tuple[str, str | None]]) -> list[float]:
        asked.append(texts)
        return [-0.9 if pair == ("meh", "en") else 0.0 for pair in texts]

    mentions = Mentions.of([
        mention(5, "meh", sentiment=0.5),
        mention(10, "meh", sentiment=-0.05),
        mention(15, "meh", lang="en"),
        mention(20, "fine"),
    ])
    scores = mention_scores(mentions, scorer)
    assert scores == [0.5, -0.05, -0.9, 0.0]
    assert asked == [[("meh", "en"), ("fine", None)]]  # only the unscored, in one call
    sums = GrainSums(5)  # a grain each
    sums.add_mentions(mentions, scores)
    assert [counters_at(sums, start) for start in (5, 10, 15, 20)] == [
        {"mentions": 1, "scored": 1, "sentiment_sum": 0.5, "positive": 1},
        {"mentions": 1, "scored": 1, "sentiment_sum": -0.05, "neutral": 1},
        {"mentions": 1, "scored": 1, "sentiment_sum": -0.9, "negative": 1},
        {"mentions": 1, "scored": 1, "sentiment_sum": 0.0, "neutral": 1},
    ]


def counters_at(sums: GrainSums, start: int) -> dict[str, float]:
    return {counter: amount for (_platform, at, counter), amount in sums.cells.items()
            if at == start}


def test_mentions_in_one_grain_sum_up():
    mentions = Mentions.of([mention(ts, "x", sentiment=s)
                            for ts, s in [(1, 0.5), (2, 0.25), (3, -0.5), (6, 0.0)]])
    sums = GrainSums(5)
    sums.add_mentions(mentions, mention_scores(mentions, lambda _texts: []))
    assert counters_at(sums, 0) == {"mentions": 3, "scored": 3, "sentiment_sum": 0.25,
                                    "positive": 2, "negative": 1}
    assert counters_at(sums, 5) == {"mentions": 1, "scored": 1, "sentiment_sum": 0.0,
                                    "neutral": 1}


def test_potential_reach_sums_the_authors_followers_of_the_mentions_that_carry_them():
    mentions = Mentions.of([mention(1, "x", sentiment=0.0, author_followers=1200),
                            mention(2, "x", sentiment=0.0),
                            mention(3, "x", sentiment=0.0, author_followers=0),
                            mention(6, "x", sentiment=0.0, author_followers=35)])
    sums = GrainSums(5)
    sums.add_mentions(mentions, mention_scores(mentions, lambda _texts: []))
    assert counters_at(sums, 0)["potential_reach"] == 1200
    assert counters_at(sums, 5)["potential_reach"] == 35


def test_mentions_all_scored_by_their_collector_never_call_the_scorer():
    def scorer(texts: list[tuple[str, str | None]]) -> list[float]:
        raise AssertionError(f"asked to score {texts}")

    assert mention_scores(Mentions.of([mention(1, "x", sentiment=0.2)]), scorer) == [0.2]


def test_each_in_message_is_answered_by_the_first_out_at_or_after_it():
    assert first_replies(ins=[100, 110, 200], outs=[90, 130, 150], now=300) == [
        (100, 30), (110, 20), (200, None)]


def test_only_in_messages_and_replies_up_to_now_count():
    assert first_replies(ins=[50, 150, 350], outs=[160, 400], now=300) == [(50, 110), (150, 10)]
    assert first_replies(ins=[250], outs=[400], now=300) == [(250, None)]


def test_follower_history_and_window_starts_agree_with_their_definitions_on_random_histories():
    """The binary searches against the definitions read off a plain sorted list."""
    rng = random.Random(7)
    for _case in range(200):
        history: list[list[float]] = []
        snapshots: dict[float, int] = {}
        horizon = rng.uniform(0, 1_000)
        for _ in range(rng.randint(0, 30)):
            ts, followers = float(rng.randint(0, 1_000)), rng.randint(0, 500)
            record_followers(history, ts, followers, horizon)
            snapshots.setdefault(ts, followers)
        ordered = sorted([ts, f] for ts, f in snapshots.items())
        kept_before = [p for p in ordered if p[0] <= horizon][-1:]
        assert history == kept_before + [p for p in ordered if p[0] > horizon]
        times = [*snapshots, rng.uniform(0, 1_100), rng.uniform(0, 1_100)]  # ties matter
        start, now = sorted(rng.choice(times) for _ in range(2))
        current = [p for p in history if p[0] <= now]
        before = [p for p in current if p[0] <= start]
        expected = (int((before or current)[-1 if before else 0][1]), int(current[-1][1])) \
            if current else None
        assert followers_at(history, start, now) == expected
