"""``GET /api/brands/{brand}/top-posts`` and ``.../top-authors``: a brand's rankings in a window.

Query: ``window`` (a configured window; the longest by default), ``platform``
(all when absent), ``limit`` (1..100, 10 by default). The brand is URL-encoded
as in ``/api/kpis/`` (``kpis_path``), and a worker that does not own it answers
307 with the owner's URL, as that route does. Top posts rank by interactions
gained in the window, exactly; top authors by reach, estimated by Space-Saving
sketches, each row with the bound of its error (``reach_error``).
"""

from __future__ import annotations

import time
from typing import Any

from smm_pulse.kpi.catalog import Family
from smm_pulse.runtime.pipeline import Pipeline
from smm_pulse.web.api import to_owner
from smm_pulse.web.paths import BRANDS_PREFIX, brand_from_path, ranking_path

RANKINGS = ("top-posts", "top-authors")
DEFAULT_LIMIT, MAX_LIMIT = 10, 100


def ranking(pipeline: Pipeline, name: str, brand: str, query: Any, now: float
            ) -> tuple[dict[str, Any], int]:
    """(answer, status) of a brand this worker owns."""
    windows = pipeline.config.windows
    window = query.get("window") or windows[-1]
    if window not in windows:
        return {"error": f"window must be one of {', '.join(windows)}"}, 400
    try:
        limit = int(query.get("limit", DEFAULT_LIMIT))
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        return {"error": f"limit must be an integer from 1 to {MAX_LIMIT}"}, 400
    platform = query.get("platform") or None
    rank = pipeline.rankings.get(name)
    if rank is None:
        return {"error": "top lists are off on this worker (top_lists in the configuration)"}, 404
    rows = rank(brand, platform, window, limit, now)
    return {"brand": brand, "window": window, "platform": platform,
            name.replace("-", "_"): rows}, 200


def register(pipeline: Pipeline) -> None:
    for name in RANKINGS:
        _register(pipeline, name)


def _register(pipeline: Pipeline, name: str) -> None:
    # The brand is read from the raw path (brand_from_path), not from aiohttp's route
    # parameter (which matches no braces and has decoded escapes).
    @pipeline.app.page(f"{BRANDS_PREFIX}{{brand:.+}}/{name}")
    async def brand_ranking(web: Any, request: Any, **_route: str) -> Any:
        escaped = request.rel_url.raw_path.removeprefix(BRANDS_PREFIX).removesuffix("/" + name)
        brand = brand_from_path(escaped, prefix="")
        if brand is None:
            return web.json({"error": "the brand's escapes are not UTF-8"}, status=400)
        if brand not in pipeline.config.brands:
            return web.json({"error": f"brand {brand!r} is not declared"}, status=404)
        if pipeline.partition_of(brand) in pipeline.owned_partitions(Family.ENGAGEMENT):
            answer, status = ranking(pipeline, name, brand, request.query, time.time())
            return web.json(answer, status=status)
        path = ranking_path(brand, name)
        if request.rel_url.raw_query_string:
            path += "?" + request.rel_url.raw_query_string
        return to_owner(web, pipeline, brand, path)
