"""Whatever prefix of a family's changelog survives a crash, replaying gives exact state.

State is written behind: a flush before every offset commit writes each key
changed since the last one (smm_pulse/state). Kafka keeps the writes of one
changelog partition in order, so a worker killed at any moment leaves a prefix
of them, and the committed offset is the one of the last flush that completed
(or an earlier one: at-least-once). These tests cut the changelog at every
write, replay from there, and compare with an uninterrupted run, for flushes
after every batch and after several.
"""

from __future__ import annotations

import random
from types import SimpleNamespace
from typing import Any

import orjson
import pytest

from smm_pulse.agents.engagement import Engagement
from smm_pulse.agents.family import Batch
from smm_pulse.agents.ingest import Packer
from smm_pulse.config import Config
from smm_pulse.kpi.catalog import Family
from smm_pulse.runtime.pipeline import Pipeline
from smm_pulse.streams.events import Declared, Event, parse_message
from smm_pulse.streams.internal import decode
from smm_pulse.streams.topics import TopicNames

NOW = 1_800_000_000.0
Write = tuple[str, Any]  # (key, value or None for a delete)
MAX_CRASHES = 2_000


class LoggedTable:
    """A Faust table stand-in whose changelog is a list."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.log: list[Write] = []

    def send_changelog(self, _partition: int, key: str, value: Any, **_options: Any) -> None:
        self.log.append((key, orjson.loads(orjson.dumps(value))))


class StubApp:
    """Hands out logged tables instead of Faust tables; owns every partition."""

    def __init__(self, topics: list[str]) -> None:
        self.tables: dict[str, LoggedTable] = {}
        actives = [SimpleNamespace(topic=t, partition=0) for t in topics]
        self.assignor = SimpleNamespace(assigned_actives=lambda: actives)

    def Table(self, name: str, **_options: Any) -> LoggedTable:
        return self.tables.setdefault(name, LoggedTable())


def one_brand_pipeline(top_lists: bool = False, **brand: Any) -> Pipeline:
    """A pipeline of brand "acme" (with ``brand``'s settings) over logged tables, one
    partition, windows 5m and 1h."""
    config = Config.model_validate({"brands": {"acme": brand}, "windows": ["5m", "1h"],
                                    "partitions": 1, "top_lists": top_lists})
    names = TopicNames((config.topics.engagement, config.topics.mentions), config.app_id)
    return Pipeline(config, StubApp([names.family(f) for f in Family]), names)  # type: ignore[arg-type]


class Worker:
    """The engagement family with duplicate detection, as its agent runs it."""

    def __init__(self, restored: dict[str, dict[str, Any]], top_lists: bool = False) -> None:
        self.pipeline = one_brand_pipeline(top_lists)
        self.app: StubApp = self.pipeline.app  # type: ignore[assignment]
        self.engagement = Engagement(self.pipeline)
        self.seen = self.pipeline.seen_ids(Family.ENGAGEMENT)
        self.flushes: list[tuple[int, int]] = []  # (changelog length, offset to commit)
        for name, records in restored.items():  # what changelog recovery restores
            self.app.tables[name].data.update(records)
            for key, value in records.items():
                for listener in self.pipeline.restore_listeners[Family.ENGAGEMENT]:
                    listener(key, value)

    def run(self, numbered: list[tuple[int, list[Event]]], flush_every: int,
            flush_last: bool = True) -> Any:
        for i, (offset, events) in enumerate(numbered, start=1):
            packer = Packer(lambda _brand: 0)  # as the ingest stage sends them
            packer.add("smm.engagement", events, size=0)
            [(_family, _partition, body)] = packer.messages()
            fresh, _duplicates = self.seen.split(0, offset, decode(body).blocks)
            if fresh:
                blocks = {type(block): block for block in fresh["acme"]}
                self.engagement.handle(Batch(offset, "acme", blocks, NOW))
            if i % flush_every == 0 or (flush_last and i == len(numbered)):
                self.pipeline.flush_state()
                [table] = self.app.tables.values()
                self.flushes.append((len(table.log), offset + 1))
        return self.engagement.views(NOW)


def event(kind: str, n: int, ago: float, **fields: Any) -> Event:
    raw = {"type": kind, "event_id": f"e{n}", "ts": NOW - ago, "brand": "acme",
           "platform": "vk", "account": "main", **fields}
    parsed = parse_message(orjson.dumps(raw), Declared(lambda _brand: True), NOW)
    assert not parsed.rejected, parsed.rejected
    return parsed.accepted[0]


def batches() -> list[list[Event]]:
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
    for key, value in log[:cut]:
        if value is None:
            state.pop(key, None)
        else:
            state[key] = value
    return state


def crash_points(length: int) -> list[int]:
    cuts = list(range(length + 1))
    return cuts if len(cuts) <= MAX_CRASHES else random.Random(7).sample(cuts, MAX_CRASHES)


@pytest.mark.parametrize("flush_every", [1, 2, 3])
def test_a_crash_after_any_changelog_write_replays_to_exact_values(flush_every):
    numbered = list(enumerate(batches()))
    uninterrupted = Worker({})
    expected = uninterrupted.run(numbered, flush_every)
    assert expected["acme", "vk"]["1h"].gained["likes"] > 0  # the run did count
    [(name, table)] = uninterrupted.app.tables.items()
    for cut in crash_points(len(table.log)):
        restored = {name: restored_prefix(table.log, cut)}
        # Offsets are committed after a flush completes; maybe not yet the last one.
        commits = [0] + [offset for end, offset in uninterrupted.flushes if end <= cut]
        for replay_from in set(commits[-2:]):
            replayed = Worker(restored).run(numbered[replay_from:], flush_every)
            assert replayed == expected, (cut, replay_from)


def test_changes_of_a_partition_kept_across_a_rebalance_reach_the_changelog():
    numbered = list(enumerate(batches()))
    expected = Worker({}).run(numbered, flush_every=len(numbered))
    worker = Worker({})
    worker.run(numbered[:3], flush_every=len(numbered), flush_last=False)  # no commit yet
    worker.pipeline.hold_changes({0}, Family.ENGAGEMENT)  # eager rebalance: revoked,
    worker.pipeline.resume_changes({0}, Family.ENGAGEMENT)  # and assigned back
    worker.run(numbered, flush_every=len(numbered))  # replayed from the committed offset
    [(name, table)] = worker.app.tables.items()
    next_owner = Worker({name: restored_prefix(table.log, len(table.log))})
    assert next_owner.run([], flush_every=1) == expected  # all committed: nothing to replay


def test_flushes_write_each_changed_key_once_and_posts_last():
    worker = Worker({})
    worker.run(list(enumerate(batches())), flush_every=len(batches()))
    [table] = worker.app.tables.values()
    keys = [key for key, _value in table.log]
    assert len(keys) == len(set(keys))
    sections = [orjson.loads(key)[0] for key in keys]
    assert sections.index("posts") > max(i for i, s in enumerate(sections) if s == "buckets")


def test_all_engagement_state_lives_in_one_table():
    worker = Worker({})
    worker.run(list(enumerate(batches())), flush_every=1)
    [table] = worker.app.tables.values()
    sections = {orjson.loads(key)[0] for key, _value in table.log}
    assert sections == {"buckets", "posts", "accounts", "seen"}  # top lists off: no post-buckets
