"""Mentions agent: mention volume and sentiment per brand and platform."""

from __future__ import annotations

from collections import defaultdict

from agents.app import Pipeline
from agents.family import Batch, register_family_agent
from agents.state import WindowBuckets
from smm_pulse.contributions import Contribution, mention_contribution
from smm_pulse.kpi.catalog import Family


def register(pipeline: Pipeline) -> None:
    buckets = WindowBuckets(pipeline.table("mentions-buckets"), pipeline.windows)
    pipeline.buckets[Family.MENTIONS] = buckets

    def handle(batch: Batch) -> None:
        by_platform: dict[str, list[Contribution]] = defaultdict(list)
        for event in batch.events:
            by_platform[event["platform"]].append(mention_contribution(event))
        for platform, contributions in by_platform.items():
            buckets.apply(batch.offset, batch.brand, platform, contributions, batch.now)

    register_family_agent(pipeline, Family.MENTIONS, handle)
