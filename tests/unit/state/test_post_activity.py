"""Top posts' state: bounded per brand and platform, ranked exactly over the posts it holds."""

from __future__ import annotations

import random

from smm_pulse.contributions import post_key
from smm_pulse.kpi.catalog import Family
from smm_pulse.state.post_activity import PostActivity
from tests.unit.agents.harness import NOW, one_brand_pipeline


def activity(limit: int) -> PostActivity:
    pipeline = one_brand_pipeline()
    return PostActivity(pipeline.section(Family.ENGAGEMENT, "post-gains"), pipeline.windows,
                        limit)


def likes(offset: int, tracked: PostActivity, platform: str, post: str, ago: float,
          n: int) -> None:
    grain = int((NOW - ago) // 5) * 5
    key = post_key(platform, post)
    tracked.apply(offset, "acme", {grain: {key: (n, 0, 0, 0, 0)}}, NOW)


def ranked(tracked: PostActivity, platform: str | None, window: str = "1h") -> list[tuple]:
    return [(p["platform"], p["post_id"], p["likes"])
            for p in tracked.top("acme", platform, window, 10, NOW, lambda: {})]


def test_posts_beyond_the_bound_per_platform_are_refused_until_others_expire():
    tracked = activity(limit=2)
    likes(1, tracked, "vk", "a", 100, 5)
    likes(2, tracked, "vk", "b", 100, 7)
    likes(3, tracked, "vk", "c", 100, 9)  # a third vk post: over the bound
    likes(4, tracked, "x", "c", 100, 1)  # the bound is per platform
    assert ranked(tracked, "vk") == [("vk", "b", 7), ("vk", "a", 5)]
    assert tracked.refused == 1
    assert ranked(tracked, None) == [("vk", "b", 7), ("vk", "a", 5), ("x", "c", 1)]
    # Once "a" and "b" have left every window, "c" is taken.
    for parts in tracked.expire(NOW + 2 * 86_400, {0}):
        del tracked.section[parts]
    likes(5, tracked, "vk", "c", 100, 9)
    assert ranked(tracked, "vk") == [("vk", "c", 9)]


def test_a_post_ranks_by_what_it_gained_inside_the_window_only():
    tracked = activity(limit=10)
    likes(1, tracked, "vk", "old", 1_000, 50)  # in 1h, not in 5m
    likes(2, tracked, "vk", "new", 60, 3)
    likes(3, tracked, "vk", "new", 30, -1)  # an unlike
    assert ranked(tracked, "vk") == [("vk", "old", 50), ("vk", "new", 2)]
    assert ranked(tracked, "vk", "5m") == [("vk", "new", 2)]


def test_rankings_kept_by_writes_after_a_read_equal_rankings_summed_afresh():
    read_often, read_once = activity(limit=100), activity(limit=100)
    rng = random.Random(4)
    for offset in range(60):
        post, ago, n = f"p{rng.randrange(15)}", rng.randrange(1, 3_000), rng.randint(-2, 9)
        platform = rng.choice(["vk", "x"])
        for tracked in (read_often, read_once):
            likes(offset, tracked, platform, post, ago, n)
        if offset % 7 == 0:  # the reads make the running sums that later writes keep
            ranked(read_often, None), ranked(read_often, "x", "5m")
    for window in ("5m", "1h"):
        for platform in (None, "vk", "x"):
            assert ranked(read_often, platform, window) == ranked(read_once, platform, window)


def test_posts_whose_gains_cancel_out_are_not_listed():
    tracked = activity(limit=10)
    likes(1, tracked, "vk", "liked", 100, 1)
    likes(2, tracked, "vk", "undone", 100, 4)
    likes(3, tracked, "vk", "undone", 90, -4)
    assert ranked(tracked, "vk") == [("vk", "liked", 1)]
