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


def with_engagement_of(pipeline: FakePipeline, brand: str, likes: float) -> None:
    """``brand``'s engagement views gain other likes; the other pairs' stay as they were."""
    before = pipeline.views[Family.ENGAGEMENT](0.0)
    views = dict(before)
    views[brand, "vk"] = {name: dataclasses.replace(view, gained={**view.gained, "likes": likes})
                          for name, view in before[brand, "vk"].items()}
    pipeline.views[Family.ENGAGEMENT] = lambda _now: views


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
    assert computed == [("brand3", "vk")]


def test_pairs_no_longer_owned_are_not_written_nor_kept():
    pipeline = FakePipeline(brands=30)
    texts = SeriesTexts()
    asyncio.run(render_metrics(pipeline, texts=texts))
    del pipeline.config.brands["brand7"]  # no longer declared
    body = asyncio.run(render_metrics(pipeline, texts=texts))
    assert b'brand="brand7"' not in body and body == rendered_from_nothing(pipeline)
    assert all(("brand7", "vk") not in pairs for pairs in texts._pairs.values())
