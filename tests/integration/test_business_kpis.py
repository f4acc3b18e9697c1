"""End to end on the real embedded broker: visits, conversions and ad snapshots fed with
``smm-pulse feed`` become exact business KPIs, in the brand's currency, per platform and per
declared campaign, on /metrics and the JSON API; so do the cost per follower (ad spend
over the engagement family's follows) and the mentions' potential reach. Duplicates and
replayed snapshots change nothing, and a foreign currency lands in the DLQ with its reason.
The JSON API lists the brand's benchmarks beside its KPIs.
"""

from __future__ import annotations

import time
from collections import Counter

import orjson
import pytest
import requests

from smm_pulse.config import load_config
from tests.integration.conftest import value, wait_until
from tests.integration.test_events_in_kpis_out import read_dlq

pytestmark = pytest.mark.integration
CONFIG = """
brands:
  acme:
    currency: RUB
    campaigns: [spring, summer]
    benchmarks: {smm_conversion_rate_ratio: 0.025, smm_cost_per_click: 12.5}
windows: [5m, 1h]
partitions: 2
"""


def business_feed(now: float) -> list[dict]:
    base = {"brand": "acme", "platform": "vk"}

    def at(n: int, ago: float, type_: str, **fields: object) -> dict:
        return {"type": type_, "event_id": f"b{n}", "ts": now - ago, **base, **fields}

    ad = {"account": "cabinet", "ad_id": "a1", "campaign": "spring"}
    return [
        at(1, 1500, "visit", bounced=True, duration_seconds=10.5, new_visitor=True),
        at(2, 1400, "visit", duration_seconds=100.0),
        at(3, 1300, "visit", new_visitor=True, campaign="spring"),
        at(4, 1200, "visit", campaign="not-declared"),
        at(5, 1100, "conversion", kind="lead", campaign="summer"),
        at(6, 1000, "conversion", kind="purchase", value=1500.5, currency="RUB",
           new_customer=True, campaign="spring"),
        at(7, 900, "conversion", kind="signup", new_customer=True, campaign="not-declared"),
        at(8, 2000, "ad_metrics", spend=100.25, clicks=10, impressions=4000, **ad),
        at(9, 120, "ad_metrics", spend=300.75, clicks=40, impressions=8000, currency="RUB",
           **ad),
        # Follows (engagement) for the cost per follower; unfollows do not count.
        at(10, 1000, "interaction", account="group", action="follow", count=3),
        at(11, 60, "interaction", account="group", action="follow", count=2),
        at(12, 50, "interaction", account="group", action="unfollow"),
        # Mentions: their authors' followers are the potential reach.
        at(13, 600, "mention", text="acme ads everywhere", author_followers=1000,
           sentiment=0.0),
        at(14, 100, "mention", text="acme again", author_followers=250, sentiment=0.0),
        at(15, 90, "mention", text="acme, no author size", sentiment=0.0),
    ]


SPEND_1H, SPEND_5M = 300.75, 300.75 - 100.25  # the first snapshot counts at its ts


