"""The connection check at start: can this process reach Kafka with its TLS and SASL
settings? One line says why not.

Kafka clients retry a failed connection for ever and log each try: a wrong password or
CA certificate would otherwise look like a hang, or a worker that starts and does
nothing. The check connects to each bootstrap address once, within
``kafka.connect_timeout_seconds``, reads the cluster's metadata and connects to a broker
it advertises (managed clusters advertise other addresses than their bootstrap one).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Iterator
from typing import Any

from aiokafka import AIOKafkaClient
from aiokafka.conn import create_conn
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaError,
    SaslAuthenticationFailed,
    UnsupportedSaslMechanismError,
)

from smm_pulse.config import Kafka
from smm_pulse.connections import aiokafka_args

# TLS alerts a server sends about the client's certificate (OpenSSL's reason names).
_REFUSED_CLIENT_CERTIFICATE = ("ALERT_BAD_CERTIFICATE", "ALERT_UNKNOWN_CA",
                               "ALERT_CERTIFICATE_UNKNOWN", "ALERT_CERTIFICATE_EXPIRED",
                               "ALERT_ACCESS_DENIED")


class KafkaUnreachable(RuntimeError):
    """Kafka cannot be used with these settings; the message says why, in one line."""


def check_connection(bootstrap: str, settings: Kafka) -> None:
    """Raises ``KafkaUnreachable`` unless ``bootstrap`` answers with these settings."""
    timeout = settings.connect_timeout_seconds
    # A loop of its own, not asyncio.run: that would leave the thread without a current
    # loop, which the Faust worker started after the check still looks up.
    loop = asyncio.new_event_loop()
    try:
        with _quiet(logging.getLogger("aiokafka")):  # its retries' logs would bury our line
            loop.run_until_complete(asyncio.wait_for(_check(bootstrap, settings), timeout))
    except TimeoutError:
        raise KafkaUnreachable(
            f"no answer from {bootstrap} within {timeout:g} s"
            + (": is it a TLS listener?" if settings.uses_tls
               else ": a TLS listener needs security_protocol SSL or SASL_SSL")) from None
    finally:
        loop.close()


@contextlib.contextmanager
def _quiet(logger: logging.Logger) -> Iterator[None]:
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


async def _check(bootstrap: str, settings: Kafka) -> None:
    try:
        args = aiokafka_args(settings)
    except (OSError, ssl.SSLError) as exc:  # a CA or key file that is not PEM, or unreadable
        raise KafkaUnreachable(f"cannot load the TLS or SASL files: {exc}") from None
    problems = []
    for host, port in _addresses(bootstrap):
        try:
            conn = await create_conn(host, port, **args)
        except (OSError, KafkaError) as exc:
            problems.append(f"{host}:{port}: {explain(exc, settings)}")
            continue
        conn.close()
        break
    else:
        raise KafkaUnreachable("; ".join(problems))
    client = AIOKafkaClient(bootstrap_servers=bootstrap, **args)
    try:
        await client.bootstrap()
        brokers = client.cluster.brokers()
        if not brokers:
            raise KafkaUnreachable(f"{bootstrap} answered with no brokers")
        broker = min(brokers, key=lambda b: b.nodeId)
        if not await client.ready(broker.nodeId):
            raise KafkaUnreachable(
                f"{bootstrap} answered, but the broker address it advertises, "
                f"{broker.host}:{broker.port}, cannot be used from here with security_protocol "
                f"{settings.security_protocol}")
    except KafkaError as exc:
        raise KafkaUnreachable(f"{bootstrap}: {explain(exc, settings)}") from None
    finally:
        await client.close()


def _addresses(bootstrap: str) -> list[tuple[str, int]]:
    addresses = []
    for entry in bootstrap.split(","):
        host, _, port = entry.strip().rpartition(":")
        if not host or not port.isdigit():
            raise KafkaUnreachable(f"{entry.strip()!r} in {bootstrap!r} is not host:port")
        addresses.append((host.strip("[]"), int(port)))
    return addresses


def explain(exc: BaseException, settings: Kafka) -> str:
    """What went wrong, for an operator: which setting to look at."""
    cause: Any = exc
    while cause.__cause__ is not None and not isinstance(cause, ssl.SSLError):
        cause = cause.__cause__
    if isinstance(cause, ssl.SSLCertVerificationError):
        return (f"the broker's TLS certificate is not trusted ({cause.verify_message}): "
                "check kafka.ssl_cafile (SMM_KAFKA_SSL_CAFILE)")
    if isinstance(cause, ssl.SSLError):
        reason = cause.reason or str(cause)
        if "CERTIFICATE_REQUIRED" in reason:
            return ("the broker asks for a client certificate (mutual TLS): set "
                    "kafka.ssl_certfile and kafka.ssl_keyfile")
        if reason.endswith(_REFUSED_CLIENT_CERTIFICATE):
            return f"the broker refused the client certificate ({reason}): check kafka.ssl_certfile"
        return f"TLS handshake failed ({reason}): is it a TLS listener?"
    if isinstance(cause, SaslAuthenticationFailed):
        return (f"SASL authentication failed for user {settings.sasl_username!r} with "
                f"{settings.sasl_mechanism}: check the user name and password"
                + (f" ({cause.args[0]})" if cause.args and cause.args[0] else ""))
    if isinstance(cause, UnsupportedSaslMechanismError):
        return f"{cause.args[0] if cause.args else cause}: check kafka.sasl_mechanism"
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused: nothing listens there"
    closed = isinstance(cause, ConnectionResetError) or (
        isinstance(cause, KafkaConnectionError) and "closed" in str(cause))
    if closed:
        return ("the broker closed the connection"
                + (": is it a TLS listener?" if settings.uses_tls else
                   ": a TLS listener needs security_protocol SSL or SASL_SSL, a SASL one "
                   "SASL_PLAINTEXT or SASL_SSL"))
    if isinstance(cause, OSError):
        return cause.strerror or str(cause)
    return f"{type(cause).__name__}: {cause}"
