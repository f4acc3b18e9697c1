"""Whatever prefix of the engagement family's changelog survives a crash, replaying gives
exact state, for flushes after every batch and after several (``harness``)."""

from __future__ import annotations

import pytest

from smm_pulse.agents.engagement import Engagement
from smm_pulse.kpi.catalog import Family
from smm_pulse.streams.events import Event
from tests.unit.agents import harness


class Worker(harness.FamilyWorker):
    """The engagement family, as its agent runs it."""

    def __init__(self, restored: harness.Restored, top_lists: bool = False) -> None:
        super().__init__(Family.ENGAGEMENT, Engagement, restored, top_lists)
        self.engagement: Engagement = self.handler  # type: ignore[assignment]


event = harness.events(account="main")


def batches() -> list[list[Event]]:
    """Snapshots of two posts over several batches, interactions, followers, a duplicate."""
    return [
        [event("account_metrics", 1, 600, followers=1000),
         event("post_metrics", 2, 500, post_id="p1", likes=10, reach=100)],
        [event("post_metrics", 3, 400, post_id="p1", likes=15, comments=2, reach=150),
         event("post_metrics", 4, 390, post_id="p2", likes=1)],
        [event("interaction", 5, 300, action="like", count=3),
         event("post_metrics", 6, 200, post_id="p1", likes=30, reach=300)],
        [event("post_metrics", 7, 100, post_id="p2", likes=8, shares=1),
         event("interaction", 5, 300, action="like", count=3),  # a duplicate id
         event("account_metrics", 8, 50, followers=1010)],
        [event("post_metrics", 9, 20, post_id="p1", likes=31, reach=310)],
    ]


@pytest.mark.parametrize("flush_every", [1, 2, 3])
def test_a_crash_after_any_changelog_write_replays_to_exact_values(flush_every):
    expected = harness.assert_every_crash_replays_exactly(Worker, list(enumerate(batches())),
                                                  flush_every)
    assert expected["acme", "vk"]["1h"].gained["likes"] > 0  # the run did count


def test_changes_of_a_partition_kept_across_a_rebalance_reach_the_changelog():
    harness.assert_changes_kept_across_a_rebalance_reach_the_changelog(
        Worker, list(enumerate(batches())))


def test_flushes_write_each_changed_key_once_and_posts_last():
    worker = Worker({})
    worker.run(list(enumerate(batches())), flush_every=len(batches()))
    keys = [key for key, _value in worker.table[1].log]
    assert len(keys) == len(set(keys))
    sections = worker.flushed_sections()
    assert sections.index("posts") > max(i for i, s in enumerate(sections) if s == "buckets")


def test_all_engagement_state_lives_in_one_table():
    worker = Worker({})
    worker.run(list(enumerate(batches())), flush_every=1)
    # top lists off: no post-buckets
    assert set(worker.flushed_sections()) == {"buckets", "posts", "accounts", "seen"}
