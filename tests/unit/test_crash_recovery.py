"""Whatever prefix of a family's changelog survives a crash, replaying gives exact state.

Kafka keeps the writes of one changelog partition in order, so a worker killed
at any moment leaves a prefix of them; the consumer offset it committed is at
most the first batch whose writes are not all in that prefix (Faust flushes
the producer before committing). These tests cut the changelog at every write,
replay from there, and compare with an uninterrupted run.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

import orjson

from agents.app import Pipeline
from agents.engagement import Engagement
from agents.family import Batch
from agents.state import SeenEventIds
from smm_pulse.config import Config
from smm_pulse.kpi.catalog import Family
from streams.events import parse_message, to_record
from streams.topics import TopicNames

NOW = 1_800_000_000.0
Write = tuple[int, str, Any]  # (batch offset, key, value or None for a delete)
MAX_CRASHES = 2_000


class LoggedTable(dict):
    """A Faust table stand-in that logs every write, as its changelog would."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[Write] = []
        self.offset = -1  # the batch being processed

    @property
    def data(self) -> dict:
        return self

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self.log.append((self.offset, key, orjson.loads(orjson.dumps(value))))

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self.log.append((self.offset, key, None))


class StubApp:
    """Hands out logged tables instead of Faust tables."""

    def __init__(self) -> None:
        self.tables: dict[str, LoggedTable] = {}

    def Table(self, name: str, **_options: Any) -> LoggedTable:
        return self.tables.setdefault(name, LoggedTable())


class Worker:
    """The engagement family with duplicate detection, as its agent runs it."""

    def __init__(self, restored: dict[str, dict[str, Any]]) -> None:
        config = Config.model_validate({"brands": {"acme": {}}, "windows": ["5m", "1h"]})
        self.app = StubApp()
        pipeline = Pipeline(config, self.app, TopicNames(config.topics, config.app_id))  # type: ignore[arg-type]
        self.engagement = Engagement(pipeline)
        self.seen = SeenEventIds(pipeline.section(Family.ENGAGEMENT, "seen"), 7_200)
        pipeline.on_restore(Family.ENGAGEMENT, self.seen.on_changelog_value)
        for name, records in restored.items():  # what changelog recovery restores
            dict.update(self.app.tables[name], records)
            for key, value in records.items():
                for listener in pipeline.restore_listeners[Family.ENGAGEMENT]:
                    listener(key, value)

    def run(self, numbered: list[tuple[int, list[dict[str, Any]]]]) -> Any:
        for offset, events in numbered:
            for table in self.app.tables.values():
                table.offset = offset
            fresh, _duplicates = self.seen.split(events, partition=0, offset=offset)
            if fresh:
                self.engagement.handle(Batch(offset, "acme", fresh, NOW))
        return self.engagement.views(NOW)


def event(kind: str, n: int, ago: float, **fields: Any) -> dict[str, Any]:
    raw = {"type": kind, "event_id": f"e{n}", "ts": NOW - ago, "brand": "acme",
           "platform": "vk", "account": "main", **fields}
    parsed = parse_message(orjson.dumps(raw), lambda _brand: True, NOW)
    assert not parsed.rejected, parsed.rejected
    return orjson.loads(orjson.dumps(to_record(parsed.accepted[0])))


def batches() -> list[list[dict[str, Any]]]:
    """Snapshots of two posts over several batches, interactions, followers, a duplicate."""
    return [
        [event("account_metrics", 1, 600, followers=1000),
         event("post_metrics", 2, 500, post_id="p1", likes=10, reach=100)],
        [event("post_metrics", 3, 400, post_id="p1", likes=15, comments=2, reach=150),
         event("post_metrics", 4, 390, post_id="p2", likes=1)],
        [event("interaction", 5, 300, action="like", count=3),
         event("post_metrics", 6, 200, post_id="p1", likes=30, reach=300)],
        [event("post_metrics", 7, 100, post_id="p2", likes=8, shares=1),
         event("interaction", 5, 300, action="like", count=3),  # a duplicate id
         event("account_metrics", 8, 50, followers=1010)],
        [event("post_metrics", 9, 20, post_id="p1", likes=31, reach=310)],
    ]


def restored_prefix(log: list[Write], cut: int) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for _offset, key, value in log[:cut]:
        if value is None:
            state.pop(key, None)
        else:
            state[key] = value
    return state


def crashes(logs: dict[str, list[Write]]) -> list[dict[str, int]]:
    """Every combination of surviving prefixes, one per changelog (sampled when too many)."""
    combos = [dict(zip(logs, cuts, strict=True))
              for cuts in itertools.product(*(range(len(log) + 1) for log in logs.values()))]
    return combos if len(combos) <= MAX_CRASHES else random.Random(7).sample(combos, MAX_CRASHES)


def test_a_crash_after_any_changelog_write_replays_to_exact_values():
    numbered = list(enumerate(batches()))
    uninterrupted = Worker({})
    expected = uninterrupted.run(numbered)
    assert expected["acme", "vk"]["1h"].gained["likes"] > 0  # the run did count
    logs = {name: table.log for name, table in uninterrupted.app.tables.items()}
    for cuts in crashes(logs):
        restored = {name: restored_prefix(logs[name], cut) for name, cut in cuts.items()}
        # Faust flushes before committing: the committed offset is at most the first
        # batch with a write lost in the crash.
        committed = min((offset for name, cut in cuts.items() for offset, _k, _v
                         in logs[name][cut:]), default=len(numbered))
        for replay_from in {max(0, committed - 1), committed}:  # at-least-once: maybe earlier
            assert Worker(restored).run(numbered[replay_from:]) == expected, cuts


def test_all_engagement_state_lives_in_one_table():
    worker = Worker({})
    worker.run(list(enumerate(batches())))
    [table] = worker.app.tables.values()
    sections = {orjson.loads(key)[0] for _offset, key, _value in table.log}
    assert sections == {"buckets", "posts", "accounts", "seen"}
