"""``GET /api/openapi.json``: the OpenAPI description of every route of the web port, shipped
in the package as ``openapi.yaml`` (checked against the routes by the tests)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

from smm_pulse.runtime.pipeline import Pipeline

PATH = "/api/openapi.json"


@cache
def description() -> dict[str, Any]:
    text = (resources.files("smm_pulse.web") / "openapi.yaml").read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def register(pipeline: Pipeline) -> None:
    @pipeline.app.page(PATH)
    async def openapi(web: Any, request: Any) -> Any:
        return web.json(description())
