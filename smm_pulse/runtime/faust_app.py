"""Faust, as this service runs it: every override of a private Faust API is here.

Checked against faust-streaming 0.15.3 (pyproject.toml pins >=0.15.3,<0.16);
tests/unit/runtime/test_faust_internals.py fails if the Faust behaviour each
override relies on changes:

- ``Table.send_changelog``: records wait for the app's flush instead of
  Faust's producer buffer (``App.changelog``).
- ``TableManager.on_start``: without the second Faust sleeps for late tables.
- ``App.on_started``: tasks that start before table recovery.
- ``App._new_transport``: our consumer (smm_pulse/runtime/transport.py).
- ``App._send_changelog``: aiokafka's producer (``_ensure_producer``) for
  record batches, which Faust's producer has no API for.
- ``App._new_web``: Faust's web driver without its index at ``/`` (the service
  serves its own there: smm_pulse/web/page.py).
"""

from __future__ import annotations

import asyncio
import functools
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import faust
from faust.web import drivers as web_drivers

from smm_pulse.config import Kafka
from smm_pulse.runtime.broker import end_offsets_skip_last_batch
from smm_pulse.runtime.transport import Transport
from smm_pulse.streams import codec


class WrittenBehind(Protocol):
    """State whose changes the app makes durable before each offset commit (the pipeline)."""

    def flush_state(self) -> Mapping[Any, set[int]]:
        """Queue every change as changelog records; the partitions written, per table."""
        ...

    def flushed(self, seconds: float) -> None:
        """A flush, its records acknowledged, took ``seconds``."""
        ...

# Producer record batches (aiokafka's default: 16 KiB). A producer keeps one batch in
# flight per partition, so a flush of thousands of changelog records took a broker
# round trip per 16 KiB; on a busy event loop each took a loop turn too: 5-30 s a
# flush at 11,000 events/s (docs/benchmarks.md, "State written behind, flushed in record
# batches"). Under the brokers' 1 MB request limit.
PRODUCER_BATCH_BYTES = 512 * 1024

END_MARKER_KEY = '["~end"]'  # a tombstone no section owns


def changelog_end_markers(choice: str, bootstrap: str, settings: Kafka) -> bool:
    """Whether each flush ends with a one-record batch per changelog partition (docs/design.md);
    ``choice``: auto, on or off (the configuration's ``changelog_end_markers``)."""
    return choice == "on" or (choice == "auto" and end_offsets_skip_last_batch(bootstrap,
                                                                               settings))



class Table(faust.Table):
    """A Faust table whose changelog records are sent by the app's flush, not one by one.

    Faust's ``send_changelog`` puts each record in its producer buffer, which
    is drained one record at a time, and every incoming message waits while
    that buffer holds over 100: a flush of thousands of keys held up every
    agent for seconds (docs/benchmarks.md, "State written behind"). Records wait in
    ``App.changelog`` for ``App.before_commit``, which hands them all to the
    producer at once (it batches them; order within a partition is kept).
    """

    def send_changelog(  # type: ignore[override]  # nothing to await per record
        self,
        partition: int | None,
        key: str,
        value: Any,
        key_serializer: Any = None,
        value_serializer: Any = None,
    ) -> None:
        """Keys and values as JSON, the table's serializers; a ``None`` value is a tombstone.

        Encoded by orjson directly (streams/codec.py), the bytes Faust's JSON
        serializers write (tests/unit/test_changelog_sends.py): their chain of
        calls cost as much as the encoding. The serializer arguments (Faust's
        signature) are unused.
        """
        self.app.changelog.append((self._changelog_name, partition, codec.dumps(key),
                                   None if value is None else codec.dumps(value)))

    @functools.cached_property
    def _changelog_name(self) -> str:
        return self.changelog_topic.get_topic_name()


class TableManager(faust.tables.TableManager):
    """Faust's, without the second it sleeps at start for tables declared late.

    Every table here is declared by ``create_pipeline`` before the app starts
    (a later one fails: "Too late to add tables"), so the sleep only delayed
    the consumer's subscription, and readiness, by a second.
    """

    async def on_start(self) -> None:
        if not self.should_stop:
            await self._update_channels()
            await self.recovery.start()


