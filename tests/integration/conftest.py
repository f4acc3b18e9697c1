"""Real parts for integration tests: the embedded broker over TCP, the service as users run it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from smm_pulse.runtime.broker import EmbeddedBroker

SERVICE_START_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    log = tmp_path_factory.mktemp("broker") / "tansu.log"
    with EmbeddedBroker(port=free_port(), log_file=log) as running:
        yield running


@pytest.fixture(scope="module")
def service(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory,
            request: pytest.FixtureRequest) -> Iterator[Service]:
    """One service for a test module, configured by the module's ``CONFIG``."""
    tmp = tmp_path_factory.mktemp("service")
    running = Service(write_config(tmp / "smm.yaml", request.module.CONFIG), broker.bootstrap,
                      tmp / "service.log").start()
    yield running
    running.stop()


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


class Service:
    """``smm-pulse up`` in a subprocess, pointed at the test broker."""

    def __init__(self, config: Path, bootstrap: str, log: Path,
                 extra_env: dict[str, str] | None = None) -> None:
        self.config = config
        self.bootstrap = bootstrap
        self.extra_env = extra_env or {}
        self.port = free_port()
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "SMM_KAFKA_BOOTSTRAP": self.bootstrap, **self.extra_env}

    def start(self) -> Service:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "smm_pulse.cli", "up", "--config", str(self.config),
                 "--port", str(self.port), "--loglevel", "info",
                 "--data-dir", str(self.log.parent / f"data-{self.port}")],
                stdout=log, stderr=subprocess.STDOUT, env=self.env,
            )
        deadline = time.monotonic() + SERVICE_START_TIMEOUT
        while not self.is_ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"service did not become ready; see {self.log}")
            time.sleep(0.5)
        return self

    def is_ready(self) -> bool:
        return b"[^Worker]: Ready" in self.log.read_bytes() and self._metrics_text() is not None

    def _metrics_text(self, names: tuple[str, ...] = ()) -> str | None:
        try:
            response = requests.get(f"http://127.0.0.1:{self.port}/metrics",
                                    params={"name[]": list(names)}, timeout=5)
        except requests.RequestException:
            return None
        return response.text if response.ok else None

    def metrics(self, names: tuple[str, ...] = ()) -> Samples:
        """Every sample on /metrics, or those of the metrics ``names`` (``?name[]=``)."""
        samples: Samples = {}
        for family in text_string_to_metric_families(self._metrics_text(names) or ""):
            for sample in family.samples:
                samples[sample.name, frozenset(sample.labels.items())] = sample.value
        return samples

    def feed(self, lines: list[bytes], tmp: Path) -> str:
        source = tmp / f"feed-{uuid.uuid4().hex}.jsonl"
        source.write_bytes(b"\n".join(lines) + b"\n")
        done = subprocess.run(
            [sys.executable, "-m", "smm_pulse.cli", "feed", str(source), "--config",
             str(self.config), "--quiet"],
            env=self.env, capture_output=True, check=True, timeout=120,
        )
        return done.stdout.decode()

    def wait_for_events(self, total: int, timeout: float = 90.0) -> Samples:
        """Metrics once ``smm_events_total`` has counted ``total`` events in all."""
        deadline = time.monotonic() + timeout
        while True:
            samples = self.metrics()
            counted = sum(v for (name, _), v in samples.items() if name == "smm_events_total")
            if counted >= total or time.monotonic() > deadline:
                assert counted == total, f"counted {counted} events, expected {total}"
                return samples
            time.sleep(0.3)

    def rules(self, path: Path) -> Path:
        """``smm-pulse rules`` for this service's configuration, written to ``path``."""
        path.write_bytes(subprocess.run(
            [sys.executable, "-m", "smm_pulse.cli", "rules", "--config", str(self.config)],
            capture_output=True, check=True, env=self.env).stdout)
        return path

    def stop(self, sig: int = signal.SIGINT) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Prometheus:
    """A real Prometheus server scraping the service every second, with our rule file."""

    def __init__(self, workdir: Path) -> None:
        self.binary = shutil.which("prometheus")
        assert self.binary, "prometheus is missing: apt-get install prometheus"
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, target_port: int, rules: Path,
              alertmanager: Alertmanager | None = None) -> Prometheus:
        config = self.workdir / "prometheus.yml"
        alerting = ({"alerting": {"alertmanagers": [{"static_configs": [
            {"targets": [f"127.0.0.1:{alertmanager.port}"]}]}]}} if alertmanager else {})
        config.write_text(yaml.safe_dump({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(rules)],
            "scrape_configs": [{"job_name": "smm-pulse", "static_configs": [
                {"targets": [f"127.0.0.1:{target_port}"]}]}],
            **alerting,
        }))
        with open(self.workdir / "prometheus.log", "ab") as log:
            self.process = subprocess.Popen(
                [str(self.binary), f"--config.file={config}",
                 f"--storage.tsdb.path={self.workdir / 'tsdb'}",
                 f"--web.listen-address=127.0.0.1:{self.port}"], stdout=log, stderr=log)
        return self

    def api(self, path: str, **params: str) -> Any:
        """The ``data`` of a successful HTTP API answer."""
        answer = requests.get(f"http://127.0.0.1:{self.port}/api/v1/{path}", params=params,
                              timeout=10).json()
        assert answer["status"] == "success", answer
        return answer["data"]

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=30)


