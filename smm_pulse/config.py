"""The service configuration: one YAML file, validated at start (docs/contract.md, section 5).

Every error names the file, the key path and what is wrong, e.g.
``demo.yaml: brands.acme.competitors[1]: 'globex' is not a declared brand``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from smm_pulse.streams.events import DEFAULT_CURRENCY, NAME_MAX_CHARS, normalize_brand
from smm_pulse.streams.topics import Family

CONFIG_ENV = "SMM_PULSE_CONFIG"
# Environment variables that override a key of the file, by its key path (operators of
# container images; secrets that should not sit in the file). An empty value counts as
# unset: compose files pass ``${VAR:-}`` for variables the operator left out.
ENV_OVERRIDES: dict[str, tuple[str, ...]] = {
    "SMM_PULSE_DEDUP_EXTRA_SECONDS": ("dedup_extra_seconds",),
    "SMM_PULSE_CHANGELOG_END_MARKERS": ("changelog_end_markers",),
    "SMM_KAFKA_SECURITY_PROTOCOL": ("kafka", "security_protocol"),
    "SMM_KAFKA_SASL_MECHANISM": ("kafka", "sasl_mechanism"),
    "SMM_KAFKA_SASL_USERNAME": ("kafka", "sasl_username"),
    "SMM_KAFKA_SASL_PASSWORD": ("kafka", "sasl_password"),
    "SMM_KAFKA_SASL_PASSWORD_FILE": ("kafka", "sasl_password_file"),
    "SMM_KAFKA_SSL_CAFILE": ("kafka", "ssl_cafile"),
    "SMM_KAFKA_SSL_CERTFILE": ("kafka", "ssl_certfile"),
    "SMM_KAFKA_SSL_KEYFILE": ("kafka", "ssl_keyfile"),
    "SMM_PULSE_API_TOKEN": ("api", "token"),
    "SMM_PULSE_API_TOKEN_FILE": ("api", "token_file"),
}
_DURATION = re.compile(r"^(\d+)(s|m|h|d)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class EnvVar:
    """An environment variable an operator may set; docs/configuration.md lists them."""

    name: str
    default: str
    help: str


ENVIRONMENT = (
    EnvVar(CONFIG_ENV, "", "The configuration file, where `--config` is not given."),
    EnvVar("SMM_KAFKA_BOOTSTRAP", "",
           "host:port list of the Kafka cluster. Unset: `smm-pulse up` starts an embedded "
           "broker on 127.0.0.1:9092, and the other commands use that address."),
    EnvVar("SMM_PULSE_PORT", "6066", "The worker's web port (`up --port`)."),
    EnvVar("SMM_PULSE_BIND", "127.0.0.1",
           "The web port's address (`up --bind`); 0.0.0.0 in containers."),
    EnvVar("SMM_PULSE_DATA_DIR", "./<app_id>-data",
           "The worker's local files (`up --data-dir`); missing parents are made."),
    EnvVar("SMM_PULSE_SENTIMENT_MODEL", "",
           "A local transformer model directory for the optional transformer scorer."),
    EnvVar("SMM_PULSE_SENTIMENT_DATA", "",
           "The labelled test sets `smm-pulse sentiment-bench` reads, where `--data` is not "
           "given."),
    *(EnvVar(name, "", f"Overrides the configuration's `{'.'.join(path)}` (empty: no "
                       "override).")
      for name, path in ENV_OVERRIDES.items()),
    EnvVar("RUST_LOG", "warn", "The embedded broker's log level (Tansu: error, warn, info, ...)."),
    EnvVar("GRAFANA_URL", "", "Grafana's base URL for `smm-pulse dashboards push`."),
    EnvVar("GRAFANA_TOKEN", "", "A Grafana service account token for `dashboards push`."),
)


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message says where and why."""


def duration_seconds(text: str) -> int:
    """Seconds in a Prometheus-style duration such as ``5m``, ``1h``, ``24h``, ``7d``."""
    match = _DURATION.match(text)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration like 30s, 5m, 1h or 7d")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def _check_duration(text: str) -> str:
    duration_seconds(text)
    return text


