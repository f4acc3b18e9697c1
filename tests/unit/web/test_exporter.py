"""The exporter's own text rendering says what prometheus_client would say."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.parser import text_string_to_metric_families

from smm_pulse.kpi.catalog import CATALOG, Scope
from smm_pulse.web.exporter import Sample, render_kpis


def samples() -> list[Sample]:
    """Every catalog entry, with awkward brand names and values."""
    brands = ['plain', 'quote"d', "back\\slash", "new\nline", "Café ☕"]
    values = [0, 1, 0.1, 1e-7, 12_345_678_901_234.0, -2.5, 999_999.75, 1e6, -3e6, 7]
    found = []
    for i, kpi in enumerate(CATALOG):
        for j, brand in enumerate(brands):
            labels = {"brand": brand, "platform": "vk", "window": "1h", **dict(kpi.const_labels)}
            found.append((kpi, tuple(labels[name] for name in kpi.labels),
                          values[(i + j) % len(values)]))
    return found


def by_prometheus_client(found: list[Sample]) -> bytes:
    families = {}
    for kpi, label_values, value in found:
        kind = CounterMetricFamily if kpi.scope is Scope.TOTAL else GaugeMetricFamily
        family = families.setdefault(kpi.metric, kind(kpi.metric, kpi.help,
                                                      labels=list(kpi.labels)))
        family.add_metric(list(label_values), value)

    class Collector:
        def collect(self):
            return families.values()

    registry = CollectorRegistry()
    registry.register(Collector())
    return generate_latest(registry)


def parsed(text: bytes) -> list:
    return sorted(
        (f.name, f.type, f.documentation,
         sorted((s.name, sorted(s.labels.items()), s.value) for s in f.samples))
        for f in text_string_to_metric_families(text.decode())
    )


def test_rendered_kpis_parse_to_what_prometheus_client_renders():
    found = samples()
    assert parsed(render_kpis(found)) == parsed(by_prometheus_client(found))


def test_sample_lines_are_byte_identical_to_prometheus_client():
    found = samples()
    ours = sorted(line for line in render_kpis(found).decode().splitlines()
                  if not line.startswith("#"))
    theirs = sorted(line for line in by_prometheus_client(found).decode().splitlines()
                    if not line.startswith("#"))
    assert ours == theirs



def test_a_later_scrape_writes_its_own_values_on_the_cached_series():
    render_kpis(samples())
    changed = [(kpi, labels, value + 1) for kpi, labels, value in samples()]
    assert parsed(render_kpis(changed)) == parsed(by_prometheus_client(changed))