class App(faust.App):
    """Faust's app with our consumer (runtime/transport.py) and table state written behind."""

    # Not ``state``: mode's services name their lifecycle (running, stopping...) so.
    written_behind: WrittenBehind | None = None
    end_markers = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, Table=Table, TableManager=TableManager, **kwargs)
        # (topic, partition, key, value) of changelog records not yet sent
        self.changelog: list[tuple[str, int | None, bytes | None, bytes | None]] = []
        # Started once the app's services are, without waiting for table recovery.
        self.tasks_before_recovery: list[Callable[[], Awaitable[None]]] = []

    async def on_started(self) -> None:
        """Start ``tasks_before_recovery``, then what Faust starts after recovery.

        Faust starts ``app.task`` tasks only once the tables are recovered,
        after its consumer group join. The ingest stage needs no table: started
        here its own group join overlaps Faust's instead of following it (each
        takes half the session timeout on Tansu; docs/benchmarks.md, "Ingest started
        with the app's services").
        """
        for task in self.tasks_before_recovery:
            self.add_future(task())
        await super().on_started()

    def _new_transport(self) -> Transport:
        return Transport(self.conf.broker_consumer, self)

    def _new_web(self) -> Any:
        # Faust mounts a production index at / when statistics are off; a second GET route
        # there is refused by aiohttp, so the driver here mounts none.
        driver = web_drivers.by_url(self.conf.web)
        return type(driver.__name__, (driver,), {"production_blueprints": []})(self)

    async def before_commit(self) -> None:
        """Make the tables' changes durable; the consumer commits offsets only after this.

        Where the broker reports a changelog's end at the start of its last
        batch (Tansu), a flush ends with a tombstone sent alone per partition,
        so recovery reads every record up to it.
        """
        if self.written_behind is None:
            return
        started = time.perf_counter()
        written = self.written_behind.flush_state()
        await self.producer.flush()  # what agents sent with send_soon (voice forwards)
        await self._send_changelog()
        if self.end_markers and written:
            for table, partitions in written.items():
                for partition in partitions:
                    table.send_changelog(partition, END_MARKER_KEY, None)
            await self._send_changelog()
        self.written_behind.flushed(time.perf_counter() - started)

    async def _send_changelog(self) -> None:
        """Send the changelog records flushed so far and wait for the broker.

        Record batches per partition are built here: aiokafka's send per record
        (a future, a metadata lookup and a callback each) cost a flush of
        thousands of records more than building the records did.
        """
        records, self.changelog = self.changelog, []
        by_partition: dict[tuple[str, int | None], list[tuple[bytes | None, bytes | None]]] = {}
        for topic, partition, key, value in records:
            by_partition.setdefault((topic, partition), []).append((key, value))
        producer = self.producer._ensure_producer()  # aiokafka's: Faust's has no batch API
        sent = []
        for (topic, partition), items in by_partition.items():
            batch = producer.create_batch()
            for key, value in items:
                if batch.append(key=key, value=value, timestamp=None) is None:  # full
                    sent.append(await producer.send_batch(batch, topic, partition=partition))
                    batch = producer.create_batch()
                    batch.append(key=key, value=value, timestamp=None)  # the first always fits
            sent.append(await producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*sent)


def reachable_host(web_bind: str) -> str:
    """The host other workers can reach us at: our name when bound to every interface."""
    return socket.getfqdn() if web_bind in ("0.0.0.0", "::") else web_bind


# Faust's built-in views, each turned off by its own setting (checked against
# faust-streaming 0.15.3): /table reads table keys (a post's snapshot, follower
# histories, thread event ids), /router lists the workers and who owns a key, /
# with statistics (and /assignment/), /graph and /performance/ describe the
# worker's internals. With statistics off Faust would mount its production index at
# / (``App._new_web`` does not: the live page is there). The API's redirect to a
# brand's owner reads the assignor's table metadata, not /router: it needs none of them.
FAUST_VIEWS_OFF: dict[str, bool] = {
    "web_tables_enabled": False,
    "web_router_enabled": False,
    "web_stats_enabled": False,
    "web_graph_enabled": False,
    "web_metrics_enabled": False,
}


def check_faust_views_off(conf: Any) -> None:
    """Refuse to start when Faust would still serve a view we turned off.

    Faust ignores settings it does not know (a Faust without these settings
    serves every view) and lets ``APP_WEB_*`` variables override what the app sets.
    """
    on = [name for name in FAUST_VIEWS_OFF if getattr(conf, name, True) is not False]
    if on:
        raise RuntimeError(
            f"Faust would serve its built-in views ({', '.join(on)}): the installed "
            "faust-streaming lacks these settings (0.15.3 has them), or an APP_WEB_* "
            "variable turns them on")
