"""``GET /api/overview``: what the live page shows, for the brands this worker owns.

Per brand: the exporter's samples (``kpi_samples``, so no KPI is computed a
second way), its goals checked now (``smm_pulse.kpi.goals``), the age of the
newest event per source and the values the page's sparklines sample. Besides:
the dead letters this worker wrote, and which worker owns each other brand.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from smm_pulse.config import Config
from smm_pulse.kpi.catalog import CATALOG, Family
from smm_pulse.kpi.goals import Readings, brand_mentions, brand_sentiment, check_goals
from smm_pulse.runtime.pipeline import Pipeline
from smm_pulse.web.api import event_counts, owner_url
from smm_pulse.web.exporter import Sample, kpi_samples

FRESHNESS = "smm_newest_event_timestamp_seconds"
Labelled = tuple[str, dict[str, str], Sample]  # catalog metric, labels but the brand, sample


@dataclass(frozen=True, slots=True)
class Column:
    """A KPI of the page's table of platforms; titles and units from the catalog."""

    metric: str  # catalog metric
    labels: tuple[tuple[str, str], ...] = ()  # its constant labels, where it has several
    title: str | None = None  # where the catalog's title would not say it here
    unit: str | None = None

    def as_json(self) -> dict[str, Any]:
        kpi = next(k for k in CATALOG
                   if k.metric == self.metric and set(self.labels) <= set(k.const_labels))
        return {"metric": kpi.sample_name, "labels": dict(self.labels),
                "title": self.title or kpi.title, "unit": self.unit or kpi.unit,
                "help": kpi.help, "windowed": "window" in kpi.labels}


COLUMNS = (
    Column("smm_followers"),
    Column("smm_engagement_rate_ratio"),
    Column("smm_window_interactions"),
    Column("smm_window_reach"),
    Column("smm_window_mentions"),
    Column("smm_sentiment_score", title="Sentiment"),
    Column("smm_response_time_seconds", (("stat", "mean"),), title="Response time"),
    Column("smm_window_unanswered_messages", title="Unanswered"),
    Column(FRESHNESS, (("family", Family.ENGAGEMENT.value),), "Newest engagement event", "age"),
    Column(FRESHNESS, (("family", Family.MENTIONS.value),), "Newest mention", "age"),
)


def by_brand(samples: Iterable[Sample]) -> dict[str, list[Labelled]]:
    """Samples per brand, each with its catalog metric and its labels but the brand."""
    found: dict[str, list[Labelled]] = {}
    for sample in samples:
        kpi, values, _value = sample
        labels = dict(zip(kpi.labels, values, strict=True))
        found.setdefault(labels.pop("brand"), []).append((kpi.metric, labels, sample))
    return found


def brand_overview(config: Config, brand: str, samples: list[Labelled], now: float
                   ) -> dict[str, Any]:
    """One brand's card: samples, goals checked at ``now``, freshness and trend values."""
    readings = Readings((metric, labels, sample[2]) for metric, labels, sample in samples)
    recent = config.windows[0]
    freshness = [{"platform": labels["platform"], "family": labels["family"],
                  "newest": sample[2], "age_seconds": max(0.0, now - sample[2])}
                 for metric, labels, sample in samples if metric == FRESHNESS]
    return {
        "brand": brand,
        "goals": [asdict(check) for check in check_goals(config, brand, readings, now)],
        "platforms": sorted({labels["platform"] for _m, labels, _s in samples
                             if "platform" in labels}),
        "kpis": [{"metric": sample[0].sample_name, "labels": labels, "value": sample[2]}
                 for _metric, labels, sample in samples],
        "freshness": sorted(freshness, key=lambda f: (f["platform"], f["family"])),
        # What the page's sparklines sample: the shortest window reacts first.
        "trend": {"window": recent, "mentions": brand_mentions(readings, recent),
                  "sentiment": brand_sentiment(readings, recent),
                  "engagement_rate": readings.per_platform("smm_engagement_rate_ratio",
                                                           window=recent)},
    }


TOP_ROWS = 5  # per ranking and window on the page; the API gives up to 100


def top_lists(pipeline: Pipeline, brand: str, now: float) -> dict[str, dict[str, Any]]:
    """The brand's top posts and authors over all platforms, per window."""
    return {window: {name: rank(brand, None, window, TOP_ROWS, now)
                     for name, rank in pipeline.rankings.items()}
            for window in pipeline.config.windows}


def dead_letters(pipeline: Pipeline) -> dict[str, Any]:
    """Events this worker sent to the dead-letter topic (``smm_dlq_events_total``), by reason."""
    reasons: dict[str, float] = {}
    for metric in pipeline.dead_letters_total.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                reason = sample.labels["reason"]
                reasons[reason] = reasons.get(reason, 0) + sample.value
    return {"total": sum(reasons.values()), "by_reason": dict(sorted(reasons.items()))}


def overview(pipeline: Pipeline, now: float,
             samples: Iterable[Sample] | None = None) -> dict[str, Any]:
    """The page's data: owned brands in configuration order, the others with their owner.

    ``samples``: the exporter's samples at ``now`` if already gathered (else computed)."""
    config = pipeline.config
    owned = pipeline.owned_partitions(Family.ENGAGEMENT)
    mine = [b for b in config.brands if pipeline.partition_of(b) in owned]
    by = by_brand(kpi_samples(pipeline, now) if samples is None else samples)
    return {
        "worker": str(pipeline.app.conf.canonical_url).rstrip("/"),
        "now": now,
        "windows": list(config.windows),
        "columns": [column.as_json() for column in COLUMNS],
        "events": event_counts(pipeline),
        "dead_letters": dead_letters(pipeline),
        "brands": [brand_overview(config, b, by.get(b, []), now)
                   | {"top": top_lists(pipeline, b, now)} for b in mine],
        # None while no worker owns it (a rebalance).
        "elsewhere": [{"brand": b, "url": owner_url(pipeline, b)}
                      for b in config.brands if b not in mine],
    }
