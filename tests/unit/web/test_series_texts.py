"""A whole render reuses the lines of pairs whose views did not change, and writes exactly
what a render from nothing writes."""

from __future__ import annotations

import asyncio
import dataclasses

from prometheus_client import generate_latest

from smm_pulse.kpi.catalog import Family
from smm_pulse.web import exporter
from smm_pulse.web.exporter import SeriesTexts, kpi_samples, render_kpis, render_metrics
from tests.unit.web.test_exporter import FakePipeline


def with_gained(pipeline: FakePipeline, family: Family, brand: str, only: bool = False,
                **gained: float) -> None:
    """``brand``'s views of ``family`` gain other counts (``only`` these counts); the other
    pairs' stay as they were."""
    before = pipeline.views[family](0.0)
    views = dict(before)
    views[brand, "vk"] = {
        name: dataclasses.replace(view, gained=gained if only else {**view.gained, **gained})
        for name, view in before[brand, "vk"].items()}
    pipeline.views[family] = lambda _now: views


def with_engagement_of(pipeline: FakePipeline, brand: str, likes: float) -> None:
    with_gained(pipeline, Family.ENGAGEMENT, brand, likes=likes)


def rendered_from_nothing(pipeline: FakePipeline) -> bytes:
    return generate_latest(pipeline.registry) + render_kpis(kpi_samples(pipeline, 0.0))


def test_a_render_after_one_pair_changed_writes_what_a_render_from_nothing_writes():
    pipeline = FakePipeline(brands=30)
    texts = SeriesTexts()
    asyncio.run(render_metrics(pipeline, texts=texts))
    with_engagement_of(pipeline, "brand3", likes=77)
    assert asyncio.run(render_metrics(pipeline, texts=texts)) == rendered_from_nothing(pipeline)
    with_engagement_of(pipeline, "brand3", likes=10)  # back to the first values
    assert asyncio.run(render_metrics(pipeline, texts=texts)) == rendered_from_nothing(pipeline)


def test_only_pairs_whose_views_changed_are_computed_again(monkeypatch):
    pipeline = FakePipeline(brands=30)
    texts = SeriesTexts()
    asyncio.run(render_metrics(pipeline, texts=texts))
    computed: list[tuple[str, str]] = []
    original = exporter._PairText.of

    def counted(entries, pair, views, previous):
        computed.append(pair)
        return original(entries, pair, views, previous)

    monkeypatch.setattr(exporter._PairText, "of", counted)
    asyncio.run(render_metrics(pipeline, texts=texts))
    assert computed == []
    with_engagement_of(pipeline, "brand3", likes=77)
    asyncio.run(render_metrics(pipeline, texts=texts))
    # its engagement lines, and its business lines: the cost per follower reads the
    # engagement family's follows (``Kpi.joins``)
    assert computed == [("brand3", "vk")] * 2


def test_a_change_in_a_joined_family_reaches_the_lines_of_the_pair_that_joins_it():
    pipeline = FakePipeline(brands=3)
    # Families name their counters apart: the business family has no follows of its own.
    with_gained(pipeline, Family.BUSINESS, "brand1", only=True, ad_spend=60.0)
    texts = SeriesTexts()
    before = asyncio.run(render_metrics(pipeline, texts=texts))
    assert b'smm_cost_per_follower{brand="brand1",currency="USD",platform="vk",window="1h"} 20.0' \
        in before  # 60 / 3 follows
    with_gained(pipeline, Family.ENGAGEMENT, "brand1", follows=4)
    after = asyncio.run(render_metrics(pipeline, texts=texts))
    assert after == rendered_from_nothing(pipeline)
    assert b'smm_cost_per_follower{brand="brand1",currency="USD",platform="vk",window="1h"} 15.0' \
        in after


def test_pairs_no_longer_owned_are_not_written_nor_kept():
    pipeline = FakePipeline(brands=30)
    texts = SeriesTexts()
    asyncio.run(render_metrics(pipeline, texts=texts))
    del pipeline.config.brands["brand7"]  # no longer declared
    body = asyncio.run(render_metrics(pipeline, texts=texts))
    assert b'brand="brand7"' not in body and body == rendered_from_nothing(pipeline)
    assert all(("brand7", "vk") not in pairs for pairs in texts._pairs.values())
