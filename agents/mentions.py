"""Mentions agent: mention volume and sentiment per brand and platform.

A mention without the collector's ``sentiment`` is scored by the service's
scorer (``smm_pulse.sentiment``); the collector's score always wins.
"""

from __future__ import annotations

from collections import defaultdict

import orjson

from agents.app import Pipeline
from agents.family import Batch, register_family_agent
from agents.share_of_voice import voice_records
from smm_pulse.contributions import Contribution, mention_contributions
from smm_pulse.kpi.catalog import Family
from smm_pulse.sentiment import scorer


def register(pipeline: Pipeline) -> None:
    buckets = pipeline.buckets(Family.MENTIONS)
    pipeline.views[Family.MENTIONS] = buckets.views

    voice_topic = pipeline.family_topics[Family.VOICE]
    # brand -> brands whose competitive set holds it (itself included)
    audiences = {
        brand: [a for a in pipeline.config.brands if brand in pipeline.config.competitive_set(a)]
        for brand in pipeline.config.brands
    }

    service_scorer = scorer()

    def score_texts(texts: list[tuple[str, str | None]]) -> list[float]:
        return [result.score for result in service_scorer.score_many(texts)]

    forwards: dict[int, list[dict]] = defaultdict(list)  # voice records by target partition

    def handle(batch: Batch) -> None:
        by_platform: dict[str, list[Contribution]] = defaultdict(list)
        for event, contribution in zip(batch.events, mention_contributions(
                batch.events, score_texts), strict=True):
            by_platform[event["platform"]].append(contribution)
        for platform, contributions in by_platform.items():
            buckets.apply(batch.offset, batch.brand, platform, contributions, batch.now)
        for target in audiences[batch.brand]:
            forwards[pipeline.partition_of(target)] += voice_records(target, batch.brand,
                                                                    batch.events)

    def forward_to_voice() -> None:
        """One message per target partition; sent before the next offset commit."""
        for partition, records in forwards.items():
            voice_topic.send_soon(key=None, value=orjson.dumps({"events": records}),
                                  partition=partition)
        forwards.clear()

    register_family_agent(pipeline, Family.MENTIONS, handle, after_message=forward_to_voice)
