"""Log lines an operator can read while a dependency is down.

During a broker outage Kafka clients log the same failure many times a second
(thousands of ERROR lines in 30 s). ``RepeatFilter`` lets the first line of a
kind through, then at most one line of that kind per ``interval`` seconds,
saying how many like it were held back. A kind is the logger and the message
template, so different failures are never hidden behind each other.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

REPEAT_INTERVAL_SECONDS = 5.0


class RepeatFilter(logging.Filter):
    """Passes a repeated warning or error at most once per ``interval`` seconds."""

    def __init__(self, interval: float = REPEAT_INTERVAL_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interval = interval
        self.clock = clock
        self._last: dict[tuple[str, str, str], float] = {}  # kind -> when a line last passed
        self._held: dict[tuple[str, str, str], int] = {}  # kind -> lines held back since

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        # The template as logged (another handler's filter may have added its count), and
        # the exception's type: different failures are never held behind each other.
        template = record.__dict__.setdefault("smm_template", str(record.msg))
        error = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
        kind = (record.name, template, error)
        now = self.clock()
        last = self._last.get(kind)
        if last is not None and now - last < self.interval:
            self._held[kind] = self._held.get(kind, 0) + 1
            return False
        if len(self._last) > 10_000:  # bounded: kinds are templates, but be safe
            self._last.clear()
        self._last[kind] = now
        held = self._held.pop(kind, 0)
        if held:
            record.msg = f"{record.msg} ({held} more like this in the last {now - last:.0f} s)"
        return True


def quiet_repeats(logger: logging.Logger) -> None:
    """Install a ``RepeatFilter`` of its own on every handler of ``logger`` (the root
    logger): a shared one would let a line through the first handler only."""
    for handler in logger.handlers:
        handler.addFilter(RepeatFilter())
