"""Mentions agent: mention volume and sentiment per brand and platform.

A mention without the collector's ``sentiment`` is scored by the configured
scorer (``smm_pulse.sentiment``, loaded once when the agent is registered); the
collector's score always wins. A message's texts are scored before its handling,
in one batch on a worker thread, so the event loop goes on meanwhile; the handler
then reads the scores, and this agent's messages and state writes stay in order.
Each batch's mentions are also counted for the share of voice of every brand
whose competitive set holds the batch's brand (agents/share_of_voice.py).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

from smm_pulse.agents.family import Batch, register_family_agent
from smm_pulse.agents.share_of_voice import VoiceCount, voice_count
from smm_pulse.contributions import GrainSums, author_sums, mention_scores
from smm_pulse.kpi.catalog import Family
from smm_pulse.runtime.pipeline import Pipeline
from smm_pulse.sentiment import scorer
from smm_pulse.state.author_sketches import AuthorSketches
from smm_pulse.streams.internal import Mentions, Packed, VoiceCounts, decode, encoded
from smm_pulse.windows import grain_seconds

TextAndLang = tuple[str, str | None]


def register(pipeline: Pipeline) -> None:
    buckets = pipeline.buckets(Family.MENTIONS)
    pipeline.views[Family.MENTIONS] = buckets.views
    authors = AuthorSketches(pipeline.section(Family.MENTIONS, "author-sketches"),
                             pipeline.windows)
    pipeline.on_restore(Family.MENTIONS, authors.on_restored)
    pipeline.expiring.append((Family.MENTIONS, authors))
    top_lists = pipeline.config.top_lists
    if top_lists:
        pipeline.rankings["top-authors"] = authors.top
    grain = grain_seconds(pipeline.windows)

    voice_topic = pipeline.family_topics[Family.VOICE]
    # brand -> brands whose competitive set holds it (itself included)
    audiences = {
        brand: [a for a in pipeline.config.brands if brand in pipeline.config.competitive_set(a)]
        for brand in pipeline.config.brands
    }

    service_scorer = scorer(kind=pipeline.config.sentiment.scorer)
    # One thread: the scorer is single-threaded (one core), and batches queue in order.
    scoring = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sentiment")
    prepared: dict[TextAndLang, float] = {}  # the current message's scores

    def score_now(texts: list[TextAndLang]) -> list[float]:
        return [result.score for result in service_scorer.score_many(texts)]

    async def prepare(value: bytes) -> None:
        """Score the message's mentions that lack the collector's score, off the loop."""
        prepared.clear()
        # Decoded again by the handler's loop: that takes microseconds, a text's scoring a
        # millisecond.
        # A block whose mentions all carry the collector's score is skipped in C.
        texts = list(dict.fromkeys(
            (text, lang)
            for blocks in decode(value).blocks.values() for block in blocks
            if isinstance(block, Mentions) and None in block.sentiment
            for text, lang, score in zip(block.text, block.lang, block.sentiment, strict=True)
            if score is None))
        if texts:
            scores = await asyncio.get_running_loop().run_in_executor(scoring, score_now, texts)
            prepared.update(zip(texts, scores, strict=True))

    def score_texts(texts: list[TextAndLang]) -> list[float]:
        if all(text in prepared for text in texts):
            return [prepared[text] for text in texts]
        return score_now(texts)  # not prepared (a handler called on its own): on the spot

    # voice counts by target partition and target brand
    forwards: dict[int, dict[str, list[VoiceCount]]] = defaultdict(dict)

    def handle(batch: Batch) -> None:
        mentions = batch.get(Mentions)
        if mentions is None:
            return
        sums = GrainSums(grain)
        scores = mention_scores(mentions, score_texts)
        sums.add_mentions(mentions, scores)
        buckets.apply(batch.offset, batch.brand, sums.cells, batch.now)
        if top_lists and (authored := author_sums(mentions, scores, grain)):
            authors.apply(batch.offset, batch.brand, authored, batch.now)
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

    register_family_agent(pipeline, Family.MENTIONS, handle, after_message=forward_to_voice,
                          prepare=prepare)
