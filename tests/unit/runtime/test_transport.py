"""The consumer fixes: never-committed partitions seek to their beginning; a short fetch wait."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.transport.drivers import aiokafka as driver

from smm_pulse.runtime.transport import FETCH_MAX_WAIT_MS, ConsumerThread

NEVER, AT_ZERO, COMMITTED = (TopicPartition("t", p) for p in range(3))


class RecordingConsumer:
    """The two aiokafka consumer calls the fix makes, recorded."""

    def __init__(self) -> None:
        self.to_beginning: list[TopicPartition] = []

    async def seek_to_committed(self) -> dict[TopicPartition, int | None]:
        return {NEVER: None, AT_ZERO: 0, COMMITTED: 5}

    async def seek_to_beginning(self, *partitions: TopicPartition) -> None:
        self.to_beginning += partitions


def test_never_committed_partitions_are_read_again_from_their_beginning():
    thread = ConsumerThread.__new__(ConsumerThread)  # no Faust app needed for this method
    consumer = RecordingConsumer()
    thread._ensure_consumer = lambda: consumer  # type: ignore[method-assign]
    committed = asyncio.run(thread._seek_to_committed_or_beginning())
    assert committed == {NEVER: None, AT_ZERO: 0, COMMITTED: 5}
    assert consumer.to_beginning == [NEVER, AT_ZERO]


def test_the_worker_consumer_waits_briefly_for_data(monkeypatch):
    async def as_faust_builds_it() -> AIOKafkaConsumer:
        return AIOKafkaConsumer(fetch_max_wait_ms=1500)

    monkeypatch.setattr(driver.AIOKafkaConsumerThread, "_create_worker_consumer",
                        lambda self, transport: asyncio.run(as_faust_builds_it()))
    consumer = ConsumerThread.__new__(ConsumerThread)._create_worker_consumer(None)
    assert consumer._fetch_max_wait_ms == FETCH_MAX_WAIT_MS <= 100
