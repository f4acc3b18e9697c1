"""Bearer tokens of the web port: the API token (``/api/...``, optionally ``/metrics``)
and the collectors' tokens of ``POST /ingest``, which are stored only as SHA-256 hashes.

Tokens are compared in constant time (``hmac.compare_digest``), so an answer's
timing says nothing about how much of a guess was right.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

API_PREFIX = "/api/"
METRICS_PATH = "/metrics"
# Sent with every 401, as RFC 6750 asks; the live page reads the JSON error.
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="smm-pulse"'}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive)."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def token_matches(given: str | None, expected: str) -> bool:
    """Constant-time equality of a presented token and the configured one."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def sha256_hex(token: str) -> str:
    """What ``printf %s "$TOKEN" | sha256sum`` prints: the form collectors' tokens are stored in."""
    return hashlib.sha256(token.encode()).hexdigest()


class CollectorTokens:
    """Collector names by their tokens' hashes (``ingest_http.collectors``)."""

    def __init__(self, hashes: Mapping[str, str]) -> None:
        self._hashes = [(name, bytes.fromhex(digest)) for name, digest in hashes.items()]

    def collector(self, token: str | None) -> str | None:
        """The collector whose token this is, or None. Every stored hash is compared, in
        constant time, whichever matches."""
        if token is None:
            return None
        digest = hashlib.sha256(token.encode()).digest()
        found = None
        for name, stored in self._hashes:
            if hmac.compare_digest(digest, stored):
                found = name
        return found


def needs_api_token(path: str, protect_metrics: bool) -> bool:
    """Paths the API token guards: the JSON API, and /metrics when asked."""
    return path.startswith(API_PREFIX) or (protect_metrics and path == METRICS_PATH)


def unauthorized(message: str) -> web.Response:
    return web.json_response({"error": message}, status=401, headers=CHALLENGE)


def api_guard(token: str, protect_metrics: bool) -> Callable[[web.Request, Handler],
                                                             Awaitable[web.StreamResponse]]:
    """aiohttp middleware: guarded paths answer 401 without ``Authorization: Bearer <token>``."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if needs_api_token(request.path, protect_metrics) and not token_matches(
                bearer_token(request.headers.get("Authorization")), token):
            return unauthorized("this path needs the API token: Authorization: Bearer <token>")
        return await handler(request)

    return guard


def is_loopback(bind: str) -> bool:
    """Whether a bind address is reachable from this host only."""
    if bind == "localhost":
        return True
    try:
        return ipaddress.ip_address(bind).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to a public address
