"""Share-of-voice agent: mentions of a brand's competitive set, counted on the brand's partition.

Mentions of different brands live on different partitions, so the mentions agent
forwards each fresh mention of brand B to every brand A whose competitive set
holds B (A = B included). Here, on A's partition, they become the counters
"set" (every mention of A's set) and "own" (A's own); a forwarded mention is
deduplicated by its event id, so a replayed forward counts once.
"""

from __future__ import annotations

from typing import Any

from agents.app import Pipeline
from agents.family import Batch, register_family_agent
from smm_pulse.contributions import Contribution
from smm_pulse.kpi.catalog import Family

ALL_PLATFORMS = ""  # share of voice is across platforms


def voice_records(target: str, source: str, mentions: list[dict[str, Any]]) -> list[dict]:
    """What the mentions agent forwards to ``target`` for fresh mentions of ``source``."""
    return [
        {"type": "mention", "brand": target, "event_id": f"{source}\x1f{m['event_id']}",
         "ts": m["ts"], "own": source == target}
        for m in mentions
    ]


def register(pipeline: Pipeline) -> None:
    buckets = pipeline.buckets(Family.VOICE)
    pipeline.views[Family.VOICE] = buckets.views

    def handle(batch: Batch) -> None:
        contributions = [
            Contribution(r["ts"], {"set": 1, "own": 1} if r["own"] else {"set": 1})
            for r in batch.events
        ]
        buckets.apply(batch.offset, batch.brand, ALL_PLATFORMS, contributions, batch.now)

    register_family_agent(pipeline, Family.VOICE, handle, count_events=False)
