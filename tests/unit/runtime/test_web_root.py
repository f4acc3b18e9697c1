"""The app's web driver leaves ``/`` to the service (``App._new_web``): Faust would mount its
production index there too, a second GET route on one path that aiohttp either refuses (right
after ours) or keeps behind ours, never reached, depending on the order of registration."""

from __future__ import annotations

import inspect
from typing import Any

import faust
import pytest

from smm_pulse.runtime.faust_app import App

# Faust's own views off, as the service runs (statistics off is what mounts Faust's index at /).
VIEWS_OFF = {f"web_{view}_enabled": False for view in ("tables", "router", "stats", "graph",
                                                        "metrics")}


def with_root_page(app: Any) -> Any:
    @app.page("/")
    async def root(web: Any, request: Any) -> Any:
        return web.json({"page": True})

    app.web.blueprints.apply(app.web)  # where Faust mounts its own views at start
    return app


def root_routes(app: Any) -> list[Any]:
    return [route for route in app.web.web_app.router.routes()
            if route.method == "GET" and route.resource.canonical == "/"]


def test_the_service_can_serve_its_own_page_at_the_root():
    app = with_root_page(App("web-root", broker="kafka://127.0.0.1:1", **VIEWS_OFF))
    assert len(root_routes(app)) == 1


def test_fausts_own_driver_still_mounts_an_index_at_the_root():
    """What the override is for: with Faust's driver a page registered last at / stops the
    worker at start."""
    with pytest.raises(RuntimeError, match="already registered"):
        with_root_page(faust.App("web-root-faust", broker="kafka://127.0.0.1:1",
                                 **VIEWS_OFF))


def test_fausts_web_factory_is_still_the_driver_of_the_web_setting():
    lines = [line.strip() for line in inspect.getsource(faust.App._new_web).splitlines()]
    assert lines[-1] == "return web_drivers.by_url(self.conf.web)(self)"
