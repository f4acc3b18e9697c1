"""Repeated warnings and errors are held back to one line per interval."""

from __future__ import annotations

import logging

from smm_pulse.logs import RepeatFilter, quiet_repeats


def record(msg: str, level: int = logging.ERROR, name: str = "aiokafka") -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, (), None)


def test_a_repeated_error_passes_once_per_interval_and_says_how_many_were_held():
    now = [0.0]
    repeat = RepeatFilter(interval=5.0, clock=lambda: now[0])
    passed = []
    for _ in range(1000):  # a second of a client failing every millisecond
        line = record("Unable connect to node with id %s: %r")
        if repeat.filter(line):
            passed.append(line.getMessage() if not line.args else line.msg)
        now[0] += 0.001
    now[0] = 5.5
    later = record("Unable connect to node with id %s: %r")
    assert repeat.filter(later)
    assert len(passed) == 1
    assert later.msg.endswith("(999 more like this in the last 6 s)")


def test_different_failures_and_info_lines_are_never_held_back():
    repeat = RepeatFilter(interval=5.0, clock=lambda: 0.0)
    assert repeat.filter(record("broker down"))
    assert repeat.filter(record("commit failed"))
    assert repeat.filter(record("broker down", name="faust"))
    assert all(repeat.filter(record("progress", logging.INFO)) for _ in range(3))
    assert not repeat.filter(record("broker down"))


def test_the_same_template_with_another_exception_is_not_held_back():
    repeat = RepeatFilter(interval=5.0, clock=lambda: 0.0)

    def failed(error: Exception) -> logging.LogRecord:
        line = record("agent failed on a message")
        line.exc_info = (type(error), error, None)
        return line

    assert repeat.filter(failed(OverflowError("x")))
    assert repeat.filter(failed(KeyError("x")))
    assert not repeat.filter(failed(KeyError("y")))


def test_every_handler_gets_its_own_filter():
    logger = logging.Logger("quiet")
    first, second = logging.StreamHandler(), logging.StreamHandler()
    logger.addHandler(first)
    logger.addHandler(second)
    quiet_repeats(logger)
    line = record("broker down")
    assert all(f.filter(line) for f in (*first.filters, *second.filters))
