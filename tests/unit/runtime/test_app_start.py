"""The ingest stage starts with the app's services, not once table recovery is over."""

from __future__ import annotations

import asyncio

from smm_pulse.runtime.faust_app import App


def test_tasks_before_recovery_run_while_recovery_is_still_pending():
    async def scenario() -> None:
        app = App("start-order", broker="kafka://127.0.0.1:1")  # never connects here
        recovery_done = asyncio.Event()
        ingest_started = asyncio.Event()

        async def recovery() -> bool:  # what Faust's on_started waits for
            await recovery_done.wait()
            return False

        async def ingest() -> None:
            ingest_started.set()

        app._wait_for_table_recovery_completed = recovery  # type: ignore[method-assign]
        app.tasks_before_recovery.append(ingest)
        started = asyncio.create_task(app.on_started())
        await asyncio.wait_for(ingest_started.wait(), timeout=5)
        assert not started.done(), "the app waits for recovery after starting the ingest"
        recovery_done.set()
        await asyncio.wait_for(started, timeout=5)

    asyncio.run(scenario())
