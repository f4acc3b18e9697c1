"""Writing one HTTP request's records to the broker, and what the broker acknowledged of them.

All or nothing is not available: a transactional producer would be needed, and
on the embedded broker (Tansu 0.6.0) aiokafka's cannot start (InitProducerId
fails) while kafka-python's commits and aborts but a ``read_committed`` consumer
still reads the aborted records (docs/design.md, "HTTP ingest and webhooks when
the broker is down").
So a request's guarantee is at least once, made exactly once downstream: every
event carries an ``event_id``, repeats are dropped as duplicates, and a
collector that got a 503 sends the whole request again. Two things keep partial
writes rare and a 503's answer true:

- a pre-flight check: every broker leading a partition of the topics about to
  be written must answer a metadata request first, so a broker known to be
  down or hung gets nothing written;
- each record's state, by how far it got: ``written`` (acknowledged),
  ``not_written`` (never handed to the producer), or ``unknown`` (handed to the
  producer, not acknowledged: it may be in the topic already or arrive later,
  as the producer keeps retrying it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.protocol.metadata import MetadataRequest

WRITTEN, NOT_WRITTEN, UNKNOWN = "written", "not_written", "unknown"
STATES = (WRITTEN, NOT_WRITTEN, UNKNOWN)


@dataclass(slots=True)
class Record:
    """One record for the broker and the positions, in the request's answer, of the items
    it carries (an input-topic message carries many, a dead letter one or a folded batch's)."""

    topic: str
    key: bytes | None
    value: bytes
    items: list[int]
    headers: list[tuple[str, bytes]] | None = None
    state: str = field(default=NOT_WRITTEN)


def combined(states: Iterable[str]) -> str:
    """An item's state from its records': written only if all are, not written only if none
    may be."""
    seen = set(states)
    if seen <= {WRITTEN}:
        return WRITTEN
    return NOT_WRITTEN if seen == {NOT_WRITTEN} else UNKNOWN


def item_states(records: Sequence[Record], items: int) -> list[str]:
    """The state of each of ``items`` answer positions, from the records that carry it."""
    states: list[list[str]] = [[] for _ in range(items)]
    for record in records:
        for item in record.items:
            states[item].append(record.state)
    return [combined(of_item) for of_item in states]


class BrokerDown(Exception):
    """The pre-flight check failed."""


async def preflight(producer: AIOKafkaProducer, topics: Iterable[str]) -> None:
    """Return once every broker leading a partition of ``topics`` answered a metadata
    request; raise ``BrokerDown`` when a partition has no leader or its broker is not
    reachable, ``KafkaError`` when a broker failed to answer. A hung broker makes this
    wait: the caller bounds it."""
    wanted = sorted(set(topics))
    client = producer.client
    leaders: set[int] = set()
    for topic in wanted:
        for partition in await producer.partitions_for(topic):
            leader = client.cluster.leader_for_partition(TopicPartition(topic, partition))
            if leader is None or leader < 0:
                raise BrokerDown(f"partition {partition} of {topic} has no leader")
            leaders.add(leader)
    for leader in leaders:
        if not await client.ready(leader):
            raise BrokerDown(f"broker {leader} is not reachable")
    await asyncio.gather(*(client.send(leader, MetadataRequest(wanted)) for leader in leaders))


async def write(producer: AIOKafkaProducer, records: Sequence[Record], timeout: float
                ) -> str | None:
    """Pre-flight, then send every record and wait for the acknowledgements, all within
    ``timeout`` seconds. None when every record was written; else why not, each record's
    ``state`` saying how far it got (all ``not_written`` when the pre-flight failed)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    acks: list[tuple[Record, asyncio.Future[object]]] = []
    why = None
    try:
        async with asyncio.timeout_at(deadline):
            await preflight(producer, (record.topic for record in records))
            for record in records:
                # Cancelled in here, the record is not sent; once returned, it may be.
                ack = await producer.send(record.topic, record.value, key=record.key,
                                          headers=record.headers)
                record.state = UNKNOWN
                acks.append((record, ack))
    except TimeoutError:
        why = f"the broker did not answer within {timeout:g} s"
    except (BrokerDown, KafkaError) as exc:
        why = f"the broker cannot take the records: {exc!r}"
    if acks:
        # asyncio.wait, not gather: a timeout must leave the acknowledgements readable.
        await asyncio.wait([ack for _, ack in acks], timeout=max(0.0, deadline - loop.time()))
    for record, ack in acks:
        if ack.done() and not ack.cancelled() and ack.exception() is None:
            record.state = WRITTEN
        elif why is None:
            why = (f"the broker refused a record: {ack.exception()!r}"
                   if ack.done() and not ack.cancelled()
                   else f"the broker did not acknowledge within {timeout:g} s")
    return why
