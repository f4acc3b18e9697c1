"""Top posts and top authors are exact across crashes: whatever prefix of the changelog
survives, replaying from the committed offset ranks as an uninterrupted run did."""

from __future__ import annotations

import random
from typing import Any

from smm_pulse.contributions import author_sums
from smm_pulse.kpi.catalog import Family
from smm_pulse.state.author_sketches import AuthorSketches
from smm_pulse.streams.internal import Mentions
from smm_pulse.windows import grain_seconds
from tests.unit.agents.harness import NOW, crash_points, one_brand_pipeline, restored_prefix
from tests.unit.agents.test_crash_recovery import Worker, event


def post_batches() -> list[list[Any]]:
    """Snapshots and interactions naming posts, a duplicate, followers."""
    return [
        [event("account_metrics", 1, 900, followers=2000),
         event("post_metrics", 2, 800, post_id="p1", likes=10, views=100)],
        [event("post_metrics", 3, 700, post_id="p1", likes=40, comments=3, views=400),
         event("interaction", 4, 650, action="like", post_id="p2", count=25)],
        [event("post_metrics", 5, 400, post_id="p2", likes=5, shares=2),
         event("interaction", 6, 250, action="comment", post_id="p1"),
         event("interaction", 7, 240, action="like")],  # names no post
        [event("interaction", 4, 650, action="like", post_id="p2", count=25),  # duplicate
         event("post_metrics", 8, 100, post_id="p3", likes=1)],
        [event("post_metrics", 9, 20, post_id="p1", likes=45, comments=3, views=900)],
    ]


def top_posts(worker: Worker) -> dict[str, list[dict[str, Any]]]:
    return {w: worker.engagement.top_posts("acme", "vk", w, 10, NOW) for w in ("5m", "1h")}


def test_top_posts_count_snapshot_gains_and_interactions_per_post_with_the_kpi_er():
    worker = Worker({}, top_lists=True)
    worker.run(list(enumerate(post_batches())), flush_every=1)
    hour = top_posts(worker)["1h"]
    # p1 gained 45 likes + 3 comments by snapshots and 1 comment by interaction; p2 25
    # likes by interaction, then its first snapshot (no published_at) counts 5 + 2.
    assert [(p["post_id"], p["interactions"], p["likes"], p["comments"], p["shares"],
             p["views"]) for p in hour] == [("p1", 49, 45, 4, 0, 900),
                                            ("p2", 32, 30, 0, 2, 0), ("p3", 1, 1, 0, 0, 0)]
    assert hour[0]["engagement_rate"] == 49 / 2000
    assert [(p["post_id"], p["likes"], p["views"]) for p in top_posts(worker)["5m"]] == [
        ("p1", 5, 500), ("p3", 1, 0)]


def test_a_crash_after_any_changelog_write_replays_to_the_same_top_posts():
    numbered = list(enumerate(post_batches()))
    for flush_every in (1, 2):
        uninterrupted = Worker({}, top_lists=True)
        uninterrupted.run(numbered, flush_every)
        expected = top_posts(uninterrupted)
        [(name, table)] = uninterrupted.app.tables.items()
        for cut in crash_points(len(table.log)):
            commits = [0] + [offset for end, offset in uninterrupted.flushes if end <= cut]
            for replay_from in set(commits[-2:]):
                replayed = Worker({name: restored_prefix(table.log, cut)}, top_lists=True)
                replayed.run(numbered[replay_from:], flush_every)
                assert top_posts(replayed) == expected, (flush_every, cut, replay_from)


class AuthorWorker:
    """The mentions family's author sketches, over a logged table, batch by batch."""

    def __init__(self, restored: dict[str, Any], capacity: int) -> None:
        self.pipeline = one_brand_pipeline(top_lists=True)
        self.authors = AuthorSketches(self.pipeline.section(Family.MENTIONS, "author-sketches"),
                                      self.pipeline.windows, capacity)
        self.pipeline.on_restore(Family.MENTIONS, self.authors.on_restored)
        self.table = self.pipeline.table(Family.MENTIONS)
        self.table.data.update(restored)
        for key, value in restored.items():
            for listener in self.pipeline.restore_listeners[Family.MENTIONS]:
                listener(key, value)
        self.flushes: list[tuple[int, int]] = []

    def run(self, numbered: list[tuple[int, Mentions]]) -> dict[str, Any]:
        grain = grain_seconds(self.pipeline.windows)
        for offset, block in numbered:
            self.authors.apply(offset, "acme", author_sums(block, block.sentiment, grain), NOW)
            self.pipeline.flush_state()
            self.flushes.append((len(self.table.log), offset + 1))
        return {w: self.authors.top("acme", None, w, 20, NOW) for w in ("5m", "1h")}


def mention_batches() -> list[Mentions]:
    rng = random.Random(3)
    return [Mentions.of_rows([
        (f"m{b}-{i}", NOW - rng.randint(1, 3000), rng.choice(["vk", "x"]),
         rng.choice([-0.5, 0.0, 0.8]), None, None, f"author-{rng.randint(0, 12)}",
         rng.randint(0, 1000), None) for i in range(15)]) for b in range(6)]


def test_a_crash_after_any_changelog_write_replays_to_the_same_top_authors():
    numbered = list(enumerate(mention_batches()))
    uninterrupted = AuthorWorker({}, capacity=4)  # small: authors are evicted
    expected = uninterrupted.run(numbered)
    assert any(row["reach_error"] > 0 for row in expected["1h"])
    for cut in crash_points(len(uninterrupted.table.log)):
        commits = [0] + [offset for end, offset in uninterrupted.flushes if end <= cut]
        for replay_from in set(commits[-2:]):
            replayed = AuthorWorker(restored_prefix(uninterrupted.table.log, cut), capacity=4)
            assert replayed.run(numbered[replay_from:]) == expected, (cut, replay_from)


def test_replaying_every_batch_again_changes_no_ranking():
    numbered = list(enumerate(mention_batches()))
    worker = AuthorWorker({}, capacity=4)
    expected = worker.run(numbered)
    assert worker.run(numbered) == expected
    posts = Worker({}, top_lists=True)
    posts.run(list(enumerate(post_batches())), flush_every=1)
    before = top_posts(posts)
    posts.run(list(enumerate(post_batches())), flush_every=1)
    assert top_posts(posts) == before
