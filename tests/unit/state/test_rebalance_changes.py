"""Unflushed changes across a rebalance: written once their partition is assigned back."""

from __future__ import annotations

from smm_pulse.state import Section
from tests.unit.state.test_seen_event_ids import DictTable


def posts_by_partition() -> tuple[Section, DictTable]:
    table = DictTable()
    return Section(table, "posts", lambda parts: parts[0]), table  # first part: the partition


def test_changes_of_a_partition_assigned_back_reach_the_changelog():
    posts, table = posts_by_partition()
    posts[0, "p1"] = {"o": 7, "s": [1.0, 5]}
    posts.hold_changes({0, 1})  # eager rebalance: everything revoked
    posts.flush(owned={0, 1})  # a flush during the rebalance writes nothing held
    assert table.changelog == []
    posts.resume_changes({0})  # partition 0 comes back
    posts.flush(owned={0})
    assert table.changelog == [(0, '["posts",0,"p1"]', {"o": 7, "s": [1.0, 5]})]


def test_changes_of_a_partition_that_moved_wait_until_it_comes_back():
    posts, table = posts_by_partition()
    posts[1, "p2"] = {"o": 3, "s": [2.0, 1]}
    posts.hold_changes({0, 1})
    posts.resume_changes({0})  # partition 1 went to another worker
    posts.flush(owned={0})
    assert table.changelog == []
    table['["posts",1,"p2"]'] = {"o": 9, "s": [4.0, 2]}  # restored: the other owner's value
    posts.resume_changes({0, 1})
    posts.flush(owned={0, 1})
    assert table.changelog == [(1, '["posts",1,"p2"]', {"o": 9, "s": [4.0, 2]})]
