"""How the web port serves heavy responses: shared renders, renders in slices, gzip,
sending spread over turns of the loop."""

from __future__ import annotations

import asyncio
import gzip
from collections import Counter
from types import SimpleNamespace

import pytest

from smm_pulse.runtime.faust_app import FAUST_VIEWS_OFF, check_faust_views_off
from smm_pulse.web.render import (
    BytesPerTurn,
    Encoded,
    SharedRender,
    in_slices,
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class CountingRender:
    """A render that waits until released, numbering its results."""

    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()

    async def __call__(self) -> bytes:
        self.calls += 1
        await self.release.wait()
        return f"render {self.calls}".encode()


def test_concurrent_requests_share_one_render():
    async def scenario() -> tuple[int, set[bytes]]:
        render = CountingRender()
        shared = SharedRender(render, max_age=1.0, clock=Clock())
        requests = [asyncio.create_task(shared.get()) for _ in range(50)]
        await asyncio.sleep(0)
        render.release.set()
        bodies = set(await asyncio.gather(*requests))
        return render.calls, bodies

    assert asyncio.run(scenario()) == (1, {b"render 1"})


def test_a_request_within_max_age_of_the_last_render_gets_its_bytes():
    async def scenario() -> list[bytes]:
        render = CountingRender()
        render.release.set()
        clock = Clock()
        shared = SharedRender(render, max_age=1.0, clock=clock)
        got = [await shared.get()]
        clock.now = 0.9
        got.append(await shared.get())
        clock.now = 1.0
        got.append(await shared.get())
        return got

    assert asyncio.run(scenario()) == [b"render 1", b"render 1", b"render 2"]


def test_a_request_hanging_up_does_not_cancel_the_render_others_await():
    async def scenario() -> bytes:
        render = CountingRender()
        shared = SharedRender(render, clock=Clock())
        leaving = asyncio.create_task(shared.get())
        staying = asyncio.create_task(shared.get())
        await asyncio.sleep(0)
        leaving.cancel()
        await asyncio.sleep(0)
        render.release.set()
        return await staying

    assert asyncio.run(scenario()) == b"render 1"


def test_a_failed_render_fails_its_requests_and_the_next_request_renders_again():
    async def scenario() -> tuple[list[object], bytes]:
        outcomes = iter([RuntimeError("state moved"), b"fine"])

        async def render() -> bytes:
            outcome = next(outcomes)
            if isinstance(outcome, Exception):
                raise outcome
            return outcome

        shared = SharedRender(render, clock=Clock())
        failed = await asyncio.gather(shared.get(), shared.get(), return_exceptions=True)
        return failed, await shared.get()

    failed, later = asyncio.run(scenario())
    assert [str(error) for error in failed] == ["state moved", "state moved"]
    assert later == b"fine"


def test_slices_give_the_loop_a_turn_once_their_time_is_up():
    """Items cost 1 ms each on a fake clock and slices last 2.5 ms: three items a slice."""

    async def scenario() -> tuple[list[int], list[int]]:
        clock = Clock()
        taken: list[int] = []
        seen_by_others: list[int] = []  # items taken whenever another task ran

        def take(item: int) -> None:
            taken.append(item)
            clock.now += 0.001

        async def other_task() -> None:
            while len(taken) < 12:
                seen_by_others.append(len(taken))
                await asyncio.sleep(0)

        other = asyncio.create_task(other_task())
        await asyncio.sleep(0)
        await in_slices(range(12), take, seconds=0.0025, clock=clock)
        await other
        return taken, seen_by_others

    taken, seen_by_others = asyncio.run(scenario())
    assert taken == list(range(12))
    assert seen_by_others == [0, 3, 6, 9]


def test_the_gzipped_body_decompresses_to_the_body():
    body = b"# HELP x y\n" + b'smm_x{brand="a"} 1.0\n' * 10_000
    encoded = asyncio.run(Encoded.of(body))
    assert encoded.plain == body
    assert gzip.decompress(encoded.gzipped) == body
    assert len(encoded.gzipped) < len(body) / 10


def test_faust_settings_with_every_view_off_pass_the_check():
    check_faust_views_off(SimpleNamespace(**FAUST_VIEWS_OFF))


@pytest.mark.parametrize("setting", sorted(FAUST_VIEWS_OFF))
def test_a_view_left_on_or_a_setting_faust_lacks_stops_the_start(setting):
    on = SimpleNamespace(**{**FAUST_VIEWS_OFF, setting: True})
    with pytest.raises(RuntimeError, match=setting):
        check_faust_views_off(on)
    unknown = SimpleNamespace(**{k: v for k, v in FAUST_VIEWS_OFF.items() if k != setting})
    with pytest.raises(RuntimeError, match=setting):
        check_faust_views_off(unknown)


async def turns_passed(gate: BytesPerTurn, sizes: list[int], cancel: int | None = None
                       ) -> dict[int, int]:
    """The turn of the loop in which each request (by index) got through the gate."""
    loop = asyncio.get_running_loop()
    turn = 0

    def tick() -> None:
        nonlocal turn
        turn += 1
        loop.call_soon(tick)

    loop.call_soon(tick)
    passed: dict[int, int] = {}

    async def request(i: int, size: int) -> None:
        await gate.wait(size)
        passed[i] = turn

    tasks = [asyncio.create_task(request(i, size)) for i, size in enumerate(sizes)]
    if cancel is not None:
        await asyncio.sleep(0)
        tasks[cancel].cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return passed


def test_requests_get_through_a_budget_of_bytes_a_turn_in_order():
    passed = asyncio.run(turns_passed(BytesPerTurn(budget=20), [10] * 5))
    turns = sorted(set(passed.values()))
    assert [passed[i] for i in range(5)] == sorted(passed.values())  # in order
    assert [Counter(passed.values())[t] for t in turns] == [2, 2, 1]


def test_a_body_larger_than_the_budget_gets_a_turn_of_its_own():
    passed = asyncio.run(turns_passed(BytesPerTurn(budget=20), [50, 50, 5]))
    assert passed[0] < passed[1] < passed[2]


def test_a_request_cancelled_while_waiting_does_not_hold_up_the_rest():
    passed = asyncio.run(turns_passed(BytesPerTurn(budget=10), [10, 10, 10, 10], cancel=1))
    assert sorted(passed) == [0, 2, 3]
