"""Ingest agent: validates collector messages and re-keys valid events by brand.

One Faust event is one Kafka message, which may carry a batch: the whole batch is
validated at once and forwarded as one message per (KPI family, brand). Rejected
events go to the dead-letter topic with the original bytes and their reason in
headers, and are counted; nothing is dropped silently.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import orjson
from faust.types import EventT

from agents.app import Pipeline
from streams.events import Rejection, parse_message, to_record
from streams.topics import FAMILY_OF_TYPE


def dlq_headers(rejection: Rejection, event: EventT) -> list[tuple[str, bytes]]:
    """Machine-readable reason and provenance of a rejected event."""
    message = event.message
    headers = {
        "smm.reason": rejection.reason,
        "smm.detail": rejection.detail,
        "smm.type": rejection.event_type,
        "smm.source.topic": message.topic,
        "smm.source.partition": str(message.partition),
        "smm.source.offset": str(message.offset),
    }
    if rejection.index is not None:
        headers["smm.index"] = str(rejection.index)
    if rejection.field is not None:
        headers["smm.field"] = rejection.field
    return [(name, value.encode()) for name, value in headers.items()]


def register(pipeline: Pipeline) -> None:
    app = pipeline.app
    inputs = app.topic(*pipeline.names.inputs, key_serializer="raw", value_serializer="raw",
                       partitions=pipeline.config.partitions)
    dlq = app.topic(pipeline.config.topics.dlq, key_serializer="raw", value_serializer="raw",
                    partitions=1)
    events_total, dead_letters_total = pipeline.events_total, pipeline.dead_letters_total

    @app.agent(inputs, name="ingest")
    async def ingest(stream: Any) -> None:
        async for event in stream.events():
            topic = event.message.topic
            parsed = parse_message(event.value or b"", pipeline.is_declared, time.time())
            for rejection in parsed.rejected:
                events_total.labels(topic, rejection.event_type, "rejected").inc()
                dead_letters_total.labels(topic, rejection.reason).inc()
                await dlq.send(key=event.key, value=event.value,
                               headers=dlq_headers(rejection, event))
            by_family_brand: dict[tuple[Any, str], list[dict[str, Any]]] = defaultdict(list)
            for accepted in parsed.accepted:
                record = to_record(accepted)
                by_family_brand[FAMILY_OF_TYPE[record["type"]], record["brand"]].append(record)
            for (family, brand), records in by_family_brand.items():
                await pipeline.family_topics[family].send(
                    key=brand.encode(),
                    value=orjson.dumps({"topic": topic, "events": records}),
                    partition=pipeline.partition_of(brand),
                )
