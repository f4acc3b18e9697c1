"""The exporter's own text rendering says what prometheus_client would say, and a render
in slices writes what one at once writes."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.parser import text_string_to_metric_families

from smm_pulse.config import Config
from smm_pulse.kpi.catalog import CATALOG, Family, Scope, View
from smm_pulse.state import TOTAL
from smm_pulse.web.exporter import Sample, kpi_samples, render_kpis, render_metrics
from smm_pulse.windows import Window


def samples() -> list[Sample]:
    """Every catalog entry, with awkward brand names and values."""
    brands = ['plain', 'quote"d', "back\\slash", "new\nline", "Café ☕"]
    values = [0, 1, 0.1, 1e-7, 12_345_678_901_234.0, -2.5, 999_999.75, 1e6, -3e6, 7]
    found = []
    for i, kpi in enumerate(CATALOG):
        for j, brand in enumerate(brands):
            labels = {"brand": brand, "platform": "vk", "window": "1h", "currency": "RUB",
                      "campaign": "spring", **dict(kpi.const_labels)}
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


class FakePipeline:
    """What the exporter reads of a pipeline: every family's views of ``brands`` on vk."""

    def __init__(self, brands: int, export: dict | None = None) -> None:
        self.windows = (Window.parse("5m"), Window.parse("1h"))
        self.config = Config.model_validate({
            "brands": {f"brand{i}": {} for i in range(brands)}, "windows": ["5m", "1h"],
            "export": export or {}})
        self.registry = CollectorRegistry()
        Counter("smm_events", "Events.", ["outcome"], registry=self.registry).labels(
            "accepted").inc(7)
        gained = {"likes": 10, "comments": 2, "shares": 1, "reach": 400, "views": 500,
                  "clicks": 5, "impressions": 600, "mentions": 4, "follows": 3}
        pair_views = {TOTAL: View(gained, 1000, 0, newest_event=1.0)} | {
            w.name: View(gained, 1000, w.seconds, followers_start=990, response_times=(60.0,))
            for w in self.windows}
        self.views = {family: (lambda now: {(brand, "vk"): pair_views
                                            for brand in sorted(self.config.brands)})
                      for family in Family}
        self.campaign_views = {Family.BUSINESS: lambda now: {
            (brand, "spring"): pair_views for brand in sorted(self.config.brands)}}

    def owned_partitions(self, family: Family) -> set[int]:
        return {0}

    def partition_of(self, brand: str) -> int:
        return 0


def test_a_render_in_slices_lets_the_loop_run_and_writes_what_one_at_once_writes():
    pipeline = FakePipeline(brands=300)

    async def scenario() -> tuple[bytes, int]:
        turns = 0
        rendering = True

        async def other_task() -> None:
            nonlocal turns
            while rendering:
                turns += 1
                await asyncio.sleep(0)

        other = asyncio.create_task(other_task())
        await asyncio.sleep(0)
        body = await render_metrics(pipeline)
        rendering = False
        await other
        return body, turns

    body, turns = asyncio.run(scenario())
    at_once = generate_latest(pipeline.registry) + render_kpis(kpi_samples(pipeline, 0.0))
    assert body == at_once and len(body) > 1_000_000
    # Tens of milliseconds of work in slices of 2 ms: the loop ran between them.
    assert turns >= 3


def business_pipeline(engagement_owned: bool = True) -> FakePipeline:
    """One brand: ad spend on vk and telegram, follows on vk (engagement), a campaign."""
    pipeline = FakePipeline(brands=1)
    pipeline.config = Config.model_validate({
        "brands": {"brand0": {"currency": "RUB", "campaigns": ["spring"]}},
        "windows": ["5m", "1h"]})

    def views(gained: dict) -> dict:
        return {TOTAL: View(gained, None, 0)} | {w.name: View(gained, None, w.seconds)
                                                 for w in pipeline.windows}

    business = {("brand0", "vk"): views({"ad_spend": 90.0}),
                ("brand0", "telegram"): views({"ad_spend": 10.0})}
    engagement = {("brand0", "vk"): views({"follows": 30, "ad_spend": 1e9})}
    pipeline.views = {Family.ENGAGEMENT: lambda now: engagement,
                      Family.BUSINESS: lambda now: business}
    pipeline.campaign_views = {Family.BUSINESS: lambda now: {
        ("brand0", "spring"): views({"ad_spend": 40.0, "ad_clicks": 8})}}
    pipeline.owned_partitions = lambda family: (  # type: ignore[method-assign]
        {0} if engagement_owned or family is not Family.ENGAGEMENT else set())
    return pipeline


def values_of(pipeline: FakePipeline, metric: str, names: set[str] | None = None) -> dict:
    return {labels: value for kpi, labels, value in kpi_samples(pipeline, 0.0, names=names)
            if kpi.metric == metric}


def test_cost_per_follower_joins_the_pairs_follows_to_its_own_spend():
    assert values_of(business_pipeline(), "smm_cost_per_follower") == {
        ("brand0", "vk", window, "RUB"): 90.0 / 30 for window in ("5m", "1h")}
    # Asked for alone, it still reads the engagement family's follows.
    assert values_of(business_pipeline(), "smm_cost_per_follower",
                     {"smm_cost_per_follower"}) == {
        ("brand0", "vk", window, "RUB"): 90.0 / 30 for window in ("5m", "1h")}


def test_cost_per_follower_is_absent_where_this_worker_does_not_own_the_follows():
    assert values_of(business_pipeline(engagement_owned=False), "smm_cost_per_follower") == {}


def test_campaign_kpis_are_labelled_by_campaign_and_read_the_campaign_views():
    pipeline = business_pipeline()
    assert values_of(pipeline, "smm_campaign_window_ad_spend") == {
        ("brand0", "spring", window, "RUB"): 40.0 for window in ("5m", "1h")}
    assert values_of(pipeline, "smm_campaign_cost_per_click") == {
        ("brand0", "spring", window, "RUB"): 5.0 for window in ("5m", "1h")}
    assert values_of(pipeline, "smm_window_ad_spend") == {
        ("brand0", platform, window, "RUB"): spend
        for platform, spend in (("vk", 90.0), ("telegram", 10.0)) for window in ("5m", "1h")}


def test_metrics_serve_only_the_exported_families_and_windows_and_the_api_every_kpi():
    pipeline = FakePipeline(brands=3, export={"families": ["engagement", "voice"],
                                              "windows": ["1h"]})
    served = list(text_string_to_metric_families(asyncio.run(render_metrics(pipeline))
                                                 .decode()))
    catalog = {kpi.metric for kpi in CATALOG}
    kpis = {family.name: family for family in served if family.name in catalog}
    exported = {kpi.metric for kpi in CATALOG if kpi.family in (Family.ENGAGEMENT, Family.VOICE)}
    assert set(kpis) == exported  # and no HELP lines of the others
    windows = {s.labels.get("window") for f in kpis.values() for s in f.samples}
    assert windows == {"1h", None}  # the current values have no window
    everything = {(kpi.family, labels[2] if kpi.scope is Scope.WINDOW else None)
                  for kpi, labels, _ in kpi_samples(pipeline, 0.0)}
    assert {Family.MENTIONS, Family.RESPONSE, Family.BUSINESS} <= {f for f, _ in everything}
    assert {window for _, window in everything} == {"5m", "1h", None}
