"""Demo business outcomes: an ad campaign drives visits from its platform, visits convert.

Per brand, one campaign runs two ads on one of the brand's platforms; its ad account
reports each ad's cumulative spend, impressions, reach and clicks about every half
minute, so spend grows through the day at the feed's daily rhythm. The feed starts
with the campaign's last ten minutes (``DemoFeeder.history``). Most ad clicks
land on the website as visits carrying the campaign; every platform of the brand
also sends organic visits. Some visits that do not bounce convert a little later:
leads, signups and purchases (with a value in the brand's currency), part of them
by new customers. Money follows the brand's configured currency.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from smm_pulse.config import Config

CAMPAIGNS = ("cashback-week", "new-app-launch", "deposit-offer", "family-tariff")
# Rough units of a currency per US dollar, so prices look plausible in the brand's currency.
PER_DOLLAR = {"RUB": 90.0, "KZT": 480.0, "UAH": 41.0, "BYN": 3.3, "EUR": 0.92, "GBP": 0.79,
              "JPY": 150.0, "CNY": 7.2, "INR": 83.0, "TRY": 32.0, "BRL": 5.0}
ORGANIC_VISITS_PER_SECOND = 0.5  # per platform, at the busiest hour
IMPRESSIONS_PER_SECOND = 40.0  # per ad, at the busiest hour
CLICKS_THAT_LAND = 0.85  # the others close the tab before the page loads
REPORT_SECONDS = 30  # how often an ad account's report is polled, on average
# (kind, share of conversions, share of them by new customers, purchase value in dollars)
KINDS = (("lead", 0.45, 0.0, None), ("signup", 0.25, 0.8, None),
         ("purchase", 0.25, 0.6, (15.0, 120.0)), ("other", 0.05, 0.0, None))
# Shares of the visits that do not bounce which convert: an ad's visitors came for its offer.
CONVERTING = {"campaign": 0.15, "organic": 0.08}

Emit = Callable[..., dict[str, Any]]  # (kind, brand, platform, ts, **fields) -> event


@dataclass
class _Ad:
    brand: str
    platform: str
    account: str
    ad_id: str
    campaign: str
    cpm: float  # price of a thousand impressions, in the brand's currency
    ctr: float  # clicks / impressions
    spend: float = 0.0
    impressions: int = 0
    clicks: int = 0
    reach: int = 0

    def totals(self) -> dict[str, Any]:
        return {"account": self.account, "ad_id": self.ad_id, "campaign": self.campaign,
                "spend": round(self.spend, 2), "impressions": self.impressions,
                "clicks": self.clicks, "reach": self.reach}


@dataclass
class _Visitor:
    """A visitor who will convert at ``at``."""

    brand: str
    platform: str
    campaign: str | None
    new_visitor: bool
    at: float


class BusinessTraffic:
    """Visits, conversions and ad snapshots that agree with each other, per brand."""

    def __init__(self, config: Config, platforms: dict[str, list[str]], rng: random.Random,
                 run_id: str) -> None:
        """``platforms``: each brand's, the first one its campaign's."""
        self.rng = rng
        self.platforms = platforms
        self.currency = {brand: b.currency for brand, b in config.brands.items()}
        self.ads: list[_Ad] = []
        for brand, own in platforms.items():
            dollar = PER_DOLLAR.get(self.currency[brand], 1.0)
            campaign = rng.choice(CAMPAIGNS)
            for n in (1, 2):  # a new ad per run: its first report counts from zero
                self.ads.append(_Ad(brand, own[0], f"{brand}-ads", f"{campaign}-{run_id}-{n}",
                                    campaign, round(rng.uniform(6.0, 10.0) * dollar, 2),
                                    rng.uniform(0.008, 0.016)))
        self._converting: list[_Visitor] = []

    def tick(self, emit: Emit, now: float, seconds: float, rhythm: float,
             poisson: Callable[[float], int]) -> list[dict[str, Any]]:
        """The business events of the last ``seconds`` up to ``now``."""
        events: list[dict[str, Any]] = []
        for ad in self.ads:
            impressions = poisson(IMPRESSIONS_PER_SECOND * rhythm * seconds)
            clicks = sum(self.rng.random() < ad.ctr for _ in range(impressions))
            ad.impressions += impressions
            ad.reach += sum(self.rng.random() < 0.6 for _ in range(impressions))
            ad.clicks += clicks
            ad.spend += impressions * ad.cpm / 1000
            landed = sum(self.rng.random() < CLICKS_THAT_LAND for _ in range(clicks))
            events += [self._visit(emit, ad.brand, ad.platform, ad.campaign, now)
                       for _ in range(landed)]
            if self.rng.random() < seconds / REPORT_SECONDS:
                events.append(emit("ad_metrics", ad.brand, ad.platform, now,
                                   currency=self.currency[ad.brand], **ad.totals()))
        for brand, own in self.platforms.items():
            for platform in own:
                events += [self._visit(emit, brand, platform, None, now)
                           for _ in range(poisson(ORGANIC_VISITS_PER_SECOND * rhythm * seconds))]
        events += self._conversions(emit, now)
        return events

    def _visit(self, emit: Emit, brand: str, platform: str, campaign: str | None,
               now: float) -> dict[str, Any]:
        # Ad traffic is newer to the site and bounces more than organic traffic.
        new_visitor = self.rng.random() < (0.7 if campaign else 0.35)
        bounced = self.rng.random() < (0.5 if campaign else 0.35)
        fields: dict[str, Any] = {"bounced": bounced, "new_visitor": new_visitor}
        if campaign:
            fields["campaign"] = campaign
        if bounced:
            fields.update(duration_seconds=round(self.rng.uniform(1, 12), 1), pages=1)
        else:
            duration = self.rng.expovariate(1 / 150)
            fields.update(duration_seconds=round(duration, 1),
                          pages=2 + int(self.rng.expovariate(1 / 2.5)))
            if self.rng.random() < CONVERTING["campaign" if campaign else "organic"]:
                self._converting.append(_Visitor(brand, platform, campaign, new_visitor,
                                                 now + duration * self.rng.random()))
        return emit("visit", brand, platform, now, **fields)

    def _conversions(self, emit: Emit, now: float) -> list[dict[str, Any]]:
        due = [v for v in self._converting if v.at <= now]
        self._converting = [v for v in self._converting if v.at > now]
        events = []
        for visitor in due:
            kind, _share, new_share, price = self.rng.choices(
                KINDS, weights=[k[1] for k in KINDS])[0]
            fields: dict[str, Any] = {
                "kind": kind,
                "new_customer": visitor.new_visitor and self.rng.random() < new_share}
            if price:
                dollars = math.exp(self.rng.uniform(math.log(price[0]), math.log(price[1])))
                fields.update(value=round(dollars * PER_DOLLAR.get(
                    self.currency[visitor.brand], 1.0), 2),
                    currency=self.currency[visitor.brand])
            if visitor.campaign:
                fields["campaign"] = visitor.campaign
            events.append(emit("conversion", visitor.brand, visitor.platform, now, **fields))
        return events
