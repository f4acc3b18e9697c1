"""The demo feed's business events, its history before the start included, are valid and
agree with each other: ad clicks drive the campaign's visits, spend only grows, conversions
follow visits, money is in each brand's currency."""

from __future__ import annotations

from collections import Counter, defaultdict
from functools import cache

import orjson

from smm_pulse.config import load_config
from smm_pulse.demo.feeder import DemoFeeder, default_config_path
from smm_pulse.streams.events import KNOWN_PLATFORMS, Declared, parse_message

START = 1_800_000_000.0
MINUTES = 10


@cache  # one feed for every test: generating it takes a second or two
def fed() -> tuple[list[dict], dict[str, str]]:
    config = load_config(default_config_path())
    feeder = DemoFeeder(config, "unused:9092")
    events = feeder.history(START) + [e for second in range(MINUTES * 60)
                                      for e in feeder.tick(START + second, 1.0)]
    return events, {brand: b.currency for brand, b in config.brands.items()}


def test_every_demo_event_is_accepted_by_the_contract():
    events, currency = fed()
    declared = Declared(currency.__contains__, KNOWN_PLATFORMS.__contains__, currency.get)
    parsed = parse_message(orjson.dumps(events), declared, START + MINUTES * 60)
    assert not parsed.rejected, parsed.rejected[:3]
    kinds = Counter(e["type"] for e in events)
    assert kinds["visit"] > kinds["conversion"] > 0 and kinds["ad_metrics"] > 0


def test_ads_report_growing_totals_and_their_clicks_bring_the_campaign_visits():
    events, currency = fed()
    last: dict[tuple, dict] = {}
    for ad in (e for e in events if e["type"] == "ad_metrics"):
        key = (ad["brand"], ad["platform"], ad["account"], ad["ad_id"])
        before = last.get(key, {"spend": 0, "clicks": 0, "impressions": 0})
        assert all(ad[c] >= before[c] for c in ("spend", "clicks", "impressions")), ad
        assert ad["clicks"] < ad["impressions"] and ad["currency"] == currency[ad["brand"]]
        last[key] = ad
    clicks: Counter[tuple] = Counter()
    for (brand, platform, _account, _ad), ad in last.items():
        assert ad["spend"] > 0
        clicks[brand, platform, ad["campaign"]] += ad["clicks"]
    visits = Counter((e["brand"], e["platform"], e["campaign"]) for e in events
                     if e["type"] == "visit" and "campaign" in e)
    assert set(visits) == set(clicks)  # campaign visits come from the ad's platform only
    for campaign, n in visits.items():
        # most clicks land; the last report may be up to a minute old
        assert 0.5 * clicks[campaign] <= n <= 1.5 * clicks[campaign] + 10, campaign


def test_conversions_follow_visits_and_carry_revenue_in_the_brand_currency():
    events, currency = fed()
    engaged: Counter[tuple] = Counter()
    converted: dict[tuple, Counter[str]] = defaultdict(Counter)
    for e in events:
        pair = (e["brand"], e["platform"])
        if e["type"] == "visit" and not e["bounced"]:
            engaged[pair] += 1
        elif e["type"] == "conversion":
            assert engaged[pair] > sum(converted[pair].values()), e  # a visit came first
            converted[pair][e["kind"]] += 1
            if e["kind"] == "purchase":
                assert e["value"] > 0 and e["currency"] == currency[e["brand"]]
            else:
                assert "value" not in e
    kinds = sum(converted.values(), Counter())
    assert kinds["lead"] > kinds["purchase"] > 0
    assert any(e.get("new_customer") for e in events if e["type"] == "conversion")
