"""Engagement agent: interactions, post snapshots and follower snapshots of a brand.

Feeds ER by followers, ERR, ER by views, like/talk/amplification/virality rates,
CTR, followers, audience growth and gross follows (formulas in
``smm_pulse.kpi.formulas``).
"""

from __future__ import annotations

from collections import defaultdict

from smm_pulse.agents.family import Batch, register_family_agent
from smm_pulse.config import duration_seconds
from smm_pulse.contributions import (
    FollowerTotals,
    GrainSums,
    PostState,
    apply_snapshot,
    follower_totals,
    record_followers,
)
from smm_pulse.kpi.catalog import Family
from smm_pulse.runtime.pipeline import Pipeline
from smm_pulse.state import Parts, Views, expired_entries, is_replayed
from smm_pulse.streams.internal import Accounts, Interactions, Posts
from smm_pulse.windows import grain_seconds


class PostSnapshots:
    """The last accepted snapshot per post, kept with the state it replaced.

    The replaced state ("prev") lets a replayed batch recompute exactly the
    contributions it made the first time.
    """

    def __init__(self, pipeline: Pipeline) -> None:
        self.section = pipeline.section(Family.ENGAGEMENT, "posts", baseline=True)
        self.retention_seconds = duration_seconds(pipeline.config.post_retention)

    def contribute(self, batch: Batch, snapshots: Posts, horizon: float,
                   sums: GrainSums) -> None:
        """Add what the batch's snapshots contribute to ``sums``; writes each post once."""
        states: dict[Parts, PostState | None] = {}
        before: dict[Parts, PostState | None] = {}  # as stored: it becomes "prev" unchanged
        for platform, account, post_id, ts, published_at, values in zip(
                snapshots.platform, snapshots.account, snapshots.post_id, snapshots.ts,
                snapshots.published_at, snapshots.counters(), strict=True):
            post = (batch.brand, platform, account, post_id)
            if post not in states:
                states[post] = before[post] = self._kept(post, batch.offset)
            states[post], at, changes = apply_snapshot(states[post], ts, published_at, values,
                                                       horizon)
            if at is not None:
                sums.add_post_changes(platform, at, changes)
        for post, state in states.items():
            self.section[post] = {"o": batch.offset, "s": state, "prev": before[post]}

    def _kept(self, post: Parts, offset: int) -> PostState | None:
        """The post's state before this batch, as stored (a replay finds it in "prev")."""
        stored = self.section.get(post)
        if stored is None:
            return None
        return stored["prev"] if is_replayed(stored, offset) else stored["s"]

    def expire(self, now: float, owned: set[int]) -> list[Parts]:
        """Posts with no snapshot for the retention period."""
        horizon = now - self.retention_seconds
        return expired_entries(self.section, owned,
                               lambda _parts, value: value["s"][0] < horizon)


class FollowerHistory:
    """Follower snapshots per account: every one inside the longest window and the one before."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.section = pipeline.section(Family.ENGAGEMENT, "accounts")
        self.windows = pipeline.windows

    def record(self, batch: Batch, snapshots: Accounts, horizon: float) -> None:
        for _event_id, ts, platform, account, followers in snapshots.rows():
            # Inserting a snapshot is idempotent, so no offset guard is needed.
            stored = self.section.changing((batch.brand, platform, account), _no_history)
            record_followers(stored["h"], ts, followers, horizon)

    def totals(self, now: float) -> dict[tuple[str, str], FollowerTotals]:
        """Followers per (brand, platform): latest and at each window's start."""
        histories: dict[tuple[str, str], list[list[list[float]]]] = defaultdict(list)
        for (brand, platform, _account), value in self.section.items():
            histories[brand, platform].append(value["h"])
        found = {pair: follower_totals(h, now, self.windows) for pair, h in histories.items()}
        return {pair: totals for pair, totals in found.items() if totals is not None}


def _no_history() -> dict[str, list[list[float]]]:
    return {"h": []}


class Engagement:
    """The engagement family's state: buckets, posts and follower histories."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.horizon_seconds = pipeline.horizon_seconds
        self.grain = grain_seconds(pipeline.windows)
        self.buckets = pipeline.buckets(Family.ENGAGEMENT)
        self.posts = PostSnapshots(pipeline)
        pipeline.expiring.append((Family.ENGAGEMENT, self.posts))
        self.followers = FollowerHistory(pipeline)

    def handle(self, batch: Batch) -> None:
        horizon = batch.now - self.horizon_seconds
        sums = GrainSums(self.grain)
        if posts := batch.get(Posts):
            self.posts.contribute(batch, posts, horizon, sums)
        if interactions := batch.get(Interactions):
            sums.add_interactions(interactions)
        if accounts := batch.get(Accounts):
            self.followers.record(batch, accounts, horizon)
        self.buckets.apply(batch.offset, batch.brand, sums.cells, batch.now)

    def views(self, now: float) -> Views:
        """Bucket counters joined with followers (ER, growth) per (brand, platform)."""
        return self.buckets.views(now, self.followers.totals(now))


def register(pipeline: Pipeline) -> None:
    engagement = Engagement(pipeline)
    pipeline.views[Family.ENGAGEMENT] = engagement.views
    register_family_agent(pipeline, Family.ENGAGEMENT, engagement.handle)
