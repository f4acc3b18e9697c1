"""The whole service wired together: the Faust app, its topics and tables, every agent and
the web routes, for one configuration."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from smm_pulse.agents import (
    business,
    engagement,
    ingest,
    janitor,
    mentions,
    response_time,
    share_of_voice,
)
from smm_pulse.config import Config
from smm_pulse.connections import faust_credentials
from smm_pulse.runtime.faust_app import (
    FAUST_VIEWS_OFF,
    PRODUCER_BATCH_BYTES,
    App,
    changelog_end_markers,
    check_faust_views_off,
    reachable_host,
)
from smm_pulse.runtime.pipeline import Pipeline
from smm_pulse.streams.topics import Family, TopicNames
from smm_pulse.web import api, exporter, ingest_http, openapi, page, top, webhooks
from smm_pulse.web.auth import api_guard, is_loopback

log = logging.getLogger(__name__)


def web_options(config: Config, web_bind: str) -> dict[str, Any]:
    """aiohttp's application options: the API token's guard when a token is configured,
    else a warning when the port is reachable from other hosts."""
    token = config.api.secret()
    if token is None:
        if not is_loopback(web_bind):
            log.warning("the web port binds %s with no API token: anyone who reaches it reads "
                        "the API; set SMM_PULSE_API_TOKEN (docs/configuration.md, api)",
                        web_bind)
        return {}
    return {"middlewares": [api_guard(token, config.api.protect_metrics)]}


def create_pipeline(
    config: Config,
    bootstrap: str,
    web_port: int,
    web_bind: str = "127.0.0.1",
    data_dir: Path | None = None,
) -> Pipeline:

    app = App(
        config.app_id,
        broker=[f"kafka://{host.strip()}" for host in bootstrap.split(",") if host.strip()],
        # TLS and SASL of Faust's consumer, producer and topic admin (docs/kafka.md).
        broker_credentials=faust_credentials(config.kafka),
        store="memory://",
        datadir=str(data_dir or f"{config.app_id}-data"),
        topic_partitions=config.partitions,
        topic_replication_factor=1,
        web_bind=web_bind,
        web_port=web_port,
        # Other workers redirect API clients here: the address they can reach us at.
        canonical_url=f"http://{reachable_host(web_bind)}:{web_port}",
        web_in_thread=False,
        web_application_options=web_options(config, web_bind),
        # The port serves /metrics, the API and a health route, not Faust's views of
        # tables, routing and statistics (smm_pulse/runtime/faust_app.py).
        **FAUST_VIEWS_OFF,
        # Table state is idempotent by offset guards; exactly-once is not needed.
        processing_guarantee="at_least_once",
        producer_max_batch_size=PRODUCER_BATCH_BYTES,  # changelog flushes: see its comment
        # Faster failure detection than the defaults, which suit bigger clusters.
        broker_session_timeout=10.0,
        broker_heartbeat_interval=1.0,
        stream_wait_empty=False,
        # No standby replicas (Faust's default is one): a standby applies every changelog
        # record the other workers flush, through Faust's per-record path. With one, two
        # workers together read a backlog at 52,000-94,000 events/s where one alone did
        # 169,000; without, 216,000-356,000. A survivor took over a stopped worker's brands
        # 1-2 s later without (docs/benchmarks.md, "No standby replicas").
        table_standby_replicas=0,
    )
    check_faust_views_off(app.conf)
    app.end_markers = changelog_end_markers(config.changelog_end_markers, bootstrap,
                                            config.kafka)
    pipeline = app.written_behind = Pipeline(config, app, TopicNames(
        (config.topics.engagement, config.topics.mentions), config.app_id))

    @app.on_partitions_revoked.connect
    async def hold_revoked_changes(_app: Any, revoked: set[Any], **_kwargs: Any) -> None:
        for family in Family:
            pipeline.hold_changes(pipeline.family_partitions(revoked, family), family)

    @app.on_partitions_assigned.connect
    async def resume_assigned_changes(_app: Any, assigned: set[Any], **_kwargs: Any) -> None:
        for family in Family:
            pipeline.resume_changes(pipeline.family_partitions(assigned, family), family)

    for family in Family:
        pipeline.family_topics[family] = app.topic(
            pipeline.names.family(family),
            key_serializer="raw",
            value_serializer="raw",
            partitions=config.partitions,
            internal=True,
        )
    pipeline.dead_letter_topic = app.topic(config.topics.dlq, key_serializer="raw",
                                           value_serializer="raw")
    ingest.register(pipeline, bootstrap)
    engagement.register(pipeline)
    mentions.register(pipeline)
    share_of_voice.register(pipeline)
    response_time.register(pipeline)
    business.register(pipeline)
    janitor.register(pipeline)
    exporter.register(pipeline)
    api.register(pipeline)
    top.register(pipeline)  # GET /api/brands/{brand}/top-posts, .../top-authors
    page.register(pipeline)  # the live page at /, /api/overview, /healthz
    webhooks.register(pipeline, ingest_http.register(pipeline, bootstrap))  # POST /ingest
    openapi.register(pipeline)  # GET /api/openapi.json
    return pipeline