class Alertmanager:
    """A real Alertmanager whose one receiver is a webhook in this process: what it
    delivers (Alertmanager's webhook payloads) is kept in ``received``."""

    def __init__(self, workdir: Path) -> None:
        self.binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
        assert self.binary, "alertmanager is missing: apt-get install prometheus-alertmanager"
        self.workdir = workdir
        self.port = free_port()
        self.received: list[dict[str, Any]] = []
        self.process: subprocess.Popen[bytes] | None = None
        self.hook: ThreadingHTTPServer | None = None

    def _serve_hook(self) -> int:
        received = self.received

        class Hook(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.hook = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
        threading.Thread(target=self.hook.serve_forever, daemon=True).start()
        return self.hook.server_address[1]

    def start(self) -> Alertmanager:
        config = self.workdir / "alertmanager.yml"
        config.write_text(yaml.safe_dump({
            "route": {"receiver": "hook", "group_by": ["alertname", "brand"],
                      "group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h"},
            "receivers": [{"name": "hook", "webhook_configs": [
                {"url": f"http://127.0.0.1:{self._serve_hook()}/", "send_resolved": False}]}],
        }))
        with open(self.workdir / "alertmanager.log", "ab") as log:
            # No cluster listener: tests on one machine must not share a gossip port.
            self.process = subprocess.Popen(
                [str(self.binary), f"--config.file={config}",
                 f"--storage.path={self.workdir / 'alertmanager-data'}",
                 f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address="],
                stdout=log, stderr=log)
        return self

    def alerts(self) -> list[dict[str, Any]]:
        """Every alert delivered to the webhook so far."""
        return [alert for payload in list(self.received) for alert in payload["alerts"]]

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=30)
        if self.hook:
            self.hook.shutdown()


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[Alertmanager]:
    server = Alertmanager(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[Prometheus]:
    server = Prometheus(tmp_path)
    yield server
    server.stop()


def wait_until(check: Callable[[], None], timeout: float = 120.0) -> None:
    """Retry ``check`` until it stops raising AssertionError; re-raise after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            check()
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def write_config(path: Path, body: str) -> Path:
    """A configuration with its own app id and topics, so tests sharing a broker stay apart."""
    tag = uuid.uuid4().hex[:8]
    topics = (f"topics: {{engagement: t{tag}.engagement, mentions: t{tag}.mentions, "
              f"dlq: t{tag}.dlq}}\napp_id: test-{tag}\n")
    path.write_text(body + "\n" + topics, encoding="utf-8")
    return path
