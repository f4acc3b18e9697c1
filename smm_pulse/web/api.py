"""JSON API: ``GET /api/kpis/{brand}``, the brand's current KPIs (and its configured
benchmarks) from the worker that owns it, and ``GET /api/events``, this worker's event
counts by outcome.

A worker that does not own the brand answers 307 with the owner's URL, so any
worker's port serves every brand (clients follow the redirect). The brand is
the rest of the path, URL-encoded (``kpis_path``): any declared name works,
``/``, ``%``, ``{``, ``}`` and all.
"""

from __future__ import annotations

import time
from typing import Any

from smm_pulse.kpi.catalog import Family
from smm_pulse.runtime.pipeline import Pipeline
from smm_pulse.web.exporter import kpi_samples
from smm_pulse.web.paths import KPIS_PREFIX, brand_from_path, kpis_path


def brand_kpis(pipeline: Pipeline, brand: str) -> list[dict[str, Any]]:
    """The brand's samples as the exporter computes them: one list, no second formula."""
    return [
        {"metric": kpi.sample_name,
         "labels": {name: v for name, v in zip(kpi.labels, values, strict=True)
                    if name != "brand"},
         "value": value}
        for kpi, values, value in kpi_samples(pipeline, time.time(), brand)
    ]


def owner_url(pipeline: Pipeline, brand: str) -> str | None:
    """The URL of the worker actively owning the brand's partition, from the assignor."""
    table = pipeline.tables[Family.ENGAGEMENT]
    changelog = table.changelog_topic.get_topic_name()
    partition = pipeline.partition_of(brand)
    for url, topics in pipeline.app.assignor.table_metadata(changelog).items():
        if partition in topics.get(changelog, ()):
            return str(url).rstrip("/")
    return None


def to_owner(web: Any, pipeline: Pipeline, brand: str, path: str) -> Any:
    """The answer for a brand this worker does not own: 307 to ``path`` (with its query)
    on the owner, or 503 while no worker owns it."""
    owner = owner_url(pipeline, brand)
    if owner is None:
        return web.json({"error": "no worker owns this brand right now (rebalancing)"},
                        status=503, headers={"Retry-After": "2"})
    return web.json({"owner": owner}, status=307, headers={"Location": owner + path})


def event_counts(pipeline: Pipeline) -> dict[str, float]:
    """Events counted by this worker per outcome: a cheap progress probe (no KPI work)."""
    counts: dict[str, float] = {"accepted": 0, "duplicate": 0, "rejected": 0}
    for metric in pipeline.events_total.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                counts[sample.labels["outcome"]] += sample.value
    return counts


def register(pipeline: Pipeline) -> None:
    @pipeline.app.page("/api/events")
    async def events(web: Any, request: Any) -> Any:
        return web.json(event_counts(pipeline))

    # Any path below the prefix; the brand is read from the raw path (brand_from_path),
    # not from the route parameter aiohttp decoded.
    @pipeline.app.page(KPIS_PREFIX + "{brand:.+}")
    async def kpis(web: Any, request: Any, **_route: str) -> Any:
        name = brand_from_path(request.rel_url.raw_path)
        if name is None:
            return web.json({"error": "the brand's escapes are not UTF-8"}, status=400)
        if name not in pipeline.config.brands:
            return web.json({"error": f"brand {name!r} is not declared"}, status=404)
        if pipeline.partition_of(name) in pipeline.owned_partitions(Family.ENGAGEMENT):
            return web.json({"brand": name, "kpis": brand_kpis(pipeline, name),
                             "benchmarks": pipeline.config.brands[name].benchmarks})
        return to_owner(web, pipeline, name, kpis_path(name))
