"""``POST /ingest``: collectors send events over HTTP instead of Kafka.

On the worker's web port rather than a process of its own: the worker already
holds the configuration (declared brands and platforms, which validation
needs), the metrics the rejections are counted in and a web port; a separate
process would be one more thing to deploy and watch.

A body's messages go through the ingest stage's own ``triage``: accepted items
are sent, with their own bytes, to the input topics as the collector SDK sends
them, so everything downstream is unchanged; rejected ones go to the
dead-letter topic with their reasons, their source ``http:<collector>`` with
partition and offset -1. The answer is sent only once the broker acknowledged
all of it. "Accepted" means accepted for processing: duplicates are found
downstream by event id, after the answer.

A request is not all or nothing (``delivery`` says why): a 503 answers each
item with whether it was written, and the collector sends the whole request
again, whose repeated events count once. A broker known to be down gets
nothing written: the pre-flight check answers 503 before any record is sent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from aiokafka import AIOKafkaProducer, ConsumerRecord
from faust.web import View

from smm_pulse.agents.ingest import count_rejected, triage
from smm_pulse.connections import aiokafka_args
from smm_pulse.runtime.pipeline import Pipeline
from smm_pulse.streams.dead_letters import Source, dead_letter
from smm_pulse.streams.events import Rejection
from smm_pulse.web.auth import CollectorTokens, bearer_token, unauthorized
from smm_pulse.web.delivery import STATES, item_states, write
from smm_pulse.web.ingest_body import (
    Accepted,
    Item,
    input_records,
    item_count,
    letter_records,
    messages,
    outcomes,
)
from smm_pulse.web.rate_limit import RateLimits, retry_after

PATH = "/ingest"
BUSY_RETRY_SECONDS = 5  # Retry-After of a 503: the broker is down or did not acknowledge

log = logging.getLogger(__name__)


async def read_limited(request: web.Request, limit: int) -> bytes | None:
    """The body, or None when it is longer than ``limit`` (read no further than that)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _record(source: str, value: bytes) -> ConsumerRecord:
    """A body's message in the form ``triage`` reads: no partition or offset of its own."""
    return ConsumerRecord(topic=source, partition=-1, offset=-1, timestamp=-1,
                          timestamp_type=0, key=None, value=value, checksum=None,
                          serialized_key_size=-1, serialized_value_size=len(value), headers=())


class BrokerBusy(Exception):
    """Not every record was acknowledged: the producer is not started, the broker is down
    (nothing written), or it did not acknowledge in time. ``items`` and ``states``: each
    item's answer and whether it was written (``delivery.STATES``)."""

    def __init__(self, why: str, items: list[Item], states: list[str]) -> None:
        super().__init__(why)
        self.items = items
        self.states = states


def _busy(busy: BrokerBusy) -> web.Response:
    counts = Counter(busy.states)
    return web.json_response(
        {"error": str(busy),
         "retry": "send the whole request again: events already written count once "
                  "(by event_id)",
         **{state: counts[state] for state in STATES},
         "items": [item.answer(state) for item, state in zip(busy.items, busy.states,
                                                             strict=True)]},
        status=503, headers={"Retry-After": str(BUSY_RETRY_SECONDS)})


