"""Collector SDK: sends events to the right topics with kafka-python.

The SDK routes, it does not judge: a line that is not JSON, or an item without a
known type, still goes to the engagement topic, where the service rejects it to
the dead-letter topic with its reason. Nothing a collector sends is lost silently.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from kafka import KafkaProducer

from smm_pulse.config import Kafka, Topics
from smm_pulse.connections import kafka_python_args
from smm_pulse.streams.topics import INPUT_TOPIC_OF_TYPE


@dataclass
class SendReport:
    events: int = 0
    messages: int = 0
    by_topic: Counter[str] = field(default_factory=Counter)


def route(line: bytes, topics: Topics) -> list[tuple[str, bytes | None, bytes, int]]:
    """(topic, key, value, events) messages for one JSON Lines line: one event or one batch.

    ``events`` counts as the service does: malformed JSON is one (rejected) event.

    A batch is split by topic and brand (in first-seen order, items keep their
    order) so that each message is keyed by its brand as the contract asks.
    """
    try:
        decoded = orjson.loads(line)
    except orjson.JSONDecodeError:
        return [(topics.engagement, None, line, 1)]
    if not isinstance(decoded, list):
        return [(_topic_of(decoded, topics), _key_of(decoded), line, 1)]
    groups: dict[tuple[str, bytes | None], list[Any]] = {}
    for item in decoded:
        groups.setdefault((_topic_of(item, topics), _key_of(item)), []).append(item)
    return [
        (topic, key, orjson.dumps(items), len(items)) for (topic, key), items in groups.items()
    ]


def _topic_of(item: Any, topics: Topics) -> str:
    kind = item.get("type") if isinstance(item, dict) else None
    return getattr(topics, INPUT_TOPIC_OF_TYPE.get(kind, "engagement"))  # type: ignore[arg-type]


def _key_of(item: Any) -> bytes | None:
    brand = item.get("brand") if isinstance(item, dict) else None
    return brand.encode() if isinstance(brand, str) else None


class CollectorClient:
    """A producer for collectors: ``send_line`` for JSON Lines, ``send`` for Python objects.

    ``security``: TLS and SASL (the configuration's ``kafka`` section, or
    ``smm_pulse.config.kafka_from_environment()``); plaintext without it.
    """

    def __init__(self, bootstrap: str, topics: Topics | None = None,
                 security: Kafka | None = None, **producer: Any) -> None:
        self.topics = topics or Topics()
        self._producer = KafkaProducer(
            bootstrap_servers=bootstrap.split(","),
            linger_ms=5,
            acks="all",
            retries=5,
            **kafka_python_args(security or Kafka()),
            **producer,
        )
        self.report = SendReport()

    def send_line(self, line: bytes) -> None:
        for topic, key, value, n in route(line, self.topics):
            self._producer.send(topic, key=key, value=value)
            self.report.events += n
            self.report.messages += 1
            self.report.by_topic[topic] += n

    def send(self, events: dict[str, Any] | Iterable[dict[str, Any]]) -> None:
        """One event, or a batch of events, as Python dicts."""
        payload = events if isinstance(events, dict) else list(events)
        self.send_line(orjson.dumps(payload))

    def flush(self, timeout: float = 30.0) -> None:
        self._producer.flush(timeout=timeout)

    def close(self) -> None:
        self._producer.close(timeout=30)

    def __enter__(self) -> CollectorClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()
        self.close()
