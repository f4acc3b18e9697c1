"""The configuration's ``kafka`` section: its checks, and the SMM_KAFKA_* variables that
override it, with or without a configuration file."""

from __future__ import annotations

import pytest

from smm_pulse.config import ENV_OVERRIDES, ENVIRONMENT, ConfigError, kafka_from_environment
from smm_pulse.config import parse_config as _parse

BRANDS = "brands: {acme: {}}\n"


def parse(text: str, environ: dict[str, str] | None = None):
    return _parse(BRANDS + text, "smm.yaml", environ=environ or {})


def test_without_a_kafka_section_clients_connect_in_plaintext():
    assert parse("").kafka.security_protocol == "PLAINTEXT"


def test_the_file_sets_tls_and_sasl(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("a CA")
    kafka = parse(f"kafka: {{security_protocol: SASL_SSL, sasl_mechanism: SCRAM-SHA-512, "
                  f"sasl_username: u, sasl_password: hunter2, ssl_cafile: {ca}}}").kafka
    assert (kafka.security_protocol, kafka.sasl_mechanism) == ("SASL_SSL", "SCRAM-SHA-512")
    assert kafka.ssl_cafile == ca
    assert kafka.sasl_password is not None
    assert kafka.sasl_password.get_secret_value() == "hunter2"
    assert "hunter2" not in repr(kafka)  # a logged configuration does not show the password


def test_environment_variables_override_the_kafka_section_key_by_key():
    text = "kafka: {security_protocol: SASL_SSL, sasl_username: file-user, sasl_password: x}"
    environ = {"SMM_KAFKA_SASL_USERNAME": "env-user", "SMM_KAFKA_SASL_MECHANISM": "SCRAM-SHA-256"}
    kafka = parse(text, environ).kafka
    assert (kafka.sasl_username, kafka.sasl_mechanism) == ("env-user", "SCRAM-SHA-256")
    assert kafka.security_protocol == "SASL_SSL"  # what the environment leaves alone stays


def test_environment_variables_make_the_kafka_section_a_file_leaves_out():
    environ = {"SMM_KAFKA_SECURITY_PROTOCOL": "SSL"}
    assert parse("", environ).kafka.security_protocol == "SSL"
    assert parse("kafka:\n", environ).kafka.security_protocol == "SSL"


def test_an_empty_variable_overrides_nothing():
    assert parse("", {"SMM_KAFKA_SECURITY_PROTOCOL": ""}).kafka.security_protocol == "PLAINTEXT"


def test_a_bad_value_from_the_environment_is_named_by_its_variable():
    with pytest.raises(ConfigError) as error:
        parse("", {"SMM_KAFKA_SECURITY_PROTOCOL": "TLS"})
    assert "smm.yaml: kafka.security_protocol:" in str(error.value)
    assert "(from SMM_KAFKA_SECURITY_PROTOCOL)" in str(error.value)


@pytest.mark.parametrize(("section", "expected"), [
    ("{security_protocol: SASL_SSL, sasl_password: p}", "sasl_username is needed with SASL_SSL"),
    ("{security_protocol: SASL_PLAINTEXT, sasl_username: u}",
     "sasl_password or sasl_password_file is needed with SASL_PLAINTEXT"),
    ("{sasl_password: p, sasl_password_file: /etc/hostname}", "not both"),
    ("{ssl_keyfile: /etc/hostname}", "ssl_keyfile needs ssl_certfile"),
    ("{ssl_cafile: /nonexistent/ca.pem}", "kafka.ssl_cafile: cannot read '/nonexistent/ca.pem'"),
    ("{security_protocol: SSL, sasl_mechanism: GSSAPI}", "kafka.sasl_mechanism:"),
    ("{bootstrap: x}", "kafka.bootstrap: Extra inputs are not permitted"),
])
def test_kafka_settings_that_cannot_work_are_refused_at_start(section, expected):
    with pytest.raises(ConfigError) as error:
        parse(f"kafka: {section}")
    assert expected in str(error.value)


def test_without_a_file_the_environment_alone_gives_the_kafka_settings(tmp_path):
    secret = tmp_path / "password"
    secret.write_text("s3cret\n")
    kafka = kafka_from_environment({
        "SMM_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "SMM_KAFKA_SASL_USERNAME": "u",
        "SMM_KAFKA_SASL_PASSWORD_FILE": str(secret), "SMM_PULSE_DEDUP_EXTRA_SECONDS": "-1"})
    assert kafka.security_protocol == "SASL_SSL"
    assert kafka.sasl_password_file == secret
    assert kafka_from_environment({}).security_protocol == "PLAINTEXT"


def test_without_a_file_a_bad_variable_is_an_error_naming_it():
    with pytest.raises(ConfigError) as error:
        kafka_from_environment({"SMM_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"})
    assert str(error.value).startswith("environment: kafka: sasl_username is needed")
    with pytest.raises(ConfigError, match=r"kafka\.ssl_cafile: .*\(from SMM_KAFKA_SSL_CAFILE\)"):
        kafka_from_environment({"SMM_KAFKA_SSL_CAFILE": "/nonexistent/ca.pem"})


def test_every_kafka_variable_is_documented_with_the_key_it_overrides():
    documented = {var.name: var.help for var in ENVIRONMENT}
    kafka = {name: path for name, path in ENV_OVERRIDES.items() if path[0] == "kafka"}
    assert set(kafka) == {
        "SMM_KAFKA_SECURITY_PROTOCOL", "SMM_KAFKA_SASL_MECHANISM", "SMM_KAFKA_SASL_USERNAME",
        "SMM_KAFKA_SASL_PASSWORD", "SMM_KAFKA_SASL_PASSWORD_FILE", "SMM_KAFKA_SSL_CAFILE",
        "SMM_KAFKA_SSL_CERTFILE", "SMM_KAFKA_SSL_KEYFILE"}
    for name, path in kafka.items():
        assert f"`{'.'.join(path)}`" in documented[name]
