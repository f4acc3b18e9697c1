"""A KPI family's agent run batch by batch over tables whose changelog is a list.

State is written behind: a flush before every offset commit writes each key
changed since the last one (smm_pulse/state). Kafka keeps the writes of one
changelog partition in order, so a worker killed at any moment leaves a prefix
of them, and the committed offset is the one of the last flush that completed
(or an earlier one: at-least-once). ``assert_every_crash_replays_exactly``
cuts the changelog at every write, replays from there, and compares with an
uninterrupted run.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, Protocol

import orjson

from smm_pulse.agents.family import Batch
from smm_pulse.agents.ingest import Packer
from smm_pulse.config import Config
from smm_pulse.kpi.catalog import Family
from smm_pulse.runtime.pipeline import Pipeline
from smm_pulse.state import Views
from smm_pulse.streams.events import Declared, Event, parse_message
from smm_pulse.streams.internal import decode
from smm_pulse.streams.topics import TopicNames

NOW = 1_800_000_000.0
Write = tuple[str, Any]  # (key, value or None for a delete)
Numbered = list[tuple[int, list[Event]]]  # batches at their input offsets
Restored = dict[str, dict[str, Any]]  # table name -> what changelog recovery restores
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


def events(**common: Any) -> Callable[..., Event]:
    """A maker of brand "acme"'s vk events, ``(type, n, seconds ago, **fields)``, as the
    ingest stage accepts them at ``NOW``; each with ``common`` fields and id ``e<n>``."""

    def event(type_: str, n: int, ago: float, /, **fields: Any) -> Event:
        raw = {"type": type_, "event_id": f"e{n}", "ts": NOW - ago, "brand": "acme",
               "platform": "vk", **common, **fields}
        parsed = parse_message(orjson.dumps(raw), Declared(lambda _brand: True), NOW)
        assert not parsed.rejected, parsed.rejected
        return parsed.accepted[0]

    return event


class Handler(Protocol):
    def handle(self, batch: Batch) -> None: ...

    def views(self, now: float) -> Views: ...


def views_now(handler: Handler) -> Views:
    return handler.views(NOW)


class FamilyWorker:
    """One family's handler with duplicate detection, as its agent runs it; a run returns
    what ``read`` reads of the handler (its views at ``NOW`` unless told otherwise)."""

    def __init__(self, family: Family, make: Callable[[Pipeline], Handler], restored: Restored,
                 top_lists: bool = False, brand: dict[str, Any] | None = None,
                 read: Callable[[Any], Any] = views_now) -> None:
        self.family = family
        self.read = read
        self.pipeline = one_brand_pipeline(top_lists, **(brand or {}))
        self.app: StubApp = self.pipeline.app  # type: ignore[assignment]
        self.handler = make(self.pipeline)
        self.seen = self.pipeline.seen_ids(family)
        self.flushes: list[tuple[int, int]] = []  # (changelog length, offset to commit)
        for name, records in restored.items():  # what changelog recovery restores
            self.app.tables[name].data.update(records)
            for key, value in records.items():
                for listener in self.pipeline.restore_listeners[family]:
                    listener(key, value)

    @property
    def table(self) -> tuple[str, LoggedTable]:
        """The family's one table: all its state lives in one."""
        [(name, table)] = self.app.tables.items()
        return name, table

    def run(self, numbered: Numbered, flush_every: int = 1, flush_last: bool = True) -> Any:
        for i, (offset, events) in enumerate(numbered, start=1):
            packer = Packer(lambda _brand: 0)  # as the ingest stage sends them
            packer.add("smm.engagement", events, size=0)
            [(family, _partition, body)] = packer.messages()
            assert family is self.family
            fresh, _duplicates = self.seen.split(0, offset, decode(body).blocks)
            if fresh:
                blocks = {type(block): block for block in fresh["acme"]}
                self.handler.handle(Batch(offset, "acme", blocks, NOW))
            if i % flush_every == 0 or (flush_last and i == len(numbered)):
                self.pipeline.flush_state()
                self.flushes.append((len(self.table[1].log), offset + 1))
        return self.read(self.handler)

    def flushed_sections(self) -> list[str]:
        """The section of every changelog write, in order."""
        return [orjson.loads(key)[0] for key, _value in self.table[1].log]


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


def assert_every_crash_replays_exactly(restart: Callable[[Restored], FamilyWorker],
                                       numbered: Numbered, flush_every: int) -> Any:
    """An uninterrupted run's views equal those of every run restored from a prefix of its
    changelog and replayed from an offset committed by then; returns them."""
    uninterrupted = restart({})
    expected = uninterrupted.run(numbered, flush_every)
    name, table = uninterrupted.table
    for cut in crash_points(len(table.log)):
        restored = {name: restored_prefix(table.log, cut)}
        # Offsets are committed after a flush completes; maybe not yet the last one.
        commits = [0] + [offset for end, offset in uninterrupted.flushes if end <= cut]
        for replay_from in set(commits[-2:]):
            replayed = restart(restored).run(numbered[replay_from:], flush_every)
            assert replayed == expected, (cut, replay_from)
    return expected


def assert_changes_kept_across_a_rebalance_reach_the_changelog(
        restart: Callable[[Restored], FamilyWorker], numbered: Numbered) -> None:
    """A partition revoked and assigned back before a commit, then replayed: the next owner
    restores exactly what a run without the rebalance gives."""
    everything = len(numbered)
    expected = restart({}).run(numbered, flush_every=everything)
    worker = restart({})
    worker.run(numbered[:3], flush_every=everything, flush_last=False)  # no commit yet
    worker.pipeline.hold_changes({0}, worker.family)  # eager rebalance: revoked,
    worker.pipeline.resume_changes({0}, worker.family)  # and assigned back
    worker.run(numbered, flush_every=everything)  # replayed from the committed offset
    name, table = worker.table
    next_owner = restart({name: restored_prefix(table.log, len(table.log))})
    assert next_owner.run([], flush_every=1) == expected  # all committed: nothing to replay
