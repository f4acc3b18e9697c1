"""Flushed changelog records go to the producer at commit time, not through Faust's buffer."""

from __future__ import annotations

import asyncio
import tracemalloc
from typing import Any

import orjson

from smm_pulse.runtime.faust_app import App, Table


class RecordingBatch:
    """aiokafka's BatchBuilder as the flush uses it: full after ``capacity`` records."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.records: list[tuple[bytes | None, bytes | None]] = []

    def append(self, *, key: bytes | None, value: bytes | None, timestamp: Any) -> Any:
        if len(self.records) >= self.capacity:
            return None
        self.records.append((key, value))
        return object()


class RecordingProducer:
    """Faust's producer and the aiokafka producer it wraps, as the flush uses them;
    every batch acknowledged at once."""

    def __init__(self, batch_capacity: int = 1_000) -> None:
        self.batch_capacity = batch_capacity
        self.batches: list[tuple[str, int | None, list]] = []

    @property
    def sent(self) -> list[tuple[str, int | None, bytes | None, bytes | None]]:
        return [(topic, partition, key, value)
                for topic, partition, records in self.batches for key, value in records]

    def _ensure_producer(self) -> RecordingProducer:
        return self

    def create_batch(self) -> RecordingBatch:
        return RecordingBatch(self.batch_capacity)

    async def send_batch(self, batch: RecordingBatch, topic: str, *,
                         partition: int | None) -> asyncio.Future:
        self.batches.append((topic, partition, batch.records))
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


def test_changelog_records_wait_for_the_commit_and_leave_in_order_with_tombstones():
    app = App("changelog-test", broker="kafka://localhost:1", store="memory://")
    table = app.Table("state", default=None, partitions=2)
    assert isinstance(table, Table)
    table.send_changelog(1, '["buckets","acme"]', {"o": 3, "c": {"likes": 2}})
    table.send_changelog(1, '["posts","acme"]', None, value_serializer="raw")
    # Nothing reaches Faust's producer buffer, which every incoming message waits on.
    assert app.producer.buffer.size == 0
    producer = RecordingProducer()
    app._producer = producer
    asyncio.run(app._send_changelog())
    topic = table.changelog_topic.get_topic_name()
    assert [(t, p, orjson.loads(k)) for t, p, k, _ in producer.sent] == [
        (topic, 1, '["buckets","acme"]'), (topic, 1, '["posts","acme"]')]
    assert orjson.loads(producer.sent[0][3]) == {"o": 3, "c": {"likes": 2}}
    assert producer.sent[1][3] is None  # a tombstone
    assert app.changelog == []


def test_changelog_records_are_the_bytes_fausts_json_serializers_write():
    """Recovery decodes records with the table's serializers: the direct encoding must match."""
    app = App("changelog-bytes", broker="kafka://localhost:1", store="memory://")
    table = app.Table("state", default=None, partitions=2)
    topic = table.changelog_topic
    records = [
        ('["buckets","acme","vk","5m",1700000000]', {"o": 3, "c": {"likes": 2, "sum": 0.25}}),
        ('["seen",1,42]', {"o": 42, "t": 1.5, "ids": [("acme", "e1"), ("бренд", "e2")]}),
        ('["posts","acme","vk","main","p1"]', {"o": 1, "s": {"ts": 2.0, "c": {}}, "prev": None}),
    ]
    for key, value in records:
        table.send_changelog(0, key, value)
    for (key, value), (_topic, _partition, key_bytes, value_bytes) in zip(
            records, app.changelog, strict=True):
        assert key_bytes == topic.prepare_key(key, table.key_serializer)[0]
        assert value_bytes == topic.prepare_value(value, table.value_serializer)[0]


def test_a_flush_leaves_as_record_batches_per_partition_in_order_split_when_full():
    app = App("changelog-batches", broker="kafka://localhost:1", store="memory://")
    table = app.Table("state", default=None, partitions=2)
    for i in range(5):
        table.send_changelog(i % 2, f'["k",{i}]', {"o": i})
    producer = RecordingProducer(batch_capacity=2)
    app._producer = producer
    asyncio.run(app._send_changelog())
    keys = [[orjson.loads(k) for k, _v in records] for _t, _p, records in producer.batches]
    assert [p for _t, p, _r in producer.batches] == [0, 0, 1]
    assert keys == [['["k",0]', '["k",2]'], ['["k",4]'], ['["k",1]', '["k",3]']]


def test_changelog_records_take_memory_for_their_length_not_orjsons_buffer():
    """orjson 3.12+ returns results in 4 KiB buffers; a flush holds thousands of records."""
    app = App("changelog-memory", broker="kafka://localhost:1", store="memory://")
    table = app.Table("state", default=None, partitions=1)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(1_000):
            table.send_changelog(0, f'["buckets","acme","vk","5m",{i}]', {"o": i, "c": {"x": 1}})
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held < 1_000 * 600  # two short byte strings and a tuple a record, not 8 KiB


class SlowBroker(RecordingProducer):
    """Acknowledges each batch after ``delay`` seconds; nothing else buffered."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def flush(self) -> None:
        pass

    async def send_batch(self, batch: RecordingBatch, topic: str, *,
                         partition: int | None) -> asyncio.Future:
        self.batches.append((topic, partition, batch.records))
        return asyncio.ensure_future(asyncio.sleep(self.delay))


class FlushedState:
    """The pipeline as the commit sees it: one table's changes, and the flushes timed."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.seconds: list[float] = []

    def flush_state(self) -> dict[Any, set[int]]:
        self.table.send_changelog(0, '["k",1]', {"o": 1})
        return {self.table: {0}}

    def flushed(self, seconds: float) -> None:
        self.seconds.append(seconds)


def test_each_flush_before_a_commit_is_timed_until_the_broker_acknowledged_it():
    app = App("changelog-timed", broker="kafka://localhost:1", store="memory://")
    state = FlushedState(app.Table("state", default=None, partitions=1))
    app.written_behind = state
    app._producer = SlowBroker(delay=0.2)
    asyncio.run(app.before_commit())
    assert len(state.seconds) == 1
    assert 0.2 <= state.seconds[0] < 2
