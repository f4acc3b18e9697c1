"""The connection check's one-line reasons: each failure points at the setting to look at.

The failures themselves, from real TLS and SASL endpoints, are in
tests/integration/test_kafka_security.py.
"""

from __future__ import annotations

import socket
import ssl
import time

import pytest
from aiokafka.errors import (
    KafkaConnectionError,
    SaslAuthenticationFailed,
    UnsupportedSaslMechanismError,
)

from smm_pulse.config import Kafka
from smm_pulse.runtime.kafka_check import KafkaUnreachable, check_connection, explain

TLS = Kafka(security_protocol="SSL")
SASL = Kafka(security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-256", sasl_username="bob",
             sasl_password="p")


def untrusted() -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error.verify_message = "self-signed certificate in certificate chain"
    return error


def test_an_untrusted_certificate_points_at_the_ca_setting():
    text = explain(untrusted(), TLS)
    assert "self-signed certificate in certificate chain" in text
    assert "kafka.ssl_cafile (SMM_KAFKA_SSL_CAFILE)" in text


def test_the_tls_error_is_found_behind_the_client_library_error():
    wrapped = KafkaConnectionError("Connection failed")
    wrapped.__cause__ = untrusted()
    assert "kafka.ssl_cafile" in explain(wrapped, TLS)


def ssl_alert(reason: str) -> ssl.SSLError:
    error = ssl.SSLError(1, f"[SSL: {reason}] alert")
    error.reason = reason
    return error


def test_a_broker_asking_for_a_client_certificate_points_at_the_certificate_settings():
    assert explain(ssl_alert("TLSV13_ALERT_CERTIFICATE_REQUIRED"), TLS).endswith(
        "set kafka.ssl_certfile and kafka.ssl_keyfile")
    assert explain(ssl_alert("TLSV1_ALERT_UNKNOWN_CA"), TLS).startswith(
        "the broker refused the client certificate (TLSV1_ALERT_UNKNOWN_CA)")


def test_a_refused_password_names_the_user_and_mechanism_not_the_password():
    text = explain(SaslAuthenticationFailed("Authentication failed"), SASL)
    assert "SASL authentication failed for user 'bob' with SCRAM-SHA-256" in text
    assert "'p'" not in text


def test_an_unsupported_mechanism_points_at_the_mechanism_setting():
    error = UnsupportedSaslMechanismError("Kafka broker does not support PLAIN sasl mechanism")
    assert explain(error, SASL).endswith("check kafka.sasl_mechanism")


@pytest.mark.parametrize("error", [ConnectionResetError(104, "Connection reset by peer"),
                                   KafkaConnectionError("Connection at 127.0.0.1:9093 closed")])
def test_a_closed_connection_suggests_tls_to_a_plaintext_client(error):
    assert "needs security_protocol SSL or SASL_SSL" in explain(error, Kafka())
    assert explain(error, TLS).endswith("is it a TLS listener?")


def test_nothing_listening_is_said_so():
    assert explain(ConnectionRefusedError(111, "Connection refused"), TLS) == (
        "connection refused: nothing listens there")


def test_a_bootstrap_entry_without_a_port_is_refused_before_connecting():
    with pytest.raises(KafkaUnreachable, match="'kafka' in 'kafka' is not host:port"):
        check_connection("kafka", Kafka())


def test_a_listener_that_never_answers_fails_within_the_timeout():
    with socket.socket() as silent:  # accepts (the kernel's backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        address = f"127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(KafkaUnreachable) as error:
            check_connection(address, Kafka(security_protocol="SSL", connect_timeout_seconds=0.5))
    assert time.monotonic() - started < 5
    assert str(error.value) == f"no answer from {address} within 0.5 s: is it a TLS listener?"