Duration = Annotated[str, AfterValidator(_check_duration)]


class _Strict(BaseModel):
    # A field's docstring is its help in docs/configuration.md (``smm_pulse.settings_docs``).
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True,
                              use_attribute_docstrings=True)


class MinTarget(_Strict):
    """A KPI that should stay at or above ``min`` over ``window``."""

    min: float
    """The goal: the KPI (a ratio, 0..1) stays at or above this."""
    window: Duration = "24h"
    """The window the KPI is read over (one of ``windows``)."""
    for_: Duration = Field("30m", alias="for")
    """How long the KPI must miss the goal before the alert fires."""


class SentimentTarget(MinTarget):
    """Mean sentiment (-1..1) that should stay at or above ``min``."""

    window: Duration = "1h"
    """The window the mean sentiment is read over (one of ``windows``)."""
    for_: Duration = Field("15m", alias="for")
    """How long the sentiment must miss the goal before the alert fires."""
    min_mentions: int = Field(20, ge=1)
    """The alert fires only with at least this many scored mentions in the window."""


class SpikeTarget(_Strict):
    """Mentions over the shortest window against their usual rate."""

    factor: float = Field(3.0, gt=1)
    """A spike: the recent mention rate is over this many times the usual one."""
    min_mentions: int = Field(50, ge=1)
    """... with at least this many mentions in the shortest window."""
    for_: Duration = Field("5m", alias="for")
    """How long the spike must last before the alert fires."""


class MaxTarget(_Strict):
    """A KPI that should stay at or below ``max``."""

    max: float = Field(gt=0)
    """The goal: mean seconds to the first reply stay at or below this."""
    window: Duration = "24h"
    """The window the KPI is read over (one of ``windows``)."""
    for_: Duration = Field("1h", alias="for")
    """How long the KPI must miss the goal before the alert fires."""


class RoiTarget(MinTarget):
    """ROI that should stay at or above ``min``."""

    min: float
    """The goal: (revenue - ad spend) / ad spend stays at or above this (0 breaks even,
    1 earns the spend back twice; it may be negative)."""
    for_: Duration = Field("1h", alias="for")
    """How long ROI must miss the goal before the alert fires."""


class RatioMaxTarget(MaxTarget):
    """A ratio KPI (0..1) that should stay at or below ``max``."""

    max: float = Field(gt=0, le=1)
    """The goal: the KPI stays at or below this."""


class MoneyMaxTarget(MaxTarget):
    """An amount of money that should stay at or below ``max``."""

    max: float = Field(gt=0)
    """The goal, in the brand's ``currency``: the KPI stays at or below this."""


class FollowersGoal(_Strict):
    """A time-bound audience goal: the alert fires when the current pace misses it."""

    target: int = Field(gt=0)
    """Followers, summed over platforms, to reach."""
    by: dt.date
    """The date to reach them by."""
    for_: Duration = Field("1h", alias="for")
    """How long the pace must miss the goal before the alert fires."""

    @property
    def deadline_seconds(self) -> float:
        """Unix seconds at the start of ``by`` (UTC): the alert rule and the page agree."""
        return dt.datetime.combine(self.by, dt.time(), dt.UTC).timestamp()


class Targets(_Strict):
    """A brand's KPI goals: each becomes an alert rule and a dashboard threshold."""

    engagement_rate: MinTarget | None = None
    """Engagement rate by followers, per platform."""
    sentiment_score: SentimentTarget | None = None
    """Mean sentiment of the brand's mentions."""
    mention_spike: SpikeTarget | None = None
    """A sudden rise in mentions (a possible crisis)."""
    share_of_voice: MinTarget | None = None
    """The brand's share of its competitive set's mentions."""
    response_time: MaxTarget | None = None
    """Mean time to the brand's first reply to a customer, per platform."""
    followers: FollowersGoal | None = None
    """Followers summed over platforms by a date."""
    conversion_rate: MinTarget | None = None
    """Conversions of every kind / visits from the platform, per platform."""
    bounce_rate: RatioMaxTarget | None = None
    """Bounced visits / visits from the platform, per platform."""
    cost_per_click: MoneyMaxTarget | None = None
    """Ad spend / ad clicks (CPC), per platform."""
    customer_acquisition_cost: MoneyMaxTarget | None = None
    """Ad spend / conversions by new customers (CAC), per platform."""
    roi: RoiTarget | None = None
    """(Revenue - ad spend) / ad spend, per platform."""


