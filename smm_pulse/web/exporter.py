"""Prometheus exporter: the KPI catalog evaluated on the tables at scrape time.

Values are computed when Prometheus scrapes, at the wall clock of the scrape, so
trailing windows are always current (whole scrapes share a render up to a
second old: ``register``). Only brands whose partition this worker
actively owns are exported; when a partition moves away its series vanish with
the next scrape (no stale series), and its new owner starts exporting them.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from itertools import chain
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
from smm_pulse.state import TOTAL, PairView, PairViews, Views
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
    catalog, windows = _chosen(pipeline, exported_only)
    brands = pipeline.config.brands
    views = _OwnedViews(pipeline, now)
    for family, by_campaign in _sources(pipeline):
        kpis = _family_kpis(family, by_campaign, windows, names, catalog)
        if not kpis:
            continue
        by_pair = views.of(family, by_campaign)
        for pair in views.owned(family, by_campaign):
            pair_brand, place = pair  # place: the platform, or the campaign
            if brand is not None and pair_brand != brand:
                continue
            pair_views = by_pair[pair]  # computed now (``PairViews``)
            for kpi, scope_labels, const_values, view_names in kpis:
                joined = None if kpi.joins is None else views.joined(kpi.joins, pair)
                for view_name in view_names:
                    view = pair_views[view_name]
                    if joined is not None:  # a cross-family KPI (``Kpi.joins``)
                        view = view.joined(joined.get(view_name))
                    value = kpi.value(view)
                    if value is None:  # absent, never 0 or NaN, when undefined
                        continue
                    yield kpi, _label_values(kpi, scope_labels, const_values, pair_brand,
                                             place, view_name, brands), value


def _chosen(pipeline: Pipeline, exported_only: bool) -> tuple[tuple[Kpi, ...], list[str]]:
    """The catalog entries and windows to evaluate: all, or those /metrics exports."""
    if exported_only:
        return exported_kpis(pipeline.config), pipeline.config.exported_windows
    return CATALOG, [window.name for window in pipeline.windows]


def _sources(pipeline: Pipeline) -> list[tuple[Family, bool]]:
    """Every family's views per (brand, platform), then those per (brand, campaign)."""
    return [(family, False) for family in pipeline.views] + [
        (family, True) for family in pipeline.campaign_views]


class _OwnedViews:
    """Each family's views and owned pairs, looked up once per render (a cross-family KPI
    reads a second family's); a pair's views are computed when read (``PairViews``)."""

    def __init__(self, pipeline: Pipeline, now: float) -> None:
        self.pipeline = pipeline
        self.now = now
        self._views: dict[tuple[Family, bool], Views] = {}
        self._owned: dict[tuple[Family, bool], list[Pair]] = {}
        self._owned_sets: dict[Family, frozenset[Pair]] = {}

    def of(self, family: Family, by_campaign: bool = False) -> Views:
        key = (family, by_campaign)
        if key not in self._views:
            source = self.pipeline.campaign_views if by_campaign else self.pipeline.views
            self._views[key] = source[family](self.now)
        return self._views[key]

    def owned(self, family: Family, by_campaign: bool = False) -> list[Pair]:
        """The pairs, sorted, of brands still declared whose partition this worker actively
        owns."""
        key = (family, by_campaign)
        if key not in self._owned:
            self._owned[key] = _owned(self.pipeline, family, self.of(family, by_campaign))
        return self._owned[key]

    def joined(self, family: Family, pair: Pair) -> PairView:
        """The pair's views in ``family`` (per platform); none where it has none here."""
        return self.of(family)[pair] if pair in self._owned_set(family) else {}

    def joined_stamp(self, family: Family, pair: Pair) -> object:
        """The stamp of the pair's views in ``family`` (``PairViews.stamp``): None when
        unknown, False when the pair has none here."""
        return _stamp(self.of(family), pair) if pair in self._owned_set(family) else False

    def _owned_set(self, family: Family) -> frozenset[Pair]:
        if family not in self._owned_sets:
            self._owned_sets[family] = frozenset(self.owned(family))
        return self._owned_sets[family]


def _stamp(by_pair: Views, pair: Pair) -> object:
    return by_pair.stamp(pair) if isinstance(by_pair, PairViews) else None


# A family's KPI as ``kpi_samples`` evaluates it: (KPI, its scope's label values from
# (brand, platform or campaign, window), its constant label values, the names of the
# views it reads).
FamilyKpi = tuple[Kpi, Callable[[tuple[str, ...]], tuple[str, ...]], tuple[str, ...], list[str]]


def _family_kpis(family: Family, by_campaign: bool, windows: list[str],
                 names: Collection[str] | None, catalog: Iterable[Kpi]) -> list[FamilyKpi]:
    """The family's KPIs in catalog order, per platform or per campaign (only ``names``
    if given)."""
    return [(k, _SCOPE_LABELS[k.scope], tuple(v for _, v in k.const_labels),
             _view_names(k, windows))
            for k in catalog
            if k.family is family and (k.scope is Scope.CAMPAIGN_WINDOW) == by_campaign
            and (names is None or k.sample_name in names)]


