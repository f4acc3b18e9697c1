"""Engagement agent: interactions, post snapshots and follower snapshots of a brand.

Feeds ER by followers, ERR, ER by views, like/talk/amplification/virality rates,
CTR, followers, audience growth and gross follows (formulas in
``smm_pulse.kpi.formulas``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from smm_pulse.agents.family import Batch, register_family_agent
from smm_pulse.agents.snapshots import ItemChanges, Snapshots
from smm_pulse.config import duration_seconds
from smm_pulse.contributions import (
    FollowerTotals,
    GrainSums,
    PostSums,
    follower_totals,
    record_followers,
)
from smm_pulse.kpi.catalog import Family
from smm_pulse.runtime.pipeline import Pipeline
from smm_pulse.state import Views
from smm_pulse.state.post_activity import PostActivity
from smm_pulse.streams.internal import Accounts, Interactions, Posts
from smm_pulse.windows import grain_seconds


class PostSnapshots(Snapshots):
    """The last accepted snapshot per post (``Snapshots``)."""

    def __init__(self, pipeline: Pipeline) -> None:
        super().__init__(pipeline.section(Family.ENGAGEMENT, "posts", baseline=True),
                         duration_seconds(pipeline.config.post_retention))

    def contribute(self, batch: Batch, snapshots: Posts, horizon: float,
                   sums: GrainSums, per_post: PostSums | None) -> None:
        """Add what the batch's snapshots contribute to ``sums`` (and each post's to
        ``per_post``); writes each post once."""
        contributed: list[ItemChanges] | None = [] if per_post is not None else None
        self.fold(batch, snapshots.platform, snapshots.account, snapshots.post_id,
                  snapshots.ts, snapshots.published_at, snapshots.counters(), horizon,
                  sums.add_post_changes, contributed)
        if per_post is not None and contributed:
            per_post.add_changes(contributed)


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

    def totals(self, now: float, of: str | None = None) -> dict[tuple[str, str], FollowerTotals]:
        """Followers per (brand, platform): latest and at each window's start; of the
        brand ``of`` only if given."""
        histories: dict[tuple[str, str], list[list[list[float]]]] = defaultdict(list)
        for (brand, platform, _account), value in self.section.items():
            if of is None or brand == of:
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
        # What each post gained per window bucket (top posts); flushed before the posts.
        self.post_activity: PostActivity | None = None
        if pipeline.config.top_lists:
            self.post_activity = PostActivity(
                pipeline.section(Family.ENGAGEMENT, "post-gains"), pipeline.windows)
            pipeline.on_restore(Family.ENGAGEMENT, self.post_activity.on_restored)
            pipeline.expiring.append((Family.ENGAGEMENT, self.post_activity))

    def handle(self, batch: Batch) -> None:
        horizon = batch.now - self.horizon_seconds
        sums = GrainSums(self.grain)
        per_post = PostSums(self.grain) if self.post_activity is not None else None
        if posts := batch.get(Posts):
            self.posts.contribute(batch, posts, horizon, sums, per_post)
        if interactions := batch.get(Interactions):
            sums.add_interactions(interactions)
            if per_post is not None:
                per_post.add_interactions(interactions)
        if accounts := batch.get(Accounts):
            self.followers.record(batch, accounts, horizon)
        self.buckets.apply(batch.offset, batch.brand, sums.cells, batch.now)
        if per_post is not None and per_post.posts and self.post_activity is not None:
            self.post_activity.apply(batch.offset, batch.brand, per_post.posts, batch.now)

    def views(self, now: float) -> Views:
        """Bucket counters joined with followers (ER, growth) per (brand, platform)."""
        return self.buckets.views(now, self.followers.totals(now))

    def top_posts(self, brand: str, platform: str | None, window: str, limit: int,
                  now: float) -> list[dict[str, Any]]:
        """Posts by interactions gained in the window, ER by the brand's latest followers."""
        def followers() -> dict[tuple[str, str], int]:
            return {pair: t.latest for pair, t in self.followers.totals(now, brand).items()}
        if self.post_activity is None:
            return []
        return self.post_activity.top(brand, platform, window, limit, now, followers)


def register(pipeline: Pipeline) -> None:
    engagement = Engagement(pipeline)
    pipeline.views[Family.ENGAGEMENT] = engagement.views
    if pipeline.config.top_lists:
        pipeline.rankings["top-posts"] = engagement.top_posts
    register_family_agent(pipeline, Family.ENGAGEMENT, engagement.handle)