# A campaign's name: as long as an event's ``campaign`` may be (the contract's bounds).
CampaignName = Annotated[str, StringConstraints(min_length=1, max_length=128)]
MAX_CAMPAIGNS = 50  # per brand: the ``campaign`` label stays bounded


# The KPI family each kind of target's alert reads (``Targets``' fields): a target needs its
# family exported (``Export``).
TARGET_FAMILIES: dict[str, Family] = {
    "engagement_rate": Family.ENGAGEMENT,
    "sentiment_score": Family.MENTIONS,
    "mention_spike": Family.MENTIONS,
    "share_of_voice": Family.VOICE,
    "response_time": Family.RESPONSE,
    "followers": Family.ENGAGEMENT,
    "conversion_rate": Family.BUSINESS,
    "bounce_rate": Family.BUSINESS,
    "cost_per_click": Family.BUSINESS,
    "customer_acquisition_cost": Family.BUSINESS,
    "roi": Family.BUSINESS,
}


class Export(_Strict):
    """The series budget: which KPIs ``/metrics`` serves to Prometheus (docs/metrics.md,
    "Series budget"). Alert rules and dashboards follow; the live page and the JSON API
    still compute every KPI."""

    families: list[Family] | None = None
    """KPI families exported; unset: all. A brand's target needs its family here."""
    windows: list[Duration] | None = None
    """Windows the windowed KPIs are exported for, among ``windows``; unset: all. A target's
    window needs to be here; a mention spike needs two of them."""

    @field_validator("families", "windows")
    @classmethod
    def _distinct_and_not_empty(cls, values: list[Any] | None) -> list[Any] | None:
        if values is not None and not values:
            raise ValueError("leave it out to export all, or name at least one")
        if values is not None and len(set(values)) != len(values):
            raise ValueError("listed twice")
        return values


class Brand(_Strict):
    """A brand the service tracks; events of undeclared brands are rejected."""

    competitors: list[str] = []
    """Declared brands in this brand's competitive set (share of voice)."""
    targets: Targets = Targets()
    """KPI goals."""
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = DEFAULT_CURRENCY
    """ISO 4217 code of the brand's money (revenue, ad spend): an event with another
    ``currency`` is rejected (``currency_mismatch``), never converted."""
    benchmarks: dict[Annotated[str, Field(pattern=r"^smm_[a-z0-9_]+$")],
                     Annotated[float, Field(allow_inf_nan=False)]] = {}
    """Industry benchmarks: a KPI's metric name (docs/metrics.md) -> the value to compare
    with (money in ``currency``), e.g. ``smm_engagement_rate_ratio: 0.035``. Drawn as
    reference lines on the brand dashboard and listed by the JSON API; no alert."""
    campaigns: list[CampaignName] = Field([], max_length=MAX_CAMPAIGNS)
    """Campaigns whose business KPIs are also exported per campaign, over all platforms
    (``smm_campaign_*`` metrics, label ``campaign``): names as the events' ``campaign``
    carries them (a UTM campaign), compared exactly; 1..128 characters, each listed once, at
    most 50 (each adds about 20 series per window). Events of any other campaign count in
    the brand's figures only."""

    @field_validator("campaigns")
    @classmethod
    def _campaigns_listed_once(cls, campaigns: list[str]) -> list[str]:
        for i, name in enumerate(campaigns):
            if name in campaigns[:i]:
                raise ValueError(f"campaign {name!r} is listed twice")
        return campaigns


class Topics(_Strict):
    """Kafka topics of the contract."""

    engagement: str = "smm.engagement"
    """Input: account, post, interaction and message events."""
    mentions: str = "smm.mentions"
    """Input: mention events."""
    dlq: str = "smm.dlq"
    """Output: rejected events with their reason in headers."""


