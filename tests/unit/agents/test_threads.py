"""Message threads of the response-time family: written in place, trimmed by the janitor."""

from __future__ import annotations

import orjson

from smm_pulse.agents.family import Batch
from smm_pulse.agents.response_time import Threads
from smm_pulse.kpi.catalog import Family
from smm_pulse.runtime.pipeline import Pipeline
from smm_pulse.streams.internal import Messages
from tests.unit.agents.harness import NOW, one_brand_pipeline
from tests.unit.agents.test_crash_recovery import event


def threads_of_one_brand() -> tuple[Threads, Pipeline]:
    pipeline = one_brand_pipeline()
    return Threads(pipeline), pipeline


def write(threads: Threads, offset: int, now: float, *messages: tuple[int, float, str, str]
          ) -> None:
    """Messages as (event number, seconds before NOW, thread, direction), handled at ``now``."""
    events = [event("message", n, ago, thread_id=thread, direction=direction)
              for n, ago, thread, direction in messages]
    threads.record(Batch(offset, "acme", {Messages: Messages.of(events)}, now))


def flushed(pipeline: Pipeline) -> dict[str, object]:
    """Thread values as the next flush writes them (JSON, as the changelog holds them)."""
    table = pipeline.tables[Family.RESPONSE]
    log_start = len(table.log)
    pipeline.flush_state()
    return {key: value for key, value in table.log[log_start:]}


def test_messages_past_the_window_are_dropped_by_the_janitor_and_empty_threads_deleted():
    threads, pipeline = threads_of_one_brand()
    write(threads, 0, NOW - 3_500, (1, 5_000, "old", "in"), (2, 4_000, "live", "in"))
    later = NOW  # "old" and message 2 are past the 1 h window now, not message 3
    write(threads, 1, later, (3, 100, "live", "out"))
    views = threads.views(later)
    flushed(pipeline)

    assert threads.expire(later, owned=set()) == []  # another worker's partition: kept whole
    assert flushed(pipeline) == {}
    assert threads.expire(later, owned={0}) == [("acme", "vk", "main", "old")]

    assert threads.views(later) == views  # nothing past the window counted anyway
    [(key, value)] = flushed(pipeline).items()  # the trimmed thread is written again
    assert orjson.loads(key)[1:] == ["acme", "vk", "main", "live"]
    assert value == {"in": {}, "out": {"e3": NOW - 100}}


def test_a_message_written_again_changes_nothing():
    threads, pipeline = threads_of_one_brand()
    write(threads, 0, NOW, (1, 60, "t", "in"), (2, 30, "t", "out"))
    once = flushed(pipeline)
    views = threads.views(NOW)
    write(threads, 0, NOW, (2, 30, "t", "out"))  # a replayed batch
    assert flushed(pipeline) == once
    assert threads.views(NOW) == views
    assert views["acme", "vk"]["5m"].response_times == (30.0,)
