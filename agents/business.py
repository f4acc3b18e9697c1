"""Business agent: website visits, conversions and ad snapshots of a brand.

Feeds visits, bounce rate, new visitors, visit duration, conversions and
conversion rate, revenue, ad spend, clicks and impressions, CPC, CPM, cost
per lead, CAC, ROI and ROAS (formulas in ``smm_pulse.kpi.formulas``).
"""

from __future__ import annotations

from smm_pulse.agents.family import Batch, register_family_agent
from smm_pulse.agents.snapshots import Snapshots
from smm_pulse.config import duration_seconds
from smm_pulse.contributions import AD_CELLS, GrainSums
from smm_pulse.kpi.catalog import Family
from smm_pulse.runtime.pipeline import Pipeline
from smm_pulse.state import Views
from smm_pulse.streams.internal import Ads, Conversions, Visits
from smm_pulse.windows import grain_seconds


class Business:
    """The business family's state: buckets, and the last snapshot of each ad."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.horizon_seconds = pipeline.horizon_seconds
        self.grain = grain_seconds(pipeline.windows)
        self.buckets = pipeline.buckets(Family.BUSINESS)
        # Ads follow the posts' snapshot rules and retention; baseline, as posts are, so
        # a flush writes the counters before the ad states they came from.
        self.ads = Snapshots(pipeline.section(Family.BUSINESS, "ads", baseline=True),
                             duration_seconds(pipeline.config.post_retention))
        pipeline.expiring.append((Family.BUSINESS, self.ads))

    def handle(self, batch: Batch) -> None:
        horizon = batch.now - self.horizon_seconds
        sums = GrainSums(self.grain)
        if ads := batch.get(Ads):
            # An ad has no publication time: a first snapshot counts at its ts.
            self.ads.fold(batch, ads.platform, ads.account, ads.ad_id, ads.ts, [None] * len(ads),
                          ads.counters(), horizon,
                          lambda platform, at, changes: sums.add_post_changes(
                              platform, at, changes, AD_CELLS))
        if visits := batch.get(Visits):
            sums.add_visits(visits)
        if conversions := batch.get(Conversions):
            sums.add_conversions(conversions)
        self.buckets.apply(batch.offset, batch.brand, sums.cells, batch.now)

    def views(self, now: float) -> Views:
        return self.buckets.views(now)


def register(pipeline: Pipeline) -> None:
    business = Business(pipeline)
    pipeline.views[Family.BUSINESS] = business.views
    register_family_agent(pipeline, Family.BUSINESS, business.handle)
