"""Mentions agent: mention volume and sentiment per brand and platform.

A mention without the collector's ``sentiment`` is scored by the service's
scorer (``smm_pulse.sentiment``); the collector's score always wins. Each
batch's mentions are also counted for the share of voice of every brand whose
competitive set holds the batch's brand (agents/share_of_voice.py).
"""

from __future__ import annotations

from collections import defaultdict

from smm_pulse.agents.family import Batch, register_family_agent
from smm_pulse.agents.share_of_voice import VoiceCount, voice_count
from smm_pulse.contributions import GrainSums, mention_scores
from smm_pulse.kpi.catalog import Family
from smm_pulse.runtime.pipeline import Pipeline
from smm_pulse.sentiment import scorer
from smm_pulse.streams.internal import Mentions, Packed, VoiceCounts, encoded
from smm_pulse.windows import grain_seconds


def register(pipeline: Pipeline) -> None:
    buckets = pipeline.buckets(Family.MENTIONS)
    pipeline.views[Family.MENTIONS] = buckets.views
    grain = grain_seconds(pipeline.windows)

    voice_topic = pipeline.family_topics[Family.VOICE]
    # brand -> brands whose competitive set holds it (itself included)
    audiences = {
        brand: [a for a in pipeline.config.brands if brand in pipeline.config.competitive_set(a)]
        for brand in pipeline.config.brands
    }

    service_scorer = scorer()

    def score_texts(texts: list[tuple[str, str | None]]) -> list[float]:
        return [result.score for result in service_scorer.score_many(texts)]

    # voice counts by target partition and target brand
    forwards: dict[int, dict[str, list[VoiceCount]]] = defaultdict(dict)

    def handle(batch: Batch) -> None:
        mentions = batch.get(Mentions)
        if mentions is None:
            return
        sums = GrainSums(grain)
        sums.add_mentions(mentions, mention_scores(mentions, score_texts))
        buckets.apply(batch.offset, batch.brand, sums.cells, batch.now)
        count = voice_count(batch.brand, batch.offset, mentions, grain)
        for target in audiences[batch.brand]:
            forwards[pipeline.partition_of(target)].setdefault(target, []).append(count)

    def forward_to_voice() -> None:
        """One message per target partition; sent before the next offset commit."""
        for partition, by_target in forwards.items():
            blocks = {target: [VoiceCounts.of_rows(rows)] for target, rows in by_target.items()}
            for body in encoded(Packed(voice_topic.get_topic_name(), blocks)):
                voice_topic.send_soon(key=None, value=body, partition=partition)
        forwards.clear()

    register_family_agent(pipeline, Family.MENTIONS, handle, after_message=forward_to_voice)