class Ingest(_Strict):
    """How the ingest stage reads collectors' messages (docs/benchmarks.md, "Fetch wait and
    poll gathering"): larger polls and gathering mean fewer, larger internal messages."""

    poll_messages: int = Field(500, ge=1)
    """Messages per fetch round."""
    poll_bytes: int = Field(4 * 1024 * 1024, ge=1024)
    """Bytes: a poll stops gathering fetch rounds at this size."""
    gather_seconds: float = Field(0.25, ge=0, le=10)
    """A poll goes on gathering this long after its first message (adds as much latency)."""
    pack_bytes: int = Field(1024 * 1024, ge=1024)
    """Input bytes whose events one internal message carries at most."""


class SentimentSettings(_Strict):
    """How the service scores mentions that come without the collector's sentiment."""

    scorer: Literal["model", "rules"] = "model"
    """The trained model shipped in the package (docs/sentiment.md), or the rules alone:
    no start-up cost, twenty times the speed, less accurate."""


SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


def _readable_file(path: Path) -> Path:
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise ValueError(f"cannot read {str(path)!r}: {exc.strerror}") from None
    return path


ReadableFile = Annotated[Path, AfterValidator(_readable_file)]


class Kafka(_Strict):
    """How every Kafka client of the service connects: TLS and SASL (docs/kafka.md). The
    brokers' addresses come from SMM_KAFKA_BOOTSTRAP."""

    security_protocol: SecurityProtocol = "PLAINTEXT"
    """PLAINTEXT, SSL (TLS), SASL_PLAINTEXT or SASL_SSL (SASL over TLS, what managed Kafka
    services ask for)."""
    sasl_mechanism: SaslMechanism = "PLAIN"
    """The SASL mechanism of the SASL_* protocols: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512."""
    sasl_username: str | None = None
    """The SASL user name (on Confluent Cloud: the API key)."""
    sasl_password: SecretStr | None = None
    """The SASL password; rather set SMM_KAFKA_SASL_PASSWORD or ``sasl_password_file``
    than write a secret into the file."""
    sasl_password_file: ReadableFile | None = None
    """A file holding the SASL password (a mounted secret); a trailing newline is ignored."""
    ssl_cafile: ReadableFile | None = None
    """PEM file of the CA certificates the brokers' certificates are checked against;
    unset: the system's CAs."""
    ssl_certfile: ReadableFile | None = None
    """PEM client certificate, for brokers that authenticate clients by certificate
    (mutual TLS); it may hold the private key too."""
    ssl_keyfile: ReadableFile | None = None
    """PEM private key of ``ssl_certfile``, when that file does not hold it."""
    connect_timeout_seconds: float = Field(10.0, gt=0, le=300)
    """How long the connection check at start waits for the brokers before it gives up
    with one line saying why."""

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @model_validator(mode="after")
    def _credentials_fit_the_protocol(self) -> Kafka:
        if self.sasl_password is not None and self.sasl_password_file is not None:
            raise ValueError("give sasl_password or sasl_password_file, not both")
        if self.ssl_keyfile is not None and self.ssl_certfile is None:
            raise ValueError("ssl_keyfile needs ssl_certfile")
        if self.uses_sasl:
            if not self.sasl_username:
                raise ValueError(f"sasl_username is needed with {self.security_protocol}")
            if self.sasl_password is None and self.sasl_password_file is None:
                raise ValueError(f"sasl_password or sasl_password_file is needed with "
                                 f"{self.security_protocol}")
        return self


class Api(_Strict):
    """Who may read the web port's JSON API (``/api/...``) and, optionally, ``/metrics``.
    ``/healthz``, the health answer at ``/`` and the live page's files stay open."""

    token: SecretStr | None = None
    """A bearer token the JSON API asks for (``Authorization: Bearer <token>``); unset: the
    API is open. Rather set SMM_PULSE_API_TOKEN or ``token_file`` than write it here."""
    token_file: ReadableFile | None = None
    """A file holding the API token (a mounted secret); a trailing newline is ignored."""
    protect_metrics: bool = False
    """``/metrics`` asks for the token too (Prometheus: ``authorization: {credentials:
    ...}`` in its scrape config)."""

    @model_validator(mode="after")
    def _one_token_source(self) -> Api:
        if self.token is not None and self.token_file is not None:
            raise ValueError("give token or token_file, not both")
        if self.protect_metrics and self.token is None and self.token_file is None:
            raise ValueError("protect_metrics needs token or token_file")
        if self.secret() == "" or (self.token is not None and not self.token.get_secret_value()):
            raise ValueError("the API token is empty")
        return self

    def secret(self) -> str | None:
        """The token, read from ``token_file`` when that is set (once, at start)."""
        if self.token_file is not None:
            return self.token_file.read_text(encoding="utf-8").rstrip("\r\n")
        return self.token.get_secret_value() if self.token is not None else None


