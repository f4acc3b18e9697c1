"""Snapshot and interaction semantics (contract section 2), without a broker."""

from __future__ import annotations

from smm_pulse.contributions import (
    PostState,
    apply_snapshot,
    interaction_contribution,
    latest_followers,
    record_followers,
)

HORIZON = 1_000.0  # now minus the longest window


def snap(ts: float, **counters: int) -> dict:
    return {"type": "post_metrics", "ts": ts, **counters}


def test_first_snapshot_contributes_its_totals_at_its_ts():
    state, contribution = apply_snapshot(None, snap(2_000, likes=10, reach=50), HORIZON)
    assert contribution.ts == 2_000
    assert contribution.deltas == {"likes": 10, "reach": 50}
    assert state.counters["comments"] == 0


def test_first_snapshot_contributes_at_published_at_when_given():
    _, contribution = apply_snapshot(None, snap(2_000, likes=4, published_at=1_500), HORIZON)
    assert contribution.ts == 1_500


def test_first_snapshot_of_a_post_older_than_the_longest_window_only_sets_the_baseline():
    state, contribution = apply_snapshot(None, snap(2_000, likes=500, published_at=900), HORIZON)
    assert contribution is None
    _, later = apply_snapshot(state, snap(2_100, likes=510), HORIZON)
    assert later.deltas == {"likes": 10}


def test_newer_snapshot_contributes_differences_which_may_be_negative():
    kept = PostState(2_000, {"likes": 10, "comments": 3})
    state, contribution = apply_snapshot(kept, snap(2_060, likes=12, comments=1), HORIZON)
    assert contribution.ts == 2_060
    assert contribution.deltas == {"likes": 2, "comments": -2}
    assert state.ts == 2_060


def test_absent_counter_keeps_its_previous_value():
    kept = PostState(2_000, {"likes": 10, "views": 100})
    state, contribution = apply_snapshot(kept, snap(2_060, likes=11), HORIZON)
    assert contribution.deltas == {"likes": 1}
    assert state.counters["views"] == 100


def test_older_or_equal_snapshot_changes_nothing():
    kept = PostState(2_000, {"likes": 10})
    for ts in (2_000, 1_999):
        state, contribution = apply_snapshot(kept, snap(ts, likes=99), HORIZON)
        assert (state, contribution) == (kept, None)


def test_replaying_snapshots_changes_nothing():
    snapshots = [snap(2_000, likes=1), snap(2_010, likes=5), snap(2_020, likes=4)]
    state, total = None, 0
    for s in snapshots + snapshots:
        state, contribution = apply_snapshot(state, s, HORIZON)
        total += contribution.deltas.get("likes", 0) if contribution else 0
    assert total == 4


def test_interactions_add_and_unlike_subtracts():
    assert interaction_contribution({"ts": 5, "action": "like", "count": 3}).deltas == {"likes": 3}
    assert interaction_contribution({"ts": 5, "action": "unlike"}).deltas == {"likes": -1}
    assert interaction_contribution({"ts": 5, "action": "follow"}).deltas == {"follows": 1}
    assert interaction_contribution({"ts": 5, "action": "unfollow"}).deltas == {"unfollows": 1}


def test_follower_history_keeps_the_window_and_the_last_snapshot_before_it():
    history: list[list[float]] = []
    for ts, followers in [(500, 1), (800, 2), (1_200, 3), (1_100, 4), (1_200, 99)]:
        history = record_followers(history, ts, followers, HORIZON)
    assert history == [[800, 2], [1_100, 4], [1_200, 3]]
    assert latest_followers(history, now=1_150) == 4
    assert latest_followers(history, now=700) is None
