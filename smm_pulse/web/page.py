"""The live page at ``/``, its assets, its data (``/api/overview``) and the health route.

``/`` answers a browser (an ``Accept`` ranking HTML above JSON) with the page
and everyone else with the JSON health answer ``{"status": "OK"}``, which is
what ``/`` answered before the page: health checks and scripts keep working.
``/healthz`` always gives the health answer. The page is a static shell that
fetches ``/api/overview`` every few seconds; its files ship in the package
(``static/``) and load nothing from elsewhere (the Content-Security-Policy
says so to the browser).
"""

from __future__ import annotations

import time
from importlib import resources
from typing import Any

import orjson

from smm_pulse.runtime.pipeline import Pipeline
from smm_pulse.web.exporter import Sample, kpi_samples
from smm_pulse.web.negotiation import media_quality
from smm_pulse.web.overview import overview
from smm_pulse.web.render import SharedRender, in_slices

# Every open page polls every few seconds: they share one render this fresh.
OVERVIEW_MAX_AGE_SECONDS = 1.0

HEALTH = {"status": "OK"}
# aiohttp refuses a charset in content_type: the Content-Type header is set as is.
ASSETS = {"page.css": "text/css; charset=utf-8", "page.js": "text/javascript; charset=utf-8"}
HTML_TYPES = ("text/html", "application/xhtml+xml")
# Nothing from other origins; styles and scripts only from the shipped files.
PAGE_HEADERS = {"Content-Type": "text/html; charset=utf-8",
                "Content-Security-Policy": "default-src 'self'; img-src 'self' data:",
                "Vary": "Accept", "Cache-Control": "no-cache"}


def wants_html(accept: str) -> bool:
    """A client ranking HTML above JSON gets the page; a tie (``*/*``, no header) gets JSON."""
    html = max(media_quality(media, accept) for media in HTML_TYPES)
    return html > 0 and html > media_quality("application/json", accept)


def _static(name: str) -> bytes:
    return (resources.files("smm_pulse.web") / "static" / name).read_bytes()


def register(pipeline: Pipeline) -> None:
    app = pipeline.app
    page = _static("index.html")
    assets = {name: (_static(name), kind) for name, kind in ASSETS.items()}

    @app.page("/")
    async def index(web: Any, request: Any) -> Any:
        if wants_html(request.headers.get("Accept", "")):
            return web.bytes(page, headers=dict(PAGE_HEADERS))
        return web.json(HEALTH, headers={"Vary": "Accept"})

    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        return web.json(HEALTH)

    async def render_overview() -> bytes:
        # Computed as /metrics is: in slices on the loop, shared by the requests of a second.
        now = time.time()
        samples: list[Sample] = []
        await in_slices(kpi_samples(pipeline, now), samples.append)
        return orjson.dumps(overview(pipeline, now, samples))

    shared_overview = SharedRender(render_overview, max_age=OVERVIEW_MAX_AGE_SECONDS)

    @app.page("/api/overview")
    async def overview_json(web: Any, request: Any) -> Any:
        return web.bytes(await shared_overview.get(),
                         headers={"Content-Type": "application/json", "Cache-Control": "no-store"})

    @app.page("/static/{name}")
    async def static(web: Any, request: Any, name: str) -> Any:
        if name not in assets:
            return web.json({"error": f"no asset {name!r}"}, status=404)
        body, kind = assets[name]
        return web.bytes(body, headers={"Content-Type": kind, "Cache-Control": "no-cache"})
