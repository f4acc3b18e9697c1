"""``POST /webhooks/vk/{collector}`` and ``POST /webhooks/telegram/{collector}``: platforms
push their events to the worker (docs/webhooks.md).

Each call is checked against its collector's secret, mapped to contract events
by its platform's adapter (a pure function), and sent as one message through
``POST /ingest``'s path: the same validation, the input topics, the dead-letter
topic for rejections, with source ``webhook:<platform>:<collector>``. A call the
adapter cannot map goes to the dead-letter topic with reason
``unmapped_webhook``. The platform gets its answer after the broker acknowledged
everything; a 503 makes it deliver the call again, which counts once (event ids
come from the platform's ids). Each collector (a VK community's secret, a
Telegram bot's) has its own bucket of ``ingest_http``'s event rate: over it,
429 with Retry-After.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web
from faust.web import View

from smm_pulse.runtime.pipeline import Pipeline
from smm_pulse.streams.events import Rejection
from smm_pulse.web.ingest_http import BUSY_RETRY_SECONDS, BrokerBusy, HttpIngest, read_limited
from smm_pulse.web.rate_limit import retry_after
from smm_pulse.web.webhook_mapping import Mapped
from smm_pulse.web.webhook_telegram import telegram_events
from smm_pulse.web.webhook_vk import vk_events

VK_PATH = "/webhooks/vk/{collector}"
TELEGRAM_PATH = "/webhooks/telegram/{collector}"
TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
UNMAPPED = "unmapped_webhook"


def _text(body: str, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(text=body, status=status, content_type="text/plain", headers=headers)


def _same(given: Any, expected: str) -> bool:
    return isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())


class Webhooks:
    """The handlers of the webhook routes; they send through ``POST /ingest``'s producer."""

    def __init__(self, ingest: HttpIngest) -> None:
        self.ingest = ingest
        self.settings = ingest.pipeline.config.webhooks
        # Secrets read once, at start (a mounted file may be read-protected later).
        self.vk_secrets = {name: hook.secret_value() for name, hook in self.settings.vk.items()}
        self.telegram_secrets = {name: hook.secret_value()
                                 for name, hook in self.settings.telegram.items()}

    async def _body(self, request: web.Request) -> bytes | web.Response:
        limit = self.ingest.settings.max_body_bytes
        body = await read_limited(request, limit)
        return _text(f"the body is over {limit} bytes", 413) if body is None else body

    async def vk(self, request: web.Request) -> web.Response:
        collector = request.match_info["collector"]
        hook = self.settings.vk.get(collector)
        if hook is None:
            return _text("no such collector", 404)
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _text("not JSON", 400)
        if not isinstance(payload, dict):
            return _text("not a JSON object", 400)
        # VK's handshake: the answer proves the server is the community's.
        if payload.get("type") == "confirmation" and payload.get("group_id") == hook.group_id:
            return _text(hook.confirmation)
        if not _same(payload.get("secret"), self.vk_secrets[collector]):
            return _text("forbidden", 401)
        mapped = vk_events(payload, hook, time.time())
        return await self._deliver(f"webhook:vk:{collector}", body, mapped, ok=_text("ok"))

    async def telegram(self, request: web.Request) -> web.Response:
        collector = request.match_info["collector"]
        hook = self.settings.telegram.get(collector)
        if hook is None:
            return _text("no such collector", 404)
        if not _same(request.headers.get(TELEGRAM_SECRET_HEADER),
                     self.telegram_secrets[collector]):
            return _text("forbidden", 401)
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        try:
            mapped = telegram_events(orjson.loads(body), hook)
        except orjson.JSONDecodeError:
            mapped = Mapped([], "the update is not JSON")
        return await self._deliver(f"webhook:telegram:{collector}", body, mapped,
                                   ok=web.json_response({"ok": True}))

    async def _deliver(self, source: str, body: bytes, mapped: Mapped,
                       ok: web.Response) -> web.Response:
        # After the secret's check: calls without it must not spend the collector's budget.
        wait = self.ingest.limits.take(source, max(1, len(mapped.events)))
        if wait:
            return _text("over the collector's event rate", 429,
                         {"Retry-After": retry_after(wait)})
        parts = [orjson.dumps(mapped.events)] if mapped.events else []
        refused = [] if mapped.unmapped is None else [
            (Rejection(UNMAPPED, mapped.unmapped, "unknown"), body)]
        try:
            await self.ingest.submit(source, parts, refused)
        except BrokerBusy as busy:
            return _text(str(busy), 503, {"Retry-After": str(BUSY_RETRY_SECONDS)})
        return ok


def _route(handler: Callable[[web.Request], Any]) -> type[View]:
    class Route(View):
        async def post(self, request: Any, **_route: Any) -> Any:
            return await handler(request)

    return Route


def register(pipeline: Pipeline, ingest: HttpIngest) -> Webhooks:
    hooks = Webhooks(ingest)
    pipeline.app.page(VK_PATH)(_route(hooks.vk))
    pipeline.app.page(TELEGRAM_PATH)(_route(hooks.telegram))
    return hooks