def _view_names(kpi: Kpi, windows: list[str]) -> list[str]:
    """The views a KPI is computed on: every window's, or the TOTAL one."""
    return windows if kpi.scope in WINDOWED else [TOTAL]


def _label_values(kpi: Kpi, scope_labels: Callable[[tuple[str, ...]], tuple[str, ...]],
                  const_values: tuple[str, ...], brand: str, place: str, view_name: str,
                  brands: Mapping[str, Any]) -> tuple[str, ...]:
    """A sample's label values in ``kpi.labels`` order (``place``: platform or campaign)."""
    context = (brand, place, "" if view_name == TOTAL else view_name)
    labels = scope_labels(context) + const_values
    if kpi.money:  # in the brand's one currency (``Kpi.money``)
        labels += (brands[brand].currency,)
    return labels


def _owned(pipeline: Pipeline, family: Family, by_pair: Views) -> list[Pair]:
    """The pairs, sorted, of brands still declared whose partition this worker actively owns.

    Only the pairs: their views are computed as each is read (``PairViews``).
    """
    owned = pipeline.owned_partitions(family)
    declared = pipeline.config.brands
    return sorted(pair for pair in by_pair
                  if pair[0] in declared and pipeline.partition_of(pair[0]) in owned)


class Exposition:
    """Prometheus text format of KPI samples, as prometheus_client writes it, built a sample
    at a time (so a render can pause between samples).

    Written here because prometheus_client's exposition costs ~30 µs a sample
    (label name checks, Sample objects), seconds of the event loop per scrape
    with hundreds of brands; tests/unit/web/test_exporter.py checks both agree.
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
        self._lines[kpi.metric].append(f"{series} {_number(value)}\n")

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


def _number(value: float) -> str:
    """A sample's value as prometheus_client writes it: floatToGoString only rewrites
    numbers from 1e6 up, inf and NaN, and costs more than repr."""
    return repr(float(value)) if -1e6 < value < 1e6 else floatToGoString(value)


def _series(kpi: Kpi, values: tuple[str, ...]) -> str:
    labels = ",".join(f'{name}="{_escape_label(v)}"'
                      for name, v in sorted(zip(kpi.labels, values, strict=True)))
    return f"{kpi.sample_name}{{{labels}}}"


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape_label(value: str) -> str:
    """As in HELP text, and quotes too."""
    return _escape_help(value).replace('"', '\\"')


def _header(kpi: Kpi) -> str:
    kind = "counter" if kpi.scope is Scope.TOTAL else "gauge"
    name = kpi.sample_name
    return f"# HELP {name} {_escape_help(kpi.help)}\n# TYPE {name} {kind}\n"


# HELP and TYPE per metric, from its first catalog entry (KPIs told apart by
# constant labels share a metric): the same at every scrape, so built once.
_HEADERS: dict[str, str] = {}
_EXPOSED: dict[str, str] = {}  # catalog metric -> sample name
for _kpi in CATALOG:
    _HEADERS.setdefault(_kpi.metric, _header(_kpi))
    _EXPOSED[_kpi.metric] = _kpi.sample_name


Pair = tuple[str, str]  # (brand, platform)
# A family's KPIs by metric: (metric, [(KPI, view name, label values of a (brand,
# platform))]), each metric's entries in the order ``kpi_samples`` yields them for a pair.
MetricEntries = list[tuple[str, list[tuple[Kpi, str, Callable[[str, str], tuple[str, ...]]]]]]


class SeriesTexts:
    """The sample lines of every owned (family, brand, platform or campaign), kept from one
    whole render to the next.

    A pair's lines are computed and written again only when its views (and
    those of the family its cross-family KPIs join) differ from those they
    were written from (KPI values are functions of the views alone);
    otherwise the last text is reused. Where the families stamp their views
    (``PairViews.stamp``), a pair whose stamps are unchanged is not even
    computed. Its series names (name and labels) are written once. The rest
    of a render is a look at each pair and joining the texts. ``lines``
    writes what ``kpi_samples`` (``exported_only``) and ``Exposition`` write,
    in the same order (tests/unit/web/test_exporter.py).
    """

    def __init__(self) -> None:
        self._pairs: dict[Source, dict[Pair, _PairText]] = {}
        self._kpis: dict[Source, list[FamilyKpi]] = {}
        self._entries: dict[Source, MetricEntries] = {}  # from ``_kpis``

    def lines(self, pipeline: Pipeline, now: float, out: dict[str, list[str]]
              ) -> Iterator[None]:
        """Appends each owned pair's lines to ``out[metric]``; yields after each pair
        (``in_slices`` lets the loop run between them)."""
        catalog, windows = _chosen(pipeline, exported_only=True)
        brands = pipeline.config.brands
        views = _OwnedViews(pipeline, now)
        for source in _sources(pipeline):
            kpis = _family_kpis(*source, windows, None, catalog)
            if self._kpis.get(source) != kpis:  # another catalog: nothing to reuse
                self._pairs.pop(source, None)
                self._kpis[source] = kpis
                self._entries[source] = _metric_entries(kpis, brands)
            entries = self._entries[source]
            if not entries:
                continue
            joins = sorted({kpi.joins for kpi, *_ in kpis if kpi.joins is not None})
            kept = self._pairs.get(source, {})
            texts: dict[Pair, _PairText] = {}  # owned pairs only: others are forgotten
            by_pair = views.of(*source)
            for pair in views.owned(*source):
                stamp = (_stamp(by_pair, pair),
                         *(views.joined_stamp(family, pair) for family in joins))
                text = kept.get(pair)
                if text is None or any(s is None for s in stamp) or stamp != text.stamp:
                    read = (by_pair[pair],  # computed now (``PairViews``)
                            {family: views.joined(family, pair) for family in joins})
                    if text is None or text.views != read:
                        text = _PairText.of(entries, pair, read, text)
                    text.stamp = stamp  # as of these views
                texts[pair] = text
                for metric, lines in text.lines:
                    out[metric].append(lines)
                yield
            self._pairs[source] = texts


Source = tuple[Family, bool]  # a family's views per platform (False) or per campaign (True)
# A pair's views, and those of the families its cross-family KPIs join (``Kpi.joins``).
PairRead = tuple[PairView, dict[Family, PairView]]


def _metric_entries(kpis: list[FamilyKpi], brands: Mapping[str, Any]) -> MetricEntries:
    by_metric: dict[str, list[tuple[Kpi, str, Callable[[str, str], tuple[str, ...]]]]] = {}
    for kpi, scope_labels, const_values, view_names in kpis:
        for view_name in view_names:
            by_metric.setdefault(kpi.metric, []).append((kpi, view_name, functools.partial(
                _label_values, kpi, scope_labels, const_values, view_name=view_name,
                brands=brands)))
    return list(by_metric.items())


class _PairText:
    """One pair's sample lines per metric, and the views and series names they came from."""

    __slots__ = ("lines", "series", "stamp", "views")

    def __init__(self, views: PairRead, series: list[list[str]],
                 lines: list[tuple[str, str]]) -> None:
        self.views = views
        self.series = series  # per metric of the entries, per entry
        self.lines = lines  # (metric, its lines), metrics with no value left out
        self.stamp: object = None  # the views' stamps (``PairViews.stamp``), if any

    @classmethod
    def of(cls, entries: MetricEntries, pair: Pair, read: PairRead,
           previous: _PairText | None) -> _PairText:
        series = previous.series if previous is not None else [
            [_series(kpi, labels(*pair)) for kpi, _view_name, labels in metric_entries]
            for _metric, metric_entries in entries]
        views, joined = read
        lines = []
        for (metric, metric_entries), names in zip(entries, series, strict=True):
            written = []
            for (kpi, view_name, _labels), name in zip(metric_entries, names, strict=True):
                view = views[view_name]
                if kpi.joins is not None:  # a cross-family KPI (``Kpi.joins``)
                    view = view.joined(joined[kpi.joins].get(view_name))
                value = kpi.value(view)
                if value is not None:  # absent, never 0 or NaN, when undefined
                    written.append(f"{name} {_number(value)}\n")
            if written:
                lines.append((metric, "".join(written)))
        return cls(read, series, lines)


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


