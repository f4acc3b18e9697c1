"""Faust's Kafka transport: table state flushed before each commit, and a fix.

Before committing offsets the consumer has the app flush the tables' changes
(``App.before_commit``), so a committed offset never outruns durable state.

Two fixes: never-committed partitions seek to the beginning, and the consumer's
fetch wait is shortened (``FETCH_MAX_WAIT_MS``).

After a rebalance Faust drops the records it fetched for partitions that were
still paused for recovery, and relies on "seek stream partitions to committed
offsets" to read them again. aiokafka's ``seek_to_committed`` does not move a
partition that has no committed offset (or offset 0), so those records were
skipped for good: a worker that took over partitions its predecessor never
committed (a kill -9 soon after start, or a new group reading a backlog) lost
events (found by tests/integration/test_restart.py; details in docs/design.md).
Here such partitions go back to their beginning, which is what
``auto_offset_reset="earliest"`` promises; replays are exact (offset guards).
"""

from __future__ import annotations

from collections.abc import Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.transport.drivers import aiokafka as driver

# Faust's consumer asks the broker to hold an empty fetch for 1.5 s (aiokafka's
# default: 0.5 s). The embedded broker does not answer a held fetch when data
# arrives (a message produced during the wait came ~0.2-1.3 s late with
# 1,000-1,500 ms, at once with <= 750 ms; see docs/benchmarks.md), so each hop
# added up to the whole wait to freshness. Also used by the ingest stage.
FETCH_MAX_WAIT_MS = 100


class ConsumerThread(driver.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: driver.Transport) -> AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS  # not a setting of Faust's
        return consumer

    async def seek_to_committed(self) -> Mapping[TopicPartition, int]:
        return await self.call_thread(self._seek_to_committed_or_beginning)

    async def _seek_to_committed_or_beginning(self) -> Mapping[TopicPartition, int]:
        consumer = self._ensure_consumer()
        committed = await consumer.seek_to_committed()
        never = [tp for tp, offset in committed.items() if not offset]
        if never:
            await consumer.seek_to_beginning(*never)
        return committed


class Consumer(driver.Consumer):
    async def _commit(self, offsets: Mapping[TopicPartition, int]) -> bool:
        # Table state is written behind (smm_pulse/state): durable before the offsets.
        await self.app.before_commit()
        return await super()._commit(offsets)

    def _new_consumer_thread(self) -> driver.AIOKafkaConsumerThread:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class Transport(driver.Transport):
    Consumer = Consumer
