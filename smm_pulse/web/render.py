"""How heavy responses of the web port share the event loop with the agents.

Renders run on the event loop (they read state the agents change there) in
slices of a few milliseconds, so events keep flowing while a large response is
built; ``SharedRender`` lets concurrent requests share one render,
``Encoded`` keeps it gzipped too, for clients that accept it (Prometheus does),
and ``BytesPerTurn`` spreads the sending of it to many clients over turns of
the loop. What the port serves at all is set in smm_pulse/runtime/faust_app.py
(Faust's own views are off).
"""

from __future__ import annotations

import asyncio
import gzip
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


# How long a render runs before the event loop gets a turn: short enough that an
# event waits a few milliseconds for it, long enough that the turns cost little.
SLICE_SECONDS = 0.002


async def in_slices(items: Iterable[T], take: Callable[[T], object],
                    seconds: float = SLICE_SECONDS,
                    clock: Callable[[], float] = time.perf_counter) -> None:
    """Pass each item to ``take``, letting the event loop run every ``seconds`` of work.

    ``items`` is pulled on the loop's thread, so it may read state the loop's
    other tasks change (each item sees the state as of its own slice).
    """
    deadline = clock() + seconds
    for item in items:
        take(item)
        if clock() > deadline:
            await asyncio.sleep(0)
            deadline = clock() + seconds


class SharedRender(Generic[T]):
    """A response rendered once for every request that wants it at about that time.

    A request within ``max_age`` seconds of the end of the last render gets
    that render; a request while a render runs awaits that render rather than
    starting its own. So the work per second stays bounded however many
    clients ask at once.
    """

    def __init__(self, render: Callable[[], Awaitable[T]], max_age: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._render = render
        self.max_age = max_age
        self._clock = clock
        self._last: T | None = None
        self._rendered_at = -math.inf
        self._running: asyncio.Future[T] | None = None

    async def get(self) -> T:
        if self._last is not None and self._clock() - self._rendered_at < self.max_age:
            return self._last
        if self._running is None:
            self._running = asyncio.ensure_future(self._refresh())
            # Read its outcome even when every requester has gone (no "never retrieved").
            self._running.add_done_callback(lambda done: done.cancelled() or done.exception())
        # Shielded: a client hanging up cancels its own request, not the render others await.
        return await asyncio.shield(self._running)

    async def _refresh(self) -> T:
        try:
            rendered = await self._render()
        finally:
            self._running = None  # a failed render is tried afresh by the next request
        self._last, self._rendered_at = rendered, self._clock()
        return rendered


# Level 1: /metrics text shrinks ~20 times, in a few milliseconds per megabyte.
GZIP_LEVEL = 1


@dataclass(frozen=True)
class Encoded:
    """A body as is and gzipped: sending megabytes to each of many scrapers took the
    loop longer than rendering them once (docs/design.md, "Serving /metrics")."""

    plain: bytes
    gzipped: bytes

    @classmethod
    async def of(cls, body: bytes) -> Encoded:
        # In a thread: zlib releases the interpreter lock while it compresses.
        return cls(body, await asyncio.to_thread(gzip.compress, body, GZIP_LEVEL))


# Bytes of responses handed to sockets per turn of the loop: 200 scrapers given 2.3 MB
# each in one turn held the loop up to 290 ms; ten a turn, under 60 ms (docs/design.md).
SEND_BYTES_PER_TURN = 24 * 1024 * 1024


class BytesPerTurn:
    """Lets callers through, in order, until ``budget`` bytes a turn of the event loop;
    the rest wait for later turns (the first of a turn always passes).

    A response is written when its handler returns, so many handlers woken at
    once (by one ``SharedRender``) would all write in one turn, events waiting
    behind them.
    """

    def __init__(self, budget: int = SEND_BYTES_PER_TURN) -> None:
        self.budget = budget
        self._spent = 0
        self._waiting: deque[tuple[asyncio.Future[None], int]] = deque()
        self._turn_scheduled = False

    async def wait(self, size: int) -> None:
        if not self._waiting and (self._spent == 0 or self._spent + size <= self.budget):
            self._spent += size
            self._schedule_turn()
            return
        passed = asyncio.get_running_loop().create_future()
        self._waiting.append((passed, size))
        self._schedule_turn()
        await passed

    def _schedule_turn(self) -> None:
        if not self._turn_scheduled:
            self._turn_scheduled = True
            asyncio.get_running_loop().call_soon(self._next_turn)

    def _next_turn(self) -> None:
        """Starts a turn's budget and lets through what fits (a waiter wakes next turn)."""
        self._turn_scheduled = False
        self._spent = 0
        while self._waiting:
            passed, size = self._waiting[0]
            if passed.done():  # its request was cancelled
                self._waiting.popleft()
                continue
            if self._spent and self._spent + size > self.budget:
                break
            self._waiting.popleft()
            passed.set_result(None)
            self._spent += size
        if self._spent:
            self._schedule_turn()  # the next turn starts a fresh budget
