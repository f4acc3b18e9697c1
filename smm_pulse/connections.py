"""Kafka client arguments from the configuration's ``kafka`` section (docs/kafka.md).

The one place that knows each client library's names for TLS and SASL: aiokafka (the
ingest stage, the connection check, the benchmark), kafka-python (the collector SDK and
``smm-pulse feed``, the broker probe at start) and Faust (the KPI agents).
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any

from aiokafka.helpers import create_ssl_context

from smm_pulse.config import Kafka

if TYPE_CHECKING:
    from faust.types.auth import CredentialsT


def sasl_password(settings: Kafka) -> str | None:
    """The SASL password, read from ``sasl_password_file`` when that is set: read at each
    client's start, so a rotated secret is picked up by the next start."""
    if settings.sasl_password_file is not None:
        return settings.sasl_password_file.read_text(encoding="utf-8").rstrip("\r\n")
    return settings.sasl_password.get_secret_value() if settings.sasl_password else None


def ssl_context(settings: Kafka) -> ssl.SSLContext | None:
    """A client TLS context that checks the broker's certificate and host name (the
    system's CAs unless ``ssl_cafile``), with the client certificate if one is set;
    None without TLS."""
    if not settings.uses_tls:
        return None
    return create_ssl_context(cafile=settings.ssl_cafile, certfile=settings.ssl_certfile,
                              keyfile=settings.ssl_keyfile)


def _sasl(settings: Kafka) -> dict[str, Any]:
    # aiokafka and kafka-python name SASL alike; the "plain" names serve SCRAM too.
    if not settings.uses_sasl:
        return {}
    return {"sasl_mechanism": settings.sasl_mechanism,
            "sasl_plain_username": settings.sasl_username,
            "sasl_plain_password": sasl_password(settings)}


def aiokafka_args(settings: Kafka) -> dict[str, Any]:
    """Keyword arguments for aiokafka's clients (consumer, producer, admin)."""
    context = ssl_context(settings)
    return {"security_protocol": settings.security_protocol, **_sasl(settings),
            **({"ssl_context": context} if context else {})}


def kafka_python_args(settings: Kafka) -> dict[str, Any]:
    """Keyword arguments for kafka-python's clients (``KafkaProducer``, ``KafkaAdminClient``),
    which build their TLS context from file names themselves."""
    files = {"ssl_cafile": settings.ssl_cafile, "ssl_certfile": settings.ssl_certfile,
             "ssl_keyfile": settings.ssl_keyfile}
    tls = {name: str(path) for name, path in files.items() if path is not None}
    return {"security_protocol": settings.security_protocol, **_sasl(settings),
            **(tls if settings.uses_tls else {})}


def faust_credentials(settings: Kafka) -> CredentialsT | None:
    """Faust's ``broker_credentials``: its consumer, producer and topic admin all take their
    security settings from it (faust.transport.drivers.aiokafka.credentials_to_aiokafka_auth)."""
    import faust  # only the worker needs Faust; a collector's import stays light

    context = ssl_context(settings)
    if settings.uses_sasl:
        # With a TLS context Faust makes this SASL_SSL, without it SASL_PLAINTEXT.
        return faust.SASLCredentials(username=settings.sasl_username,
                                     password=sasl_password(settings), ssl_context=context,
                                     mechanism=settings.sasl_mechanism)
    if context is not None:
        return faust.SSLCredentials(context)
    return None
