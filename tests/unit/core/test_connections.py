"""The ``kafka`` settings as each client library's arguments: aiokafka, kafka-python, Faust."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import faust
import pytest
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

from smm_pulse.config import Kafka
from smm_pulse.connections import (
    aiokafka_args,
    faust_credentials,
    kafka_python_args,
    sasl_password,
)


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A self-signed CA certificate (a context loads it; nothing is signed with it)."""
    folder = tmp_path_factory.mktemp("ca")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(folder / "ca.key"),
                    "-out", str(folder / "ca.pem"), "-days", "1", "-subj", "/CN=test"],
                   check=True, capture_output=True)
    return folder / "ca.pem"


def sasl_ssl(ca: Path, **fields: object) -> Kafka:
    return Kafka.model_validate({"security_protocol": "SASL_SSL", "sasl_username": "u",
                                 "sasl_password": "p", "ssl_cafile": ca, **fields})


def test_plaintext_gives_every_client_plaintext_and_faust_no_credentials():
    assert aiokafka_args(Kafka()) == {"security_protocol": "PLAINTEXT"}
    assert kafka_python_args(Kafka()) == {"security_protocol": "PLAINTEXT"}
    assert faust_credentials(Kafka()) is None


def test_tls_gives_aiokafka_a_context_that_checks_the_broker_against_the_ca(ca):
    args = aiokafka_args(Kafka(security_protocol="SSL", ssl_cafile=ca))
    assert args["security_protocol"] == "SSL"
    context = args["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert [c["subject"] for c in context.get_ca_certs()] == [((("commonName", "test"),),)]
    assert not {"sasl_mechanism", "sasl_plain_username"} & set(args)


def test_tls_gives_kafka_python_the_file_names_under_its_own_argument_names(ca, tmp_path):
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    cert.write_text("c")
    key.write_text("k")
    settings = Kafka(security_protocol="SSL", ssl_cafile=ca, ssl_certfile=cert, ssl_keyfile=key)
    assert kafka_python_args(settings) == {
        "security_protocol": "SSL", "ssl_cafile": str(ca), "ssl_certfile": str(cert),
        "ssl_keyfile": str(key)}


def test_tls_files_are_ignored_without_tls(ca):
    assert kafka_python_args(Kafka(ssl_cafile=ca)) == {"security_protocol": "PLAINTEXT"}
    assert "ssl_context" not in aiokafka_args(Kafka(ssl_cafile=ca))


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_over_tls_gives_both_libraries_the_mechanism_user_and_password(ca, mechanism):
    settings = sasl_ssl(ca, sasl_mechanism=mechanism)
    sasl = {"sasl_mechanism": mechanism, "sasl_plain_username": "u", "sasl_plain_password": "p"}
    assert kafka_python_args(settings) == {"security_protocol": "SASL_SSL", "ssl_cafile": str(ca),
                                           **sasl}
    args = aiokafka_args(settings)
    assert isinstance(args.pop("ssl_context"), ssl.SSLContext)
    assert args == {"security_protocol": "SASL_SSL", **sasl}


def test_sasl_without_tls_has_no_tls_context():
    settings = Kafka(security_protocol="SASL_PLAINTEXT", sasl_username="u", sasl_password="p")
    assert "ssl_context" not in aiokafka_args(settings)
    assert aiokafka_args(settings)["security_protocol"] == "SASL_PLAINTEXT"


def test_the_password_file_is_read_without_its_trailing_newline(tmp_path):
    secret = tmp_path / "password"
    secret.write_text("s3cret \n")
    settings = Kafka(security_protocol="SASL_PLAINTEXT", sasl_username="u",
                     sasl_password_file=secret)
    assert sasl_password(settings) == "s3cret "
    assert kafka_python_args(settings)["sasl_plain_password"] == "s3cret "


# What Faust's aiokafka driver makes of the credentials is what its consumer and producer get.
def test_faust_gets_tls_credentials_that_its_driver_turns_into_an_ssl_context(ca):
    credentials = faust_credentials(Kafka(security_protocol="SSL", ssl_cafile=ca))
    assert isinstance(credentials, faust.SSLCredentials)
    auth = credentials_to_aiokafka_auth(credentials)
    assert auth["security_protocol"] == "SSL"
    assert auth["ssl_context"].get_ca_certs()


@pytest.mark.parametrize(("protocol", "tls"), [("SASL_SSL", True), ("SASL_PLAINTEXT", False)])
def test_faust_gets_sasl_credentials_with_the_protocol_and_mechanism(ca, protocol, tls):
    settings = Kafka(security_protocol=protocol, sasl_mechanism="SCRAM-SHA-512",
                     sasl_username="u", sasl_password="p", ssl_cafile=ca)
    auth = credentials_to_aiokafka_auth(faust_credentials(settings))
    assert (auth["security_protocol"], auth["sasl_mechanism"]) == (protocol, "SCRAM-SHA-512")
    assert (auth["sasl_plain_username"], auth["sasl_plain_password"]) == ("u", "p")
    assert (auth["ssl_context"] is not None) == tls
