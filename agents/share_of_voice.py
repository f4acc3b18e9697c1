"""Share-of-voice agent: mentions of a brand's competitive set, counted on the brand's partition.

Mentions of different brands live on different partitions, so the mentions agent
forwards each batch's fresh mentions of brand B, counted per grain, to every
brand A whose competitive set holds B (A = B included). Here, on A's partition,
they become the counters "set" (every mention of A's set) and "own" (A's own);
a forward is deduplicated by its id (B and the batch's offset), so a batch
replayed after a crash counts once.
"""

from __future__ import annotations

from collections import Counter

from smm_pulse.agents.family import Batch, register_family_agent
from smm_pulse.contributions import GrainSums
from smm_pulse.kpi.catalog import Family
from smm_pulse.runtime.pipeline import Pipeline
from smm_pulse.streams.internal import Mentions, VoiceCounts
from smm_pulse.windows import grain_seconds

ALL_PLATFORMS = ""  # share of voice is across platforms


VoiceCount = tuple[str, float, str, list[tuple[int, int]]]  # a row of ``VoiceCounts``


def voice_count(brand: str, offset: int, mentions: Mentions, grain: int) -> VoiceCount:
    """A mentions batch counted per grain, for the share of voice of the brands watching it."""
    per_grain = Counter(int(ts // grain) * grain for ts in mentions.ts)
    return f"{brand}\x1f{offset}", max(mentions.ts), brand, sorted(per_grain.items())


def register(pipeline: Pipeline) -> None:
    buckets = pipeline.buckets(Family.VOICE)
    pipeline.views[Family.VOICE] = buckets.views
    grain = grain_seconds(pipeline.windows)

    def handle(batch: Batch) -> None:
        forwards = batch.get(VoiceCounts)
        if forwards is None:
            return
        sums = GrainSums(grain)
        for source, per_grain in zip(forwards.source, forwards.mentions, strict=True):
            own = source == batch.brand
            for start, mentions in per_grain:
                sums.add(ALL_PLATFORMS, start,
                         {"set": mentions, "own": mentions} if own else {"set": mentions})
        buckets.apply(batch.offset, batch.brand, sums.cells, batch.now)

    register_family_agent(pipeline, Family.VOICE, handle, count_events=False)