class HttpIngest:
    """The handler of ``POST /ingest`` and its producer, started with the worker."""

    def __init__(self, pipeline: Pipeline, bootstrap: str) -> None:
        self.pipeline = pipeline
        self.bootstrap = bootstrap
        self.settings = pipeline.config.ingest_http
        self.tokens = CollectorTokens({name: c.token_sha256
                                       for name, c in self.settings.collectors.items()})
        self.limits = RateLimits(self.settings.events_per_second, self.settings.burst_events)
        self.producer: AIOKafkaProducer | None = None

    async def run(self) -> None:
        """Keep the producer until cancelled (aiokafka clients need the running loop)."""
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", linger_ms=2,
            request_timeout_ms=int(self.settings.send_timeout_seconds * 1000),
            **aiokafka_args(self.pipeline.config.kafka))
        await producer.start()
        self.producer = producer
        try:
            await asyncio.Event().wait()
        finally:
            self.producer = None
            await producer.stop()

    async def handle(self, request: web.Request) -> web.Response:
        collector = self.tokens.collector(bearer_token(request.headers.get("Authorization")))
        if collector is None:
            return unauthorized("POST /ingest needs a collector token: "
                                "Authorization: Bearer <token>")
        body = await read_limited(request, self.settings.max_body_bytes)
        if body is None:
            return web.json_response(
                {"error": f"the body is over {self.settings.max_body_bytes} bytes"}, status=413)
        parts = messages(body, request.headers.get("Content-Type", ""))
        if parts is None:
            return web.json_response(
                {"error": "send application/json (one event or an array) or "
                          "application/x-ndjson (one message a line)"}, status=415)
        wait = self.limits.take(f"http:{collector}", sum(map(item_count, parts)))
        if wait:
            return web.json_response({"error": "over the collector's event rate"}, status=429,
                                     headers={"Retry-After": retry_after(wait)})
        return await self._process(collector, parts)

    async def _process(self, collector: str, parts: list[bytes]) -> web.Response:
        try:
            items = await self.submit(f"http:{collector}", parts)
        except BrokerBusy as busy:
            return _busy(busy)
        answers = [item.answer() for item in items]
        accepted_count = sum(answer["status"] == "accepted" for answer in answers)
        return web.json_response({"accepted": accepted_count,
                                  "rejected": len(answers) - accepted_count,
                                  "items": answers})

    async def submit(self, source: str, parts: Sequence[bytes],
                     refused: Sequence[tuple[Rejection, bytes]] = ()) -> list[Item]:
        """Triage ``parts`` as messages read from ``source``, send the accepted events to
        the input topics and the rejections, with ``refused`` (already rejected bodies:
        webhook calls no event maps to), to the dead-letter topic; return once the broker
        acknowledged all of it. Raises ``BrokerBusy`` when it did not."""
        now = time.time()
        topics = self.pipeline.config.topics
        items: list[Item] = []
        forward: list[Accepted] = []
        rejected: list[Rejection] = [rejection for rejection, _ in refused]
        letters = letter_records([dead_letter(rejection, raw, None, Source(source, -1, -1))
                                  for rejection, raw in refused], [], topics.dlq)
        for position, raw in enumerate(parts):
            triaged = triage(_record(source, raw), self.pipeline.declared, now)
            answers, accepted = outcomes(position, raw, triaged, first=len(items))
            letters += letter_records(triaged.dead_letters, [
                len(items) + n for n, answer in enumerate(answers) if answer.rejection is not None],
                topics.dlq)
            items += answers
            forward += accepted
            rejected += triaged.rejected
        records = input_records(forward, topics) + letters
        producer = self.producer
        why = "the producer is not started yet" if producer is None else await write(
            producer, records, self.settings.send_timeout_seconds)
        if why is not None:
            log.warning("ingest over HTTP: a request of %s was not written whole: %s",
                        source, why)
            raise BrokerBusy(why, items, item_states(records, len(items)))
        for rejection in rejected:  # counted once written: a body sent again is not
            count_rejected(self.pipeline, rejection, source)
        return items


def register(pipeline: Pipeline, bootstrap: str) -> HttpIngest:
    ingest = HttpIngest(pipeline, bootstrap)
    app = pipeline.app

    @app.page(PATH)
    class Ingest(View):
        async def post(self, request: Any, **_route: Any) -> Any:
            return await ingest.handle(request)

    # No collector and no webhook: every request is a 401, and no producer is needed.
    if pipeline.config.ingest_http.collectors or pipeline.config.webhooks.any:
        async def http_ingest_producer() -> None:
            try:
                await ingest.run()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a producer that cannot start must stop the worker
                log.exception("the producer of POST /ingest failed")
                await app.crash(exc)

        app.tasks_before_recovery.append(http_ingest_producer)
    return ingest
