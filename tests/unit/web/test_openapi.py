"""The shipped OpenAPI description names every route the worker's web port serves, and no
route it does not; it is a valid OpenAPI 3 document and served at /api/openapi.json."""

from __future__ import annotations

from typing import Any

from smm_pulse.config import parse_config
from smm_pulse.web.openapi import PATH, description
from smm_pulse.wiring import create_pipeline

METHODS = ("get", "put", "post", "delete", "patch", "options", "trace")


def served_routes() -> set[tuple[str, str]]:
    config = parse_config("brands: {acme: {}}\nchangelog_end_markers: 'off'\n", "t.yaml",
                          environ={})
    app: Any = create_pipeline(config, "127.0.0.1:1", 6066).app
    app.web.blueprints.apply(app.web)  # where Faust mounts views at start
    # aiohttp adds HEAD beside each route; it is no operation of its own.
    return {(route.method.lower(), route.resource.canonical)
            for route in app.web.web_app.router.routes() if route.method != "HEAD"}


def described_routes() -> set[tuple[str, str]]:
    return {(method, path) for path, item in description()["paths"].items()
            for method in item if method in METHODS}


def test_every_served_route_is_described_and_every_described_route_served():
    served, described = served_routes(), described_routes()
    assert served - described == set(), "routes missing from openapi.yaml"
    assert described - served == set(), "openapi.yaml describes routes nobody serves"
    assert ("get", PATH) in served


def test_the_description_is_valid_openapi_3():
    import jsonschema

    # The OpenAPI 3.0 meta-schema as schemathesis ships it (no package of its own needed).
    from schemathesis.specs.openapi.definitions import OPENAPI_30

    jsonschema.Draft4Validator(OPENAPI_30).validate(description())


def test_the_validation_finds_a_broken_description():
    import jsonschema
    from schemathesis.specs.openapi.definitions import OPENAPI_30

    broken = {**description(), "paths": {"/healthz": {"get": {"responses": {"200": 5}}}}}
    assert not jsonschema.Draft4Validator(OPENAPI_30).is_valid(broken)