def new_kpis() -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every series of the cost per follower, the potential reach and the campaign KPIs."""
    found: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}

    def put(name: str, v: float, **labels: str) -> None:
        found[name, frozenset({"brand": "acme", **labels}.items())] = v

    for window, spend, follows, reach in (("1h", SPEND_1H, 5, 1250), ("5m", SPEND_5M, 2, 250)):
        put("smm_cost_per_follower", spend / follows, platform="vk", window=window,
            currency="RUB")
        put("smm_window_potential_reach", reach, platform="vk", window=window)
    # Per campaign. spring: visit b3, purchase b6 and every snapshot of ad a1; summer: the
    # lead b5. "not-declared" is in the brand's figures only.
    campaigns = {
        ("spring", "1h"): {"visits": 1, "bounce_rate_ratio": 0.0, "new_visitors_ratio": 1.0,
                           "purchase": 1, "conversion_rate_ratio": 1.0, "revenue": 1500.5,
                           "ad_spend": SPEND_1H, "ad_clicks": 40, "ad_impressions": 8000,
                           "cost_per_click": SPEND_1H / 40,
                           "cost_per_mille": SPEND_1H / 8000 * 1000,
                           "customer_acquisition_cost": SPEND_1H / 1,
                           "roi_ratio": (1500.5 - SPEND_1H) / SPEND_1H,
                           "roas_ratio": 1500.5 / SPEND_1H},
        ("spring", "5m"): {"ad_spend": SPEND_5M, "ad_clicks": 30, "ad_impressions": 4000,
                           "cost_per_click": SPEND_5M / 30,
                           "cost_per_mille": SPEND_5M / 4000 * 1000,
                           "roi_ratio": -1.0, "roas_ratio": 0.0},
        ("summer", "1h"): {"lead": 1, "cost_per_lead": 0.0},
        ("summer", "5m"): {},
    }
    money = {"revenue", "ad_spend", "cost_per_click", "cost_per_mille", "cost_per_lead",
             "customer_acquisition_cost"}
    window_counts = ("visits", "revenue", "ad_spend", "ad_clicks", "ad_impressions")
    for (campaign, window), values in campaigns.items():
        at = {"campaign": campaign, "window": window}
        for kind in ("lead", "signup", "purchase", "other"):  # counts: 0 rather than absent
            put("smm_campaign_window_conversions", values.get(kind, 0), kind=kind, **at)
        for name in window_counts:
            put(f"smm_campaign_window_{name}", values.get(name, 0),
                **at, **({"currency": "RUB"} if name in money else {}))
        for name, v in values.items():
            if name not in window_counts and name not in ("lead", "purchase"):
                put(f"smm_campaign_{name}", v,
                    **at, **({"currency": "RUB"} if name in money else {}))
    return found


NEW_METRICS = ("smm_cost_per_follower", "smm_window_potential_reach", "smm_campaign_")


def new_series(samples: dict) -> dict:
    return {key: v for key, v in samples.items() if key[0].startswith(NEW_METRICS)}


def api_samples(service) -> dict:
    """``GET /api/kpis/acme`` as /metrics samples: (name, labels with the brand) -> value."""
    answer = requests.get(f"http://127.0.0.1:{service.port}/api/kpis/acme", timeout=10)
    answer.raise_for_status()
    return {(kpi["metric"], frozenset({"brand": "acme", **kpi["labels"]}.items())): kpi["value"]
            for kpi in answer.json()["kpis"]}


def test_business_events_give_exact_kpis_and_repeats_change_nothing(service, broker, tmp_path):
    now = time.time()
    events = business_feed(now)
    service.feed([orjson.dumps(e) for e in events], tmp_path)
    service.wait_for_events(len(events))

    def labels(window: str, **more: str) -> dict[str, str]:
        return {"brand": "acme", "platform": "vk", "window": window, **more}

    spend_1h, spend_5m = SPEND_1H, SPEND_5M
    expected = {
        ("smm_window_visits", "1h"): 4,
        ("smm_bounce_rate_ratio", "1h"): 1 / 4,
        ("smm_new_visitors_ratio", "1h"): 2 / 4,
        ("smm_visit_duration_seconds", "1h"): (10.5 + 100.0) / 2,
        ("smm_conversion_rate_ratio", "1h"): 3 / 4,
        ("smm_window_ad_clicks", "1h"): 40,
        ("smm_window_ad_clicks", "5m"): 30,
        ("smm_window_ad_impressions", "1h"): 8000,
        ("smm_roi_ratio", "1h"): (1500.5 - spend_1h) / spend_1h,
        ("smm_roas_ratio", "1h"): 1500.5 / spend_1h,
    }
    money = {
        ("smm_window_revenue", "1h"): 1500.5,
        ("smm_window_ad_spend", "1h"): spend_1h,
        ("smm_window_ad_spend", "5m"): spend_5m,
        ("smm_cost_per_click", "1h"): spend_1h / 40,
        ("smm_cost_per_click", "5m"): spend_5m / 30,
        ("smm_cost_per_mille", "1h"): spend_1h / 8000 * 1000,
        ("smm_cost_per_lead", "1h"): spend_1h / 1,
        ("smm_customer_acquisition_cost", "1h"): spend_1h / 2,
    }
    kinds = {"lead": 1, "signup": 1, "purchase": 1, "other": 0}

    def check() -> None:
        samples = service.metrics()
        for (name, window), v in expected.items():
            assert value(samples, name, **labels(window)) == pytest.approx(v), (name, window)
        for (name, window), v in money.items():
            assert value(samples, name, **labels(window, currency="RUB")) == pytest.approx(v), \
                (name, window)
        for kind, n in kinds.items():
            assert value(samples, "smm_window_conversions", **labels("1h", kind=kind)) == n
        # No visits in the last 5 minutes: their ratios are absent, not 0.
        assert value(samples, "smm_bounce_rate_ratio", **labels("5m")) is None
        assert value(samples, "smm_conversion_rate_ratio", **labels("5m")) is None
        # Exactly these series of the new KPIs, on /metrics and from the JSON API.
        expected_new = new_kpis()
        for found in (new_series(samples), new_series(api_samples(service))):
            assert found.keys() == expected_new.keys()
            for key, v in expected_new.items():
                assert found[key] == pytest.approx(v), key

    wait_until(check, timeout=30)

    # A duplicate id, a replayed snapshot under a new id (same ts) and an older snapshot
    # change nothing; a conversion in dollars goes to the DLQ.
    ad = {"account": "cabinet", "ad_id": "a1"}
    repeats = [
        events[0],
        {**events[8], "event_id": "b9-again", "campaign": "summer"},
        {**events[7], "event_id": "b8-again", "spend": 5000.0},
        events[9],  # a follow and a mention sent again
        events[12],
        {"type": "conversion", "event_id": "b10", "ts": now - 60, "brand": "acme",
         "platform": "vk", "kind": "purchase", "value": 10.0, "currency": "USD"},
        {"type": "ad_metrics", "event_id": "b11", "ts": now - 60, "brand": "acme",
         "platform": "vk", "spend": 1.0, "currency": "EUR", **ad},
    ]
    service.feed([orjson.dumps(e) for e in repeats], tmp_path)
    samples = service.wait_for_events(len(events) + len(repeats))
    outcomes = Counter()
    for (name, labels_), v in samples.items():
        if name == "smm_events_total":
            outcomes[dict(labels_)["outcome"]] += int(v)
    assert outcomes == Counter(accepted=len(events) + 2, duplicate=3, rejected=2)
    time.sleep(2)  # the agent handles what the ingest counted
    check()

    dlq = read_dlq(broker.bootstrap, load_config(service.config).topics.dlq, 2)
    assert sorted((dict(r.headers)["smm.reason"], orjson.loads(r.value)["event_id"])
                  for r in dlq) == [(b"currency_mismatch", "b10"), (b"currency_mismatch", "b11")]


def test_the_brands_api_lists_its_benchmarks_beside_its_kpis(service):
    answer = requests.get(f"http://127.0.0.1:{service.port}/api/kpis/acme", timeout=10).json()
    assert answer["benchmarks"] == {"smm_conversion_rate_ratio": 0.025,
                                    "smm_cost_per_click": 12.5}
    assert answer["kpis"]
