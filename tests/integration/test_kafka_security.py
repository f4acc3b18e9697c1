"""The service, ``smm-pulse feed`` and the demo feeder over TLS and SASL; wrong settings stop
a command at start with one line.

TLS is real: a throwaway CA, and stunnel in front of the embedded broker, which
advertises the TLS port, so every connection of every client goes through TLS. SASL
runs the clients' own SASL code against a test gate (tests/integration/sasl_gate.py)
behind that TLS, since the embedded broker cannot authenticate (docs/kafka.md, "What
was tested").
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from smm_pulse.runtime.broker import EmbeddedBroker
from tests.integration.conftest import Service, free_port, wait_until, write_config
from tests.integration.sasl_gate import SaslGate
from tests.integration.tls import Authority, Stunnel

pytestmark = pytest.mark.integration
CONFIG = "brands:\n  acme: {}\n"
USER, PASSWORD = "collector", "s3cret-Pa55"
FAILS_WITHIN_SECONDS = 10.0


@dataclass(frozen=True)
class Pki:
    ca: Authority
    other_ca: Authority  # signed nothing the endpoints use
    server: tuple[Path, Path]
    client: tuple[Path, Path]  # for mutual TLS
    folder: Path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    ca = Authority.make(folder, "smm-test-ca")
    return Pki(ca, Authority.make(folder, "other-ca"), ca.sign(folder, "localhost"),
               ca.sign(folder, "smm-pulse-client"), folder)


@pytest.fixture(scope="module")
def tls_endpoint(pki: Pki) -> Iterator[str]:
    """host:port of TLS in front of a broker that advertises that address."""
    tls_port, broker_port = free_port(), free_port()
    with EmbeddedBroker(broker_port, pki.folder / "tls-broker.log", f"127.0.0.1:{tls_port}"):
        tunnel = Stunnel(tls_port, broker_port, *pki.server, pki.folder)
        yield f"127.0.0.1:{tls_port}"
        tunnel.stop()


@pytest.fixture(scope="module")
def mutual_tls_endpoint(pki: Pki) -> Iterator[str]:
    """host:port of TLS that lets in only clients with a certificate the test CA signed."""
    tls_port, broker_port = free_port(), free_port()
    with EmbeddedBroker(broker_port, pki.folder / "mtls-broker.log", f"127.0.0.1:{tls_port}"):
        tunnel = Stunnel(tls_port, broker_port, *pki.server, pki.folder, client_ca=pki.ca.cert)
        yield f"127.0.0.1:{tls_port}"
        tunnel.stop()


@pytest.fixture(scope="module")
def sasl_endpoint(pki: Pki) -> Iterator[tuple[str, SaslGate]]:
    """host:port of SASL over TLS: stunnel, then the SASL gate, then the broker."""
    tls_port, gate_port, broker_port = free_port(), free_port(), free_port()
    with EmbeddedBroker(broker_port, pki.folder / "sasl-broker.log", f"127.0.0.1:{tls_port}"):
        gate = SaslGate(gate_port, ("127.0.0.1", broker_port), {USER: PASSWORD}).start()
        tunnel = Stunnel(tls_port, gate_port, *pki.server, pki.folder)
        yield f"127.0.0.1:{tls_port}", gate
        tunnel.stop()
        gate.stop()


@pytest.fixture(scope="module")
def sasl_plaintext_endpoint(pki: Pki) -> Iterator[str]:
    """host:port of SASL without TLS: the SASL gate, then the broker."""
    gate_port, broker_port = free_port(), free_port()
    with EmbeddedBroker(broker_port, pki.folder / "sasl-plain-broker.log",
                        f"127.0.0.1:{gate_port}"):
        gate = SaslGate(gate_port, ("127.0.0.1", broker_port), {USER: PASSWORD}).start()
        yield f"127.0.0.1:{gate_port}"
        gate.stop()


def tls_env(pki: Pki) -> dict[str, str]:
    return {"SMM_KAFKA_SECURITY_PROTOCOL": "SSL", "SMM_KAFKA_SSL_CAFILE": str(pki.ca.cert)}


def sasl_env(pki: Pki, mechanism: str = "SCRAM-SHA-512") -> dict[str, str]:
    password_file = pki.folder / "kafka-password"
    password_file.write_text(PASSWORD + "\n")  # as secrets are often mounted
    return {"SMM_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "SMM_KAFKA_SSL_CAFILE": str(pki.ca.cert),
            "SMM_KAFKA_SASL_MECHANISM": mechanism, "SMM_KAFKA_SASL_USERNAME": USER,
            "SMM_KAFKA_SASL_PASSWORD_FILE": str(password_file)}


@pytest.fixture(scope="module")
def tls_service(tls_endpoint: str, pki: Pki,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("tls-service")
    service = Service(write_config(tmp / "smm.yaml", CONFIG), tls_endpoint, tmp / "service.log",
                      extra_env=tls_env(pki)).start()
    yield service
    service.stop()


@pytest.fixture(scope="module")
def sasl_service(sasl_endpoint: tuple[str, SaslGate], pki: Pki,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("sasl-service")
    service = Service(write_config(tmp / "smm.yaml", CONFIG), sasl_endpoint[0],
                      tmp / "service.log", extra_env=sasl_env(pki)).start()
    yield service
    service.stop()


def interactions(n: int) -> list[bytes]:
    tag = uuid.uuid4().hex[:8]
    return [orjson.dumps({"type": "interaction", "event_id": f"{tag}-{i}", "ts": time.time(),
                          "platform": "vk", "brand": "acme", "account": "main",
                          "action": "like"}) for i in range(n)]


def counted(service: Service) -> float:
    return sum(v for (name, _), v in service.metrics().items() if name == "smm_events_total")


def smm_pulse(*args: str, env: dict[str, str], timeout: float = 60
              ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "smm_pulse.cli", *args], env=env,
                          capture_output=True, text=True, timeout=timeout)


def assert_fails_with_one_line(args: list[str], env: dict[str, str], *expected: str) -> None:
    started = time.monotonic()
    done = smm_pulse(*args, env=env)
    elapsed = time.monotonic() - started
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("kafka: ")
    for part in expected:
        assert part in lines[0]
    assert elapsed < FAILS_WITHIN_SECONDS


def assert_feed_and_up_fail_with_one_line(env: dict[str, str], tmp_path: Path,
                                          *expected: str) -> None:
    """``smm-pulse feed`` and ``smm-pulse up`` both stop at start with the same line."""
    source = tmp_path / "events.jsonl"
    source.write_bytes(b"\n".join(interactions(1)) + b"\n")
    config = write_config(tmp_path / "smm.yaml", CONFIG)
    for args in (["feed", str(source), "--quiet"],
                 ["up", "--config", str(config), "--port", str(free_port())]):
        assert_fails_with_one_line(args, env, *expected)


def test_the_service_counts_events_fed_over_tls(tls_service: Service, tmp_path: Path):
    out = tls_service.feed(interactions(5), tmp_path)
    assert "sent 5 events" in out
    tls_service.wait_for_events(5)


def test_the_demo_feeder_delivers_over_tls(tls_service: Service):
    before = counted(tls_service)
    feeder = subprocess.Popen(
        [sys.executable, "-m", "smm_pulse.cli", "demo-feed", "--config",
         str(tls_service.config)], env=tls_service.env, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    try:
        def more_events() -> None:
            assert feeder.poll() is None, feeder.stderr.read() if feeder.stderr else ""
            assert counted(tls_service) > before

        wait_until(more_events, timeout=30)
    finally:
        feeder.send_signal(signal.SIGINT)
        feeder.wait(timeout=30)


def test_feed_without_a_config_file_takes_tls_from_the_environment(
        tls_endpoint: str, pki: Pki, tmp_path: Path):
    source = tmp_path / "events.jsonl"
    source.write_bytes(b"\n".join(interactions(3)) + b"\n")
    env = {**os.environ, "SMM_KAFKA_BOOTSTRAP": tls_endpoint, **tls_env(pki)}
    env.pop("SMM_PULSE_CONFIG", None)
    done = smm_pulse("feed", str(source), "--quiet", env=env)
    assert done.returncode == 0, done.stderr
    assert "sent 3 events" in done.stdout


def test_an_untrusted_broker_certificate_stops_feed_and_up_at_start(
        tls_endpoint: str, pki: Pki, tmp_path: Path):
    env = {**os.environ, "SMM_KAFKA_BOOTSTRAP": tls_endpoint, **tls_env(pki),
           "SMM_KAFKA_SSL_CAFILE": str(pki.other_ca.cert)}
    assert_feed_and_up_fail_with_one_line(env, tmp_path, "certificate is not trusted",
                                          "SMM_KAFKA_SSL_CAFILE")


def test_a_plaintext_client_of_a_tls_listener_is_told_to_use_tls(tls_endpoint: str,
                                                                  tmp_path: Path):
    source = tmp_path / "events.jsonl"
    source.write_bytes(b"\n".join(interactions(1)) + b"\n")
    env = {**os.environ, "SMM_KAFKA_BOOTSTRAP": tls_endpoint}
    assert_fails_with_one_line(["feed", str(source), "--quiet"], env,
                               "security_protocol SSL or SASL_SSL")


def test_feed_with_a_client_certificate_passes_mutual_tls_and_without_one_stops(
        mutual_tls_endpoint: str, pki: Pki, tmp_path: Path):
    source = tmp_path / "events.jsonl"
    source.write_bytes(b"\n".join(interactions(2)) + b"\n")
    env = {**os.environ, "SMM_KAFKA_BOOTSTRAP": mutual_tls_endpoint, **tls_env(pki)}
    assert_fails_with_one_line(["feed", str(source), "--quiet"], env,
                               "asks for a client certificate", "kafka.ssl_certfile")
    cert, key = pki.client
    done = smm_pulse("feed", str(source), "--quiet", env={
        **env, "SMM_KAFKA_SSL_CERTFILE": str(cert), "SMM_KAFKA_SSL_KEYFILE": str(key)})
    assert done.returncode == 0, done.stderr
    assert "sent 2 events" in done.stdout


def test_the_service_counts_events_fed_over_sasl_and_tls(sasl_service: Service, pki: Pki,
                                                         tmp_path: Path):
    sasl_service.feed(interactions(4), tmp_path)  # SCRAM-SHA-512, the service's settings
    for mechanism in ("PLAIN", "SCRAM-SHA-256"):
        source = tmp_path / f"{mechanism}.jsonl"
        source.write_bytes(b"\n".join(interactions(3)) + b"\n")
        env = {**sasl_service.env, **sasl_env(pki, mechanism)}
        done = smm_pulse("feed", str(source), "--config", str(sasl_service.config), "--quiet",
                         env=env)
        assert done.returncode == 0, done.stderr
    sasl_service.wait_for_events(10)


def test_feed_authenticates_with_sasl_without_tls(sasl_plaintext_endpoint: str, pki: Pki,
                                                  tmp_path: Path):
    source = tmp_path / "events.jsonl"
    source.write_bytes(b"\n".join(interactions(2)) + b"\n")
    env = {**os.environ, "SMM_KAFKA_BOOTSTRAP": sasl_plaintext_endpoint, **sasl_env(pki),
           "SMM_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT"}
    done = smm_pulse("feed", str(source), "--quiet", env=env)
    assert done.returncode == 0, done.stderr
    assert "sent 2 events" in done.stdout


def test_a_wrong_password_stops_feed_and_up_at_start(sasl_endpoint: tuple[str, SaslGate],
                                                    pki: Pki, tmp_path: Path):
    endpoint, gate = sasl_endpoint
    refused = gate.refused
    env = {**os.environ, "SMM_KAFKA_BOOTSTRAP": endpoint, **sasl_env(pki)}
    del env["SMM_KAFKA_SASL_PASSWORD_FILE"]
    env["SMM_KAFKA_SASL_PASSWORD"] = "not-" + PASSWORD
    assert_feed_and_up_fail_with_one_line(env, tmp_path, "SASL authentication failed",
                                          f"user '{USER}'", "SCRAM-SHA-512")
    assert gate.refused == refused + 2  # the broker side refused each, once
