"""Prometheus exporter: the KPI catalog evaluated on the tables at scrape time.

Values are computed when Prometheus scrapes, at the wall clock of the scrape, so
trailing windows are always current (whole scrapes share a render up to a
second old: ``register``). Only brands whose partition this worker
actively owns are exported; when a partition moves away its series vanish with
the next scrape (no stale series), and its new owner starts exporting them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection, Iterable, Iterator
from operator import itemgetter
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from smm_pulse.kpi.budget import exported_kpis, sample_names
from smm_pulse.kpi.catalog import (
    CATALOG,
    CONSUMER_LAG,
    LABELS,
    STATE_KEYS,
    Family,
    Kpi,
    Scope,
    ServiceMetric,
)
from smm_pulse.runtime.pipeline import Pipeline
from smm_pulse.state import TOTAL
from smm_pulse.web.negotiation import accepts_gzip
from smm_pulse.web.render import BytesPerTurn, Encoded, SharedRender, in_slices

WINDOWED = (Scope.WINDOW, Scope.BRAND_WINDOW, Scope.CAMPAIGN_WINDOW)


Sample = tuple[Kpi, tuple[str, ...], float]  # KPI, label values in ``kpi.labels`` order, value


# Label values in ``LABELS[scope]`` order, picked from (brand, platform or campaign, window):
# every scope has at least two labels, so each getter returns a tuple.
_CONTEXT = {"brand": 0, "platform": 1, "campaign": 1, "window": 2}
_SCOPE_LABELS = {scope: itemgetter(*(_CONTEXT[name] for name in names))
                 for scope, names in LABELS.items()}


def kpi_samples(pipeline: Pipeline, now: float, brand: str | None = None,
                names: Collection[str] | None = None, *,
                exported_only: bool = False) -> Iterator[Sample]:
    """The KPI catalog evaluated on the views of owned, declared brands (or one brand).

    ``names``: only these metrics (sample names, as exposed); a family none of
    them needs is not computed at all. ``exported_only``: only the families and
    windows the configuration exports (``export``: /metrics).
    """
    windows = [window.name for window in pipeline.windows]
    catalog = CATALOG
    if exported_only:
        catalog, windows = exported_kpis(pipeline.config), pipeline.config.exported_windows
    brands = pipeline.config.brands
    views = _OwnedViews(pipeline, now)
    sources = [(family, False) for family in pipeline.views] + [
        (family, True) for family in pipeline.campaign_views]
    for family, by_campaign in sources:
        kpis = [(k, _SCOPE_LABELS[k.scope], tuple(v for _, v in k.const_labels),
                 windows if k.scope in WINDOWED else [TOTAL])
                for k in catalog
                if k.family is family and (k.scope is Scope.CAMPAIGN_WINDOW) == by_campaign
                and (names is None or exposed_name(k) in names)]
        if not kpis:
            continue
        for pair, pair_views in sorted(views.of(family, by_campaign).items()):
            pair_brand, place = pair  # place: the platform, or the campaign
            if brand is not None and pair_brand != brand:
                continue
            for kpi, scope_labels, const_values, view_names in kpis:
                joined = None if kpi.joins is None else views.of(kpi.joins).get(pair, {})
                for view_name in view_names:
                    view = pair_views[view_name]
                    if joined is not None:  # a cross-family KPI (``Kpi.joins``)
                        view = view.joined(joined.get(view_name))
                    value = kpi.value(view)
                    if value is None:  # absent, never 0 or NaN, when undefined
                        continue
                    context = (pair_brand, place, "" if view_name == TOTAL else view_name)
                    labels = scope_labels(context) + const_values
                    if kpi.money:  # in the brand's one currency (``Kpi.money``)
                        labels += (brands[pair_brand].currency,)
                    yield kpi, labels, value


class _OwnedViews:
    """Each family's views of owned brands, computed once per scrape, when first needed
    (a cross-family KPI reads a second family's)."""

    def __init__(self, pipeline: Pipeline, now: float) -> None:
        self.pipeline = pipeline
        self.now = now
        self._found: dict[tuple[Family, bool], dict[tuple[str, str], Any]] = {}

    def of(self, family: Family, by_campaign: bool = False) -> dict[tuple[str, str], Any]:
        key = (family, by_campaign)
        if key not in self._found:
            source = (self.pipeline.campaign_views if by_campaign else self.pipeline.views)
            self._found[key] = _owned(self.pipeline, family, source[family](self.now))
        return self._found[key]


def _owned(pipeline: Pipeline, family: Family, by_pair: dict[tuple[str, str], Any]
           ) -> dict[tuple[str, str], Any]:
    """Views of brands still declared whose partition this worker actively owns."""
    owned = pipeline.owned_partitions(family)
    declared = pipeline.config.brands
    return {pair: value for pair, value in by_pair.items()
            if pair[0] in declared and pipeline.partition_of(pair[0]) in owned}


class Exposition:
    """Prometheus text format of KPI samples, as prometheus_client writes it, built a sample
    at a time (so a render can pause between samples).

    Written here because prometheus_client's exposition costs ~30 µs a sample
    (label name checks, Sample objects), seconds of the event loop per scrape
    with hundreds of brands; tests/unit/test_exporter.py checks both agree.
    ``names``: the metrics whose HELP and TYPE lines to write (default: all).
    """

    def __init__(self, names: Collection[str] | None = None) -> None:
        self._lines: dict[str, list[str]] = {
            metric: [header] for metric, header in _HEADERS.items()
            if names is None or _EXPOSED[metric] in names}
        if len(_SERIES) > MAX_CACHED_SERIES:
            _SERIES.clear()

    def add(self, sample: Sample) -> None:
        kpi, values, value = sample
        key = (id(kpi), values)
        series = _SERIES.get(key)
        if series is None:
            series = _SERIES[key] = _series(kpi, values)
        # floatToGoString only rewrites numbers from 1e6 up, inf and NaN: the same text.
        number = repr(float(value)) if -1e6 < value < 1e6 else floatToGoString(value)
        self._lines[kpi.metric].append(f"{series} {number}\n")

    def text(self) -> bytes:
        return "".join(line for lines in self._lines.values() for line in lines).encode()


def render_kpis(samples: Iterable[Sample], names: Collection[str] | None = None) -> bytes:
    """The samples in Prometheus text format, all at once (``Exposition``)."""
    exposition = Exposition(names)
    for sample in samples:
        exposition.add(sample)
    return exposition.text()


# The series part of a sample line ('name{label="value",...}') by (KPI, label values):
# series persist from scrape to scrape, so each is written once (bounded: brands are
# declared; the cache starts afresh should platforms grow past the bound).
_SERIES: dict[tuple[int, tuple[str, ...]], str] = {}
MAX_CACHED_SERIES = 1_000_000


def _series(kpi: Kpi, values: tuple[str, ...]) -> str:
    labels = ",".join(f'{name}="{_escape_label(v)}"'
                      for name, v in sorted(zip(kpi.labels, values, strict=True)))
    return f"{exposed_name(kpi)}{{{labels}}}"


def exposed_name(kpi: Kpi) -> str:
    """The sample name: counters end in ``_total``."""
    return kpi.metric.removesuffix("_total") + "_total" if kpi.scope is Scope.TOTAL else kpi.metric


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape_label(value: str) -> str:
    """As in HELP text, and quotes too."""
    return _escape_help(value).replace('"', '\\"')


def _header(kpi: Kpi) -> str:
    kind = "counter" if kpi.scope is Scope.TOTAL else "gauge"
    name = exposed_name(kpi)
    return f"# HELP {name} {_escape_help(kpi.help)}\n# TYPE {name} {kind}\n"


# HELP and TYPE per metric, from its first catalog entry (KPIs told apart by
# constant labels share a metric): the same at every scrape, so built once.
_HEADERS: dict[str, str] = {}
_EXPOSED: dict[str, str] = {}  # catalog metric -> sample name
for _kpi in CATALOG:
    _HEADERS.setdefault(_kpi.metric, _header(_kpi))
    _EXPOSED[_kpi.metric] = exposed_name(_kpi)


def _gauge(metric: ServiceMetric) -> GaugeMetricFamily:
    return GaugeMetricFamily(metric.name, metric.help, labels=list(metric.labels))


class HealthCollector(Collector):
    """The worker's own gauges that are computed at scrape time: state keys, consumer lag."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    def describe(self) -> list[Metric]:
        # The names only (values depend on ownership at scrape time); a registry restricted
        # to some names (/metrics?name[]=...) finds its collectors by these.
        return [_gauge(STATE_KEYS), _gauge(CONSUMER_LAG)]

    def collect(self) -> Iterator[Metric]:
        state = _gauge(STATE_KEYS)
        self.pipeline.settle_buckets()  # buckets being kept count once written
        for name, section in sorted(self.pipeline.sections.items()):
            state.add_metric([name], len(section))
        yield state
        yield self._consumer_lag()

    def _consumer_lag(self) -> Metric:
        """Input topics from the ingest stage; internal ones from Faust's monitor (owned only)."""
        monitor = self.pipeline.app.monitor
        lag = self.pipeline.input_lag()
        for tp in self.pipeline.app.assignor.assigned_actives():
            end = monitor.tp_end_offsets.get(tp)
            if end is not None:
                read = monitor.tp_read_offsets.get(tp, -1)
                lag[tp.topic] = lag.get(tp.topic, 0) + max(0, end - read - 1)
        metric = _gauge(CONSUMER_LAG)
        for topic, messages in sorted(lag.items()):
            metric.add_metric([topic], messages)
        return metric


async def render_metrics(pipeline: Pipeline, names: Collection[str] | None = None) -> bytes:
    """The /metrics body (only ``names`` if given), rendered on the loop in slices.

    KPI values read live state that agents change on the loop, so they are
    computed there, not in a thread; each slice computes and writes a few
    milliseconds of samples (docs/design.md, "Serving /metrics").
    """
    registry = pipeline.registry if names is None else \
        pipeline.registry.restricted_registry(names)
    head = generate_latest(registry)  # the service's own metrics: a few dozen samples
    exposition = Exposition(names if names is not None else
                            sample_names(exported_kpis(pipeline.config)))
    await in_slices(kpi_samples(pipeline, time.time(), names=names, exported_only=True),
                    exposition.add)
    return head + exposition.text()


# A whole scrape within this long of the last render's end gets that render's bytes.
WHOLE_SCRAPE_MAX_AGE_SECONDS = 1.0


def register(pipeline: Pipeline) -> None:
    pipeline.registry.register(HealthCollector(pipeline))
    # One render at a time: renders running together would each take a slice of every
    # turn of the loop, and events would wait for all of them.
    one_at_a_time = asyncio.Lock()

    async def render(names: Collection[str] | None) -> bytes:
        async with one_at_a_time:
            return await render_metrics(pipeline, names)

    async def render_whole() -> Encoded:
        return await Encoded.of(await render(None))

    whole = SharedRender(render_whole, max_age=WHOLE_SCRAPE_MAX_AGE_SECONDS)
    sending = BytesPerTurn()  # a render's waiters are woken together

    @pipeline.app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        # aiohttp refuses a charset in content_type, so the header is set as is.
        headers = {"Content-Type": CONTENT_TYPE_LATEST}
        # ?name[]=a&name[]=b: only those metrics, as prometheus_client's own handler does
        # (a probe polling one series need not pay for all of them). Such a scrape is
        # rendered for its own request: probes expect values as of their request.
        names = set(request.query.getall("name[]", [])) or None
        if names is not None:
            return web.bytes(await render(names), headers=headers)
        rendered = await whole.get()
        headers["Vary"] = "Accept-Encoding"
        if accepts_gzip(request.headers.get("Accept-Encoding", "")):
            body = rendered.gzipped
            headers["Content-Encoding"] = "gzip"
        else:
            body = rendered.plain
        await sending.wait(len(body))
        return web.bytes(body, headers=headers)
