"""Business agent: website visits, conversions and ad snapshots of a brand.

Feeds visits, bounce rate, new visitors, visit duration, conversions and
conversion rate, revenue, ad spend, clicks and impressions, CPC, CPM, cost
per lead, CAC, cost per follower, ROI and ROAS (formulas in
``smm_pulse.kpi.formulas``), per platform and per declared campaign.
"""

from __future__ import annotations

from smm_pulse.agents.family import Batch, register_family_agent
from smm_pulse.agents.snapshots import ItemChanges, Snapshots
from smm_pulse.config import duration_seconds
from smm_pulse.contributions import AD_CELLS, GrainSums, declared_campaigns
from smm_pulse.kpi.catalog import Family
from smm_pulse.runtime.pipeline import Pipeline
from smm_pulse.state import PairViews, Views
from smm_pulse.streams.internal import Ads, Conversions, Visits
from smm_pulse.windows import grain_seconds


class Business:
    """The business family's state: buckets per platform and per declared campaign, and the
    last snapshot of each ad."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.horizon_seconds = pipeline.horizon_seconds
        self.grain = grain_seconds(pipeline.windows)
        self.buckets = pipeline.buckets(Family.BUSINESS)
        # The same counters per (brand, campaign), the campaign in the platform's place; in
        # the family's table, so flushed in order with the rest (before the ads).
        self.campaign_buckets = pipeline.buckets(Family.BUSINESS, "campaign-buckets",
                                                 totals=False)
        self.campaigns = {name: frozenset(brand.campaigns)
                          for name, brand in pipeline.config.brands.items()}
        # Ads follow the posts' snapshot rules and retention; baseline, as posts are, so
        # a flush writes the counters before the ad states they came from.
        self.ads = Snapshots(pipeline.section(Family.BUSINESS, "ads", baseline=True),
                             duration_seconds(pipeline.config.post_retention))
        pipeline.expiring.append((Family.BUSINESS, self.ads))

    def handle(self, batch: Batch) -> None:
        horizon = batch.now - self.horizon_seconds
        sums = GrainSums(self.grain)
        declared = self.campaigns.get(batch.brand, frozenset())
        # What each declared campaign gained, over all platforms.
        by_campaign = GrainSums(self.grain)
        if ads := batch.get(Ads):
            # An ad has no publication time: a first snapshot counts at its ts. What a
            # snapshot adds counts toward the campaign that snapshot names.
            per_ad: list[ItemChanges] | None = [] if declared else None
            self.ads.fold(batch, ads.platform, ads.account, ads.ad_id, ads.ts, [None] * len(ads),
                          ads.counters(), horizon,
                          lambda platform, at, changes: sums.add_post_changes(
                              platform, at, changes, AD_CELLS),
                          per_ad, declared_campaigns(ads.campaign, declared) if declared else None)
            for _platform, campaign, at, changes in per_ad or ():
                if campaign is not None:
                    by_campaign.add_post_changes(campaign, at, changes, AD_CELLS)
        if visits := batch.get(Visits):
            sums.add_visits(visits)
            if declared:
                by_campaign.add_visits(visits, declared_campaigns(visits.campaign, declared))
        if conversions := batch.get(Conversions):
            sums.add_conversions(conversions)
            if declared:
                by_campaign.add_conversions(
                    conversions, declared_campaigns(conversions.campaign, declared))
        self.buckets.apply(batch.offset, batch.brand, sums.cells, batch.now)
        if by_campaign.cells:
            self.campaign_buckets.apply(batch.offset, batch.brand, by_campaign.cells, batch.now)

    def views(self, now: float) -> Views:
        return self.buckets.views(now)

    def campaign_views(self, now: float) -> Views:
        """Views per (brand, campaign) of the campaigns declared now (state written under
        an earlier configuration may hold others until it expires)."""
        views = self.campaign_buckets.views(now)
        # Still computed a pair at a time, and stamped (``PairViews``), as the buckets'.
        return PairViews([pair for pair in views if pair[1] in self.campaigns.get(pair[0], ())],
                         views.__getitem__, getattr(views, "stamp", None))


def register(pipeline: Pipeline) -> None:
    business = Business(pipeline)
    pipeline.views[Family.BUSINESS] = business.views
    pipeline.campaign_views[Family.BUSINESS] = business.campaign_views
    register_family_agent(pipeline, Family.BUSINESS, business.handle)