async def render_metrics(pipeline: Pipeline, names: Collection[str] | None = None,
                         texts: SeriesTexts | None = None) -> bytes:
    """The /metrics body (only ``names`` if given), rendered on the loop in slices.

    KPI values read live state that agents change on the loop, so they are
    computed there, not in a thread; each slice computes and writes a few
    milliseconds of samples (docs/design.md, "Serving /metrics"). A whole
    render reuses the lines of pairs unchanged since the last one that used
    ``texts``.
    """
    registry = pipeline.registry if names is None else \
        pipeline.registry.restricted_registry(names)
    head = generate_latest(registry)  # the service's own metrics: a few dozen samples
    if names is None:
        exported = sample_names(exported_kpis(pipeline.config))
        out = {metric: [header] for metric, header in _HEADERS.items()
               if _EXPOSED[metric] in exported}
        await in_slices((texts or SeriesTexts()).lines(pipeline, time.time(), out), _ignore)
        return head + "".join(chain.from_iterable(out.values())).encode()
    names = set(names) & sample_names(exported_kpis(pipeline.config))  # as a whole scrape
    exposition = Exposition(names)
    await in_slices(kpi_samples(pipeline, time.time(), names=names, exported_only=True),
                    exposition.add)
    return head + exposition.text()


def _ignore(_item: object) -> None:
    pass


# A whole scrape within this long of the last render's end gets that render's bytes.
WHOLE_SCRAPE_MAX_AGE_SECONDS = 1.0


def register(pipeline: Pipeline) -> None:
    pipeline.registry.register(HealthCollector(pipeline))
    # One render at a time: renders running together would each take a slice of every
    # turn of the loop, and events would wait for all of them.
    one_at_a_time = asyncio.Lock()
    texts = SeriesTexts()  # kept from one whole render to the next

    async def render(names: Collection[str] | None) -> bytes:
        async with one_at_a_time:
            return await render_metrics(pipeline, names, texts)

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
