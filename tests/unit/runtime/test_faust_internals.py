"""What smm_pulse/runtime/faust_app.py relies on in Faust's private API.

Each override there repeats or bypasses a piece of Faust (faust-streaming
0.15.3); these tests fail when a Faust release changes that piece, so the
override is looked at again instead of silently doing something else.
"""

from __future__ import annotations

import inspect
from importlib.metadata import version

import faust
from aiokafka import AIOKafkaProducer
from faust.tables.manager import TableManager as FaustTableManager
from faust.transport.drivers import aiokafka as driver

from smm_pulse.runtime.faust_app import App, Table, TableManager


def test_faust_is_a_release_the_overrides_were_checked_against():
    major, minor, *_ = version("faust-streaming").split(".")
    assert (int(major), int(minor)) == (0, 15)


def test_the_table_managers_start_is_still_a_sleep_then_channels_then_recovery():
    # TableManager.on_start repeats Faust's without its first line, the sleep.
    lines = [line.strip() for line in inspect.getsource(FaustTableManager.on_start).splitlines()]
    body = [line for line in lines if line and not line.startswith(('"""', "async def"))]
    assert body == ["await self.sleep(1.0)", "if not self.should_stop:",
                    "await self._update_channels()", "await self.recovery.start()"]
    assert TableManager.on_start is not FaustTableManager.on_start


def test_table_send_changelog_keeps_fausts_signature():
    ours = inspect.signature(Table.send_changelog).parameters
    faust_own = inspect.signature(faust.Table.send_changelog).parameters
    assert list(ours) == list(faust_own)


def test_the_app_hooks_overridden_exist_in_faust():
    for name in ("on_started", "_new_transport", "_wait_for_table_recovery_completed"):
        assert callable(getattr(faust.App, name)), name
    assert "tasks_before_recovery" in App("internals", broker="kafka://127.0.0.1:1").__dict__


def test_fausts_producer_still_hands_out_aiokafkas_for_record_batches():
    assert callable(driver.Producer._ensure_producer)
    for name in ("create_batch", "send_batch"):
        assert callable(getattr(AIOKafkaProducer, name)), name
