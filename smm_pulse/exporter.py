"""Prometheus exporter: the KPI catalog evaluated on the tables at scrape time.

Values are computed when Prometheus scrapes, at the wall clock of the scrape, so
trailing windows are always current. Only brands whose partition this worker
actively owns are exported; when a partition moves away its series vanish with
the next scrape (no stale series), and its new owner starts exporting them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from agents.app import Pipeline
from agents.state import TOTAL
from smm_pulse.kpi.catalog import CATALOG, CONSUMER_LAG, STATE_KEYS, Family, Kpi, Scope

WINDOWED = (Scope.WINDOW, Scope.BRAND_WINDOW)


class KpiCollector(Collector):
    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    def describe(self) -> list[Metric]:
        return []  # values depend on ownership at scrape time: collect() only then

    def collect(self) -> Iterator[Metric]:
        now = time.time()
        families = {kpi.metric: self._family(kpi) for kpi in CATALOG}
        for family, source in self.pipeline.views.items():
            kpis = [(k, k.labels) for k in CATALOG if k.family is family]
            for (brand, platform), views in sorted(self._owned(family, source(now)).items()):
                for kpi, label_names in kpis:
                    for window in self.pipeline.windows if kpi.scope in WINDOWED else [None]:
                        view = views[window.name if window else TOTAL]
                        labels = {"brand": brand, "platform": platform,
                                  "window": window.name if window else ""}
                        labels.update(kpi.const_labels)
                        self._add(families[kpi.metric], kpi.value(view),
                                  [labels[name] for name in label_names])
        yield from families.values()
        state = GaugeMetricFamily(STATE_KEYS.name, STATE_KEYS.help, labels=list(STATE_KEYS.labels))
        for name, section in sorted(self.pipeline.sections.items()):
            state.add_metric([name], len(section))
        yield state
        yield self._consumer_lag()

    def _consumer_lag(self) -> Metric:
        """From Faust's monitor: end and read offsets of the partitions actively owned."""
        monitor = self.pipeline.app.monitor
        lag: dict[str, int] = {}
        for tp in self.pipeline.app.assignor.assigned_actives():
            end = monitor.tp_end_offsets.get(tp)
            if end is not None:
                read = monitor.tp_read_offsets.get(tp, -1)
                lag[tp.topic] = lag.get(tp.topic, 0) + max(0, end - read - 1)
        metric = GaugeMetricFamily(CONSUMER_LAG.name, CONSUMER_LAG.help,
                                   labels=list(CONSUMER_LAG.labels))
        for topic, messages in sorted(lag.items()):
            metric.add_metric([topic], messages)
        return metric

    def _owned(self, family: Family, by_pair: dict[tuple[str, str], Any]) -> dict:
        """Only brands still declared whose partition this worker actively owns."""
        owned = self.pipeline.owned_partitions(family)
        declared = self.pipeline.config.brands
        return {
            pair: value
            for pair, value in by_pair.items()
            if pair[0] in declared and self.pipeline.partition_of(pair[0]) in owned
        }

    @staticmethod
    def _family(kpi: Kpi) -> Metric:
        kind = CounterMetricFamily if kpi.scope is Scope.TOTAL else GaugeMetricFamily
        return kind(kpi.metric, kpi.help, labels=list(kpi.labels))

    @staticmethod
    def _add(metric: Any, value: float | None, labels: list[str]) -> None:
        if value is not None:  # absent, never 0 or NaN, when undefined
            metric.add_metric(labels, value)


def register(pipeline: Pipeline) -> None:
    pipeline.registry.register(KpiCollector(pipeline))

    @pipeline.app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        # aiohttp refuses a charset in content_type, so the header is set as is.
        return web.bytes(generate_latest(pipeline.registry),
                         headers={"Content-Type": CONTENT_TYPE_LATEST})
