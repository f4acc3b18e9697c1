"""Bearer tokens of the web port: parsing, constant-time checks, collectors' stored hashes,
the API guard in front of aiohttp's handlers, and which bind addresses are local."""

from __future__ import annotations

import asyncio
import subprocess

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from smm_pulse.web.auth import (
    CollectorTokens,
    api_guard,
    bearer_token,
    is_loopback,
    needs_api_token,
    sha256_hex,
    token_matches,
)


@pytest.mark.parametrize(("header", "token"), [
    ("Bearer s3cret", "s3cret"),
    ("bearer s3cret", "s3cret"),
    ("  Bearer   s3cret  ", "s3cret"),
    ("Basic dXNlcjpwdw==", None),
    ("Bearer", None),
    ("Bearer ", None),
    ("", None),
    (None, None),
])
def test_bearer_token_is_read_from_the_authorization_header(header, token):
    assert bearer_token(header) == token


def test_only_the_exact_token_matches():
    assert token_matches("s3cret", "s3cret")
    assert not token_matches("s3cre", "s3cret")
    assert not token_matches("s3cret ", "s3cret")
    assert not token_matches(None, "s3cret")
    assert token_matches("ключ", "ключ")  # non-ASCII tokens compare as UTF-8 bytes


def test_stored_hash_is_what_sha256sum_prints_for_the_token():
    printed = subprocess.run(["sh", "-c", 'printf %s "$TOKEN" | sha256sum'],
                             env={"TOKEN": "collector-token-1", "PATH": "/usr/bin:/bin"},
                             capture_output=True, text=True, check=True).stdout.split()[0]
    assert sha256_hex("collector-token-1") == printed


def test_a_collector_is_known_by_its_token_and_never_by_its_hash():
    tokens = CollectorTokens({"vk": sha256_hex("vk-token"),
                              "tg": sha256_hex("tg-token").upper()})
    assert tokens.collector("vk-token") == "vk"
    assert tokens.collector("tg-token") == "tg"  # hex digits in either case
    assert tokens.collector(sha256_hex("vk-token")) is None
    assert tokens.collector("other") is None
    assert tokens.collector(None) is None


@pytest.mark.parametrize(("path", "protect_metrics", "guarded"), [
    ("/api/kpis/acme", False, True),
    ("/api/overview", False, True),
    ("/api/events", False, True),
    ("/metrics", False, False),
    ("/metrics", True, True),
    ("/", True, False),
    ("/healthz", True, False),
    ("/static/page.js", True, False),
    ("/ingest", True, False),  # collectors' own tokens
])
def test_the_api_token_guards_the_api_and_optionally_metrics(path, protect_metrics, guarded):
    assert needs_api_token(path, protect_metrics) is guarded


def answers(protect_metrics: bool, requests: list[tuple[str, dict[str, str]]]) -> list[int]:
    async def ok(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def scenario() -> list[int]:
        app = web.Application(middlewares=[api_guard("s3cret", protect_metrics)])
        for path in ("/api/overview", "/metrics", "/healthz"):
            app.router.add_get(path, ok)
        async with TestClient(TestServer(app)) as client:
            statuses = []
            for path, headers in requests:
                response = await client.get(path, headers=headers)
                if response.status == 401:
                    assert response.headers["WWW-Authenticate"].startswith("Bearer")
                statuses.append(response.status)
            return statuses

    return asyncio.run(scenario())


def test_guard_answers_401_without_the_token_and_passes_with_it():
    good = {"Authorization": "Bearer s3cret"}
    bad = {"Authorization": "Bearer wrong"}
    assert answers(False, [("/api/overview", {}), ("/api/overview", bad),
                           ("/api/overview", good), ("/metrics", {}), ("/healthz", {})]) \
        == [401, 401, 200, 200, 200]
    assert answers(True, [("/metrics", {}), ("/metrics", good), ("/healthz", {})]) \
        == [401, 200, 200]


@pytest.mark.parametrize(("bind", "local"), [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("10.0.0.5", False), ("worker.example", False),
])
def test_only_loopback_binds_count_as_local(bind, local):
    assert is_loopback(bind) is local


def test_a_public_bind_without_a_token_is_warned_about_and_a_token_installs_the_guard(caplog):
    from smm_pulse.config import parse_config
    from smm_pulse.wiring import web_options

    open_config = parse_config("brands: {acme: {}}", "t.yaml", environ={})
    assert web_options(open_config, "127.0.0.1") == {}
    assert not caplog.records
    assert web_options(open_config, "0.0.0.0") == {}
    assert "no API token" in caplog.text
    caplog.clear()
    guarded = parse_config("brands: {acme: {}}", "t.yaml", environ={"SMM_PULSE_API_TOKEN": "t"})
    assert len(web_options(guarded, "0.0.0.0")["middlewares"]) == 1
    assert not caplog.records