class HttpCollector(_Strict):
    """A collector allowed to post events to ``POST /ingest``."""

    token_sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    """SHA-256 of the collector's token in hex, e.g. ``printf %s "$TOKEN" | sha256sum``:
    the token itself is never stored."""


CollectorName = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")]


class IngestHttp(_Strict):
    """``POST /ingest`` on the worker's web port: collectors send events over HTTP(S)
    instead of Kafka (docs/contract.md, section 1)."""

    collectors: dict[CollectorName, HttpCollector] = {}
    """Collectors by name, each with its token's hash; none: ``/ingest`` refuses everyone."""
    max_body_bytes: int = Field(1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    """Largest request body; a larger one is answered 413."""
    events_per_second: float = Field(1000.0, gt=0)
    """Sustained events per second per collector, each of ``collectors`` and each webhook
    collector (``webhooks``) in its own bucket; over it the answer is 429 with
    Retry-After."""
    burst_events: int = Field(10_000, ge=1)
    """Events a collector may send at once above the sustained rate."""
    send_timeout_seconds: float = Field(10.0, gt=0, le=120)
    """How long a request (of ``/ingest`` or a webhook) waits for the broker to answer the
    pre-flight check and acknowledge its events before it is answered 503 with
    Retry-After (send the whole request again: written events count once)."""


class _WebhookSecret(_Strict):
    """A secret given inline or in a file (a mounted secret), not both."""

    def _one_of(self, inline: SecretStr | None, file: Path | None, name: str) -> None:
        if inline is not None and file is not None:
            raise ValueError(f"give {name} or {name}_file, not both")
        if inline is None and file is None:
            raise ValueError(f"{name} or {name}_file is needed")


def _read_secret(inline: SecretStr | None, file: Path | None) -> str:
    if file is not None:
        return file.read_text(encoding="utf-8").rstrip("\r\n")
    return inline.get_secret_value() if inline is not None else ""


class VkWebhook(_WebhookSecret):
    """A VK community whose Callback API posts to ``/webhooks/vk/<collector>``
    (docs/webhooks.md)."""

    brand: str
    """The declared brand the community's events count for."""
    group_id: int = Field(gt=0)
    """The community's id (positive): a call of another community goes to the dead-letter
    topic, and a comment from ``-group_id`` is the brand's reply."""
    confirmation: str = Field(min_length=1, max_length=256)
    """The string the Callback API settings show, answered to its ``confirmation`` request."""
    secret: SecretStr | None = None
    """The "secret key" of the Callback API settings, sent in every callback's ``secret``."""
    secret_file: ReadableFile | None = None
    """A file holding ``secret`` (a mounted secret); a trailing newline is ignored."""
    account: str | None = Field(None, min_length=1, max_length=1024)
    """The events' ``account``; unset: ``club<group_id>``."""

    @model_validator(mode="after")
    def _one_secret(self) -> VkWebhook:
        self._one_of(self.secret, self.secret_file, "secret")
        return self

    def secret_value(self) -> str:
        return _read_secret(self.secret, self.secret_file)


class TelegramWebhook(_WebhookSecret):
    """A Telegram bot whose updates (``setWebhook``) post to
    ``/webhooks/telegram/<collector>`` (docs/webhooks.md)."""

    brand: str
    """The declared brand the channel's events count for."""
    channel_id: int
    """The channel's chat id (e.g. -1001234567890): its posts are the brand's posts, and a
    comment sent on its behalf is the brand's reply."""
    secret_token: SecretStr | None = None
    """The ``secret_token`` given to ``setWebhook`` (1-256 of A-Z, a-z, 0-9, _ and -);
    Telegram sends it in the header X-Telegram-Bot-Api-Secret-Token."""
    secret_token_file: ReadableFile | None = None
    """A file holding ``secret_token`` (a mounted secret); a trailing newline is ignored."""
    account: str | None = Field(None, min_length=1, max_length=1024)
    """The events' ``account``; unset: the channel id."""

    @model_validator(mode="after")
    def _one_secret(self) -> TelegramWebhook:
        self._one_of(self.secret_token, self.secret_token_file, "secret_token")
        return self

    def secret_value(self) -> str:
        return _read_secret(self.secret_token, self.secret_token_file)


class Webhooks(_Strict):
    """Platforms that push events to the worker's web port, by collector name."""

    vk: dict[CollectorName, VkWebhook] = {}
    """VK communities (Callback API) by collector name."""
    telegram: dict[CollectorName, TelegramWebhook] = {}
    """Telegram bots by collector name."""

    @property
    def any(self) -> bool:
        return bool(self.vk or self.telegram)


class Config(_Strict):
    """The service's configuration: one YAML file."""

    brands: dict[str, Brand] = Field(min_length=1)
    """Brands by name (any Unicode, 1..64 characters, compared after NFC normalisation)."""
    app_id: str = Field("smm-pulse", pattern=r"^[A-Za-z0-9._-]{1,100}$")
    """Consumer group and prefix of internal topics: workers with one id share the work."""
    windows: list[Duration] = ["5m", "1h", "24h"]
    """Trailing windows of every KPI."""
    topics: Topics = Topics()
    """Kafka topics of the contract."""
    partitions: int = Field(8, ge=1, le=256)
    """Partitions of the internal topics: the most workers that can share the work."""
    post_retention: Duration = "30d"
    """A post whose snapshots stop for this long is forgotten (bounded state); a later
    snapshot of it counts as a first one (docs/design.md)."""
    platforms: list[Annotated[str, Field(
        pattern=rf"^[a-z0-9][a-z0-9_.-]{{0,{NAME_MAX_CHARS - 1}}}$")]] = []
    """Platform ids accepted besides the contract's (vk, telegram, ...): events of any other
    platform are rejected, so series stay bounded whatever collectors send."""
    dedup_extra_seconds: float = Field(3600.0, ge=0, allow_inf_nan=False)
    """Event ids are remembered for the longest window plus this long, so a collector's
    retry of an event already outside every window is still caught (env
    SMM_PULSE_DEDUP_EXTRA_SECONDS overrides)."""
    changelog_end_markers: Literal["auto", "on", "off"] = "auto"
    """End each flush with a one-record batch per changelog partition, for brokers that
    report a changelog's end at the start of its last batch (auto: detected at start; env
    SMM_PULSE_CHANGELOG_END_MARKERS overrides)."""
    ingest: Ingest = Ingest()
    """How the ingest stage reads collectors' messages."""
    janitor_interval_seconds: float = Field(30.0, gt=0)
    """How often expired state (window buckets, event ids, posts, threads) is deleted."""
    top_lists: bool = True
    """Keep top posts and top authors (the live page's lists and
    /api/brands/<brand>/top-posts and /top-authors); off, those routes answer 404. What
    their state costs in throughput and memory: docs/benchmarks.md, "Top lists"."""
    grafana_url: str = Field("http://localhost:3000", pattern=r"^https?://[^\s]+$")
    """Grafana's base URL, for the dashboard links in alert annotations."""
    worker_url: str = Field("http://127.0.0.1:6066", pattern=r"^https?://[^\s]+$")
    """The workers' web port as alert receivers reach it (any worker: it redirects to the
    brand's owner), for the top-authors links in alert annotations."""
    sentiment: SentimentSettings = SentimentSettings()
    """How mentions without the collector's sentiment are scored."""
    kafka: Kafka = Kafka()
    """How the service's Kafka clients connect: TLS and SASL (env SMM_KAFKA_* override)."""
    api: Api = Api()
    """Bearer token of the JSON API and, optionally, /metrics (env SMM_PULSE_API_TOKEN)."""
    ingest_http: IngestHttp = IngestHttp()
    """Events posted over HTTP: collectors' token hashes and limits."""
    webhooks: Webhooks = Webhooks()
    """Platforms' webhooks (VK Callback API, Telegram bots): each collector's brand and
    secret."""
    export: Export = Export()
    """Which KPI families and windows /metrics exports (the series budget); default: all."""

    @field_validator("brands", mode="before")
    @classmethod
    def _brands_by_nfc_name(cls, brands: Any) -> Any:
        if not isinstance(brands, dict):
            return brands
        normalized: dict[str, Any] = {}
        for name, body in brands.items():
            if not isinstance(name, str) or not 1 <= len(name) <= NAME_MAX_CHARS:
                raise ValueError(f"brand name {name!r} must be a string of "
                                 f"1..{NAME_MAX_CHARS} characters")
            key = normalize_brand(name)
            if key in normalized:
                raise ValueError(f"brand {name!r} is declared twice")
            normalized[key] = body if body is not None else {}
        return normalized

    @field_validator("windows")
    @classmethod
    def _distinct_windows(cls, windows: list[str]) -> list[str]:
        if not windows:
            raise ValueError("at least one window is needed")
        if len({duration_seconds(w) for w in windows}) != len(windows):
            raise ValueError("windows must be distinct")
        return sorted(windows, key=duration_seconds)

    @model_validator(mode="after")
    def _competitors_are_declared_brands(self) -> Config:
        for name, brand in self.brands.items():
            seen: set[str] = set()
            for i, raw in enumerate(brand.competitors):
                competitor = normalize_brand(raw)
                where = f"brands.{name}.competitors[{i}]"
                if competitor == name:
                    raise ValueError(f"{where}: a brand cannot be its own competitor")
                if competitor not in self.brands:
                    raise ValueError(f"{where}: {raw!r} is not a declared brand")
                if competitor in seen:
                    raise ValueError(f"{where}: {raw!r} is listed twice")
                seen.add(competitor)
        return self

    @model_validator(mode="after")
    def _webhook_brands_are_declared(self) -> Config:
        for platform, collectors in (("vk", self.webhooks.vk),
                                     ("telegram", self.webhooks.telegram)):
            for name, hook in collectors.items():
                if normalize_brand(hook.brand) not in self.brands:
                    raise ValueError(f"webhooks.{platform}.{name}.brand: {hook.brand!r} is "
                                     "not a declared brand")
        return self

    @model_validator(mode="after")
    def _target_windows_are_configured(self) -> Config:
        for name, brand in self.brands.items():
            for kind, target in brand.targets:
                window = getattr(target, "window", None)
                if window is not None and window not in self.windows:
                    raise ValueError(f"brands.{name}.targets.{kind}.window: {window!r} is not "
                                     f"one of the configured windows {self.windows}")
        return self

    @model_validator(mode="after")
    def _spikes_need_two_windows(self) -> Config:
        # The usual mention rate is the longest window without the shortest one.
        if len(self.exported_windows) < 2:
            for name, brand in self.brands.items():
                if brand.targets.mention_spike is not None:
                    raise ValueError(f"brands.{name}.targets.mention_spike: a spike is judged "
                                     "against the usual rate, which needs two windows"
                                     + (" exported (export.windows)"
                                        if self.export.windows is not None else ""))
        return self

    @model_validator(mode="after")
    def _targets_read_exported_series(self) -> Config:
        """A target's alert reads its family's series over its window: both exported."""
        for window in self.export.windows or ():
            if window not in self.windows:
                raise ValueError(f"export.windows: {window!r} is not one of the configured "
                                 f"windows {self.windows}")
        for name, brand in self.brands.items():
            for kind, target in brand.targets:
                if target is None:
                    continue
                where = f"brands.{name}.targets.{kind}"
                family = TARGET_FAMILIES[kind]
                if family not in self.exported_families:
                    raise ValueError(f"{where}: its alert reads the {family.value} KPIs, which "
                                     f"export.families leaves out")
                window = getattr(target, "window", None)
                if window is not None and window not in self.exported_windows:
                    raise ValueError(f"{where}.window: {window!r} is not exported "
                                     f"(export.windows: {self.exported_windows})")
        return self

    @property
    def exported_families(self) -> frozenset[Family]:
        """The KPI families /metrics serves (``export.families``; all by default)."""
        return frozenset(Family if self.export.families is None else self.export.families)

    @property
    def exported_windows(self) -> list[str]:
        """The windows /metrics serves windowed KPIs for, shortest first (all by default)."""
        if self.export.windows is None:
            return list(self.windows)
        return [w for w in self.windows if w in self.export.windows]

    @property
    def window_seconds(self) -> dict[str, int]:
        return {w: duration_seconds(w) for w in self.windows}

    @property
    def longest_window_seconds(self) -> int:
        return max(self.window_seconds.values())

    def competitive_set(self, brand: str) -> list[str]:
        """The brand itself followed by its competitors (share of voice denominator)."""
        return [brand, *(normalize_brand(c) for c in self.brands[brand].competitors)]


_M = TypeVar("_M", bound=BaseModel)


def _where(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part not in ("function-after", "function-before"):
            path += f".{part}" if path else str(part)
    return path


def _problem(source: str, error: Any, prefix: tuple[str, ...],
             overridden: Mapping[tuple[str, ...], str]) -> str:
    message = error["msg"].removeprefix("Value error, ")
    loc = (*prefix, *error["loc"])
    if not loc:  # cross-field checks name their key path themselves
        return f"{source}: {message}"
    # A value from the environment is named by its variable: the file does not hold it.
    setters = [name for path, name in overridden.items() if loc[:len(path)] == path]
    return f"{source}: {_where(loc)}: {message}" + (f" (from {setters[0]})" if setters else "")


def _overridden(data: dict[str, Any], environ: Mapping[str, str]
                ) -> tuple[dict[str, Any], dict[tuple[str, ...], str]]:
    """``data`` with the environment's overrides (``ENV_OVERRIDES``) set at their key paths,
    and the paths set, each with its variable."""
    data = dict(data)
    applied: dict[tuple[str, ...], str] = {}
    for name, path in ENV_OVERRIDES.items():
        if not environ.get(name):
            continue
        node = data
        for key in path[:-1]:
            inner = node.get(key)
            # A section the file leaves out (or empty) is made; any other value is left
            # for validation to report.
            if inner is None:
                inner = {}
            if not isinstance(inner, dict):
                break
            node[key] = node = dict(inner)
        else:
            node[path[-1]] = environ[name]
            applied[path] = name
    return data, applied


def _validated(model: type[_M], data: Any, source: str, prefix: tuple[str, ...] = (),
               overridden: Mapping[tuple[str, ...], str] | None = None) -> _M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError("\n".join(_problem(source, e, prefix, overridden or {})
                                     for e in exc.errors())) from None


def parse_config(text: str, source: str, environ: Mapping[str, str] | None = None) -> Config:
    """Parse and validate YAML text, then the environment's overrides (``ENV_OVERRIDES``);
    ``source`` names the file in errors."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: (top level): expected a mapping with a 'brands' key")
    data, overridden = _overridden(data, os.environ if environ is None else environ)
    return _validated(Config, data, source, overridden=overridden)


def kafka_from_environment(environ: Mapping[str, str] | None = None) -> Kafka:
    """The ``kafka`` section from the environment alone (``SMM_KAFKA_*``): for commands
    that run without a configuration file."""
    data, overridden = _overridden({}, os.environ if environ is None else environ)
    return _validated(Kafka, data.get("kafka", {}), "environment", ("kafka",), overridden)


def load_config(path: str | os.PathLike[str] | None) -> Config:
    """Load the file named by ``path``, else by ``$SMM_PULSE_CONFIG``."""
    chosen = path or os.environ.get(CONFIG_ENV)
    if not chosen:
        raise ConfigError(f"no configuration: pass --config FILE or set {CONFIG_ENV}")
    file = Path(chosen)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror}") from None
    return parse_config(text, str(file))
