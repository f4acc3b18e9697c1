"""A reference feed for end-to-end tests and the KPI values it must produce.

Covers the contract's section 2: batches, both time formats, duplicate event
ids, out-of-order and replayed snapshots (posts and ads), old posts, unlikes,
several accounts, NFC brands, visits and conversions, and every kind of bad
input next to good neighbours.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import orjson
import pytest

from smm_pulse.sentiment import scorer
from tests.integration.conftest import Samples, value

CONFIG = """
brands:
  acme: {competitors: [globex], currency: RUB}
  globex: {}
  Café: {}
windows: [5m, 1h, 24h]
partitions: 4
"""
WINDOWS = ("5m", "1h", "24h")
# The one mention the service scores itself, with the default scorer.
GREAT = scorer(kind="model").score("acme is great").score
TRUNCATED = b'{"type": "interaction", "event_id": '  # a collector cut off mid-message


def rfc3339(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone(dt.timedelta(hours=3))).isoformat()


class Feed:
    """Builds the fed lines and what the service must count for them."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.lines: list[bytes] = []
        self.outcomes: Counter[str] = Counter()
        self.rejections: list[str] = []
        self._n = 0

    def event(self, type_: str, /, brand: str = "acme", platform: str = "vk", ago: float = 30,
              event_id: str | None = None, **fields: object) -> dict:
        self._n += 1
        return {"type": type_, "event_id": event_id or f"ev-{self._n}", "ts": self.now - ago,
                "platform": platform, "brand": brand, **fields}

    def good(self, *events: dict, batch: bool = False, duplicates: int = 0) -> None:
        self.lines.append(orjson.dumps(list(events) if batch else events[0]))
        self.outcomes["accepted"] += len(events) - duplicates
        self.outcomes["duplicate"] += duplicates

    def bad(self, reason: str, raw: bytes) -> None:
        self.lines.append(raw)
        self.outcomes["rejected"] += 1
        self.rejections.append(reason)

    def bad_event(self, reason: str, event: dict) -> None:
        self.bad(reason, orjson.dumps(event))


def build_feed(now: float) -> Feed:
    feed = Feed(now)
    e = feed.event
    # Followers: two vk accounts; an older snapshot arriving late does not win.
    feed.good(e("account_metrics", account="main", followers=1000, ago=50))
    feed.good(e("account_metrics", account="main", followers=500, ago=58))
    feed.good(e("account_metrics", account="news", followers=3000, ts=rfc3339(now - 40)))
    # Post p1: growing snapshots, an out-of-order one, a replayed one.
    feed.good(e("post_metrics", account="main", post_id="p1", likes=10, comments=2, reach=100,
                views=200, ago=60))
    second = dict(account="main", post_id="p1", likes=15, comments=1, shares=2, reach=300)
    feed.good(e("post_metrics", ago=30, **second))
    feed.good(e("post_metrics", account="main", post_id="p1", likes=100, ago=45))
    feed.good(e("post_metrics", ago=30, **second))  # same snapshot, new id: contributes nothing
    # Post p0, published two days ago: its first snapshot only sets the baseline.
    old = now - 2 * 86400
    feed.good(e("post_metrics", account="main", post_id="p0", published_at=old, likes=500,
                ago=50),
              e("post_metrics", account="main", post_id="p0", likes=510, ago=20), batch=True)
    # Webhook interactions in a batch with bad neighbours.
    like3 = e("interaction", account="main", action="like", count=3, event_id="like-3")
    feed.good(like3,
              e("interaction", account="main", action="unlike"),
              e("interaction", account="main", post_id="p1", action="comment"),
              e("interaction", account="main", action="save"),
              e("interaction", account="main", action="follow", count=2),
              e("interaction", account="main", action="view", count=5),
              batch=True)
    feed.good(like3, duplicates=1)
    # Two days old: older than the longest window, so counted as late and not applied.
    feed.good(e("interaction", account="main", action="like", count=100, ago=2 * 86400))
    feed.good(e("interaction", platform="telegram", account="tg", action="like", count=4,
                ts=rfc3339(now - 10)))
    # Café declared composed, sent decomposed; platform id in capitals.
    feed.good(e("account_metrics", brand="Cafe\u0301", platform="Instagram", account="c",
                followers=200),
              e("post_metrics", brand="Café", platform="instagram", account="c", post_id="x",
                likes=10), batch=True)
    # Customer messages and replies: t1 answered twice over, t2 replied to before it was
    # written (so unanswered), t3 on telegram; one message sent twice.
    t1_in = e("message", account="main", thread_id="t1", direction="in", ago=50)
    feed.good(t1_in,
              e("message", account="main", thread_id="t1", direction="in", ago=45),
              e("message", account="main", thread_id="t1", direction="out", ago=30),
              e("message", account="main", thread_id="t1", direction="out", ago=10),
              e("message", account="main", thread_id="t2", direction="out", ago=41),
              e("message", account="main", thread_id="t2", direction="in", ago=40),
              batch=True)
    feed.good(t1_in, duplicates=1)
    feed.good(e("message", platform="telegram", account="tg", thread_id="t3", direction="in",
                ago=20),
              e("message", platform="telegram", account="tg", thread_id="t3", direction="out",
                ts=rfc3339(now - 5)), batch=True)
    # Mentions, one of them sent twice.
    m1 = e("mention", platform="x", text="acme is great", event_id="m-1")
    feed.good(m1, e("mention", platform="x", text="acme support?", lang="en", sentiment=0.1),
              e("mention", platform="x", text="acme не советую", lang="ru", sentiment=-0.6),
              e("mention", text="acme", reach=10), batch=True)
    feed.good(m1, duplicates=1)
    feed.good(e("mention", brand="globex", platform="x", text="globex"),
              e("mention", brand="globex", platform="x", text="globex!"), batch=True)
    # Business outcomes: visits, the conversions after them, and an ad's reports: one
    # older than the kept one arriving late, one polled again under a new id.
    bounced = e("visit", bounced=True, new_visitor=True, duration_seconds=10, pages=1, ago=55)
    feed.good(bounced,
              e("visit", campaign="spring", duration_seconds=50.5, pages=4, ago=50),
              e("visit", ts=rfc3339(now - 45)), batch=True)
    feed.good(bounced, duplicates=1)
    feed.good(e("conversion", kind="lead", campaign="spring", ago=40),
              e("conversion", kind="purchase", value=1000.25, currency="RUB", new_customer=True,
                ago=35),
              e("conversion", kind="signup", new_customer=True, ago=30), batch=True)
    ad = dict(account="cabinet", ad_id="a1", campaign="spring")
    feed.good(e("ad_metrics", spend=100.0, clicks=10, impressions=2000, reach=1500, ago=60,
                **ad))
    report = dict(spend=250.5, clicks=30, currency="RUB", ago=30, **ad)
    feed.good(e("ad_metrics", impressions=5000, **report))
    feed.good(e("ad_metrics", spend=999.0, clicks=999, ago=45, **ad))
    feed.good(e("ad_metrics", **report))  # impressions absent: kept at 5000
    # Bad input, each kind of section 2: it lands in the DLQ, its neighbours count.
    feed.bad("malformed_json", TRUNCATED)
    feed.bad("malformed_json", b'{"type": "mention", "sentiment": NaN}')
    ok_neighbour = e("interaction", platform="telegram", account="tg", action="share")
    feed.lines.append(orjson.dumps([42, ok_neighbour, e("interaction", account="main",
                                                          action="dance")]))
    feed.outcomes.update(accepted=1, rejected=2)
    feed.rejections += ["not_an_object", "invalid_field"]
    missing = e("interaction", action="like")  # no account
    feed.bad_event("missing_field", missing)
    feed.bad_event("invalid_field", e("account_metrics", account="main", followers="1000"))
    feed.bad_event("invalid_field", e("account_metrics", account="main", followers=True))
    feed.bad_event("invalid_field", e("post_metrics", account="main", post_id="p9", likes=1.5))
    feed.bad_event("invalid_field", e("post_metrics", account="main", post_id="p9", likes=-1))
    feed.bad_event("invalid_field", e("account_metrics", account="main", followers=-5))
    feed.bad_event("unknown_type", e("story", account="main"))
    feed.bad_event("undeclared_brand", e("interaction", brand="initech", account="a",
                                         action="like"))
    feed.bad_event("invalid_field", e("mention", text="x", reach=-1))
    feed.bad_event("invalid_field", e("mention", text="x", author_followers=-1))
    feed.bad_event("invalid_field", e("mention", text="x", lang="rus"))
    feed.bad_event("invalid_field", e("mention", text="x" * 10_001))
    feed.bad_event("invalid_field", e("mention", text="x", sentiment=1.5))
    feed.bad_event("invalid_field", e("interaction", account="main", action="like",
                                      event_id="z" * 129))
    feed.bad_event("future_timestamp", e("interaction", account="main", action="like",
                                         ago=-3600))
    feed.bad_event("currency_mismatch", e("conversion", kind="purchase", value=10.0,
                                          currency="USD"))
    # An invalid event is rejected even though its id was accepted before.
    feed.bad_event("invalid_field", {**like3, "count": 0})
    return feed


# KPI values the feed above must produce, in every window (all events are recent).
EXPECTED_WINDOW = {
    ("acme", "vk"): {
        # likes 15 (p1) + 10 (p0) + 3 - 1 (webhooks); comments 1 + 1; shares 2; saves 1
        "smm_window_interactions": 32,
        "smm_engagement_rate_ratio": 32 / 4000,
        "smm_engagement_rate_reach_ratio": 32 / 300,
        "smm_engagement_rate_views_ratio": 32 / 205,
        "smm_like_rate_ratio": 27 / 4000,
        "smm_window_follows": 2,
        # the first snapshot of each account inside the window is its start: 500 + 3000
        "smm_audience_growth_ratio": (4000 - 3500) / 3500,
        "smm_window_mentions": 1,
        # "acme" carries no sentiment: the service's scorer says neutral
        "smm_window_scored_mentions": 1,
        "smm_sentiment_score": 0,
        "smm_sentiment_neutral_ratio": 1,
        "smm_net_sentiment_ratio": None,  # no positive and no negative mention
        "smm_window_answered_messages": 2,  # t1: 50 -> 30 s ago, 45 -> 30 s ago
        "smm_window_unanswered_messages": 1,  # t2
    },
    ("acme", "telegram"): {
        "smm_window_interactions": 5,
        "smm_engagement_rate_ratio": None,
        "smm_window_answered_messages": 1,
        "smm_window_unanswered_messages": 0,
    },
    ("acme", "x"): {
        # the collector's 0.1 and -0.6, and the scorer's for "acme is great"
        "smm_window_mentions": 3,
        "smm_window_scored_mentions": 3,
        "smm_sentiment_score": (0.1 - 0.6 + GREAT) / 3,
        "smm_sentiment_positive_ratio": 2 / 3,
        "smm_sentiment_negative_ratio": 1 / 3,
        "smm_sentiment_neutral_ratio": 0,
        "smm_net_sentiment_ratio": 1 / 3,
    },
    ("globex", "x"): {"smm_window_mentions": 2},
    ("Café", "instagram"): {
        "smm_window_interactions": 10,
        "smm_engagement_rate_ratio": 0.05,
        "smm_audience_growth_ratio": 0,
    },
}
SPEND = 250.5  # the ad's newest totals: its first report and the difference after it, in W
# Business KPIs of acme on vk in every window: 3 visits, 3 conversions, revenue 1000.25.
EXPECTED_BUSINESS = {
    "smm_window_visits": 3,
    "smm_bounce_rate_ratio": 1 / 3,
    "smm_new_visitors_ratio": 1 / 3,
    "smm_visit_duration_seconds": (10 + 50.5) / 2,
    "smm_conversion_rate_ratio": 1,
    "smm_window_ad_clicks": 30,
    "smm_window_ad_impressions": 5000,
    "smm_roi_ratio": (1000.25 - SPEND) / SPEND,
    "smm_roas_ratio": 1000.25 / SPEND,
    ("smm_window_conversions", "kind", "lead"): 1,
    ("smm_window_conversions", "kind", "signup"): 1,
    ("smm_window_conversions", "kind", "purchase"): 1,
    ("smm_window_conversions", "kind", "other"): 0,
    ("smm_window_revenue", "currency", "RUB"): 1000.25,
    ("smm_window_ad_spend", "currency", "RUB"): SPEND,
    ("smm_cost_per_click", "currency", "RUB"): SPEND / 30,
    ("smm_cost_per_mille", "currency", "RUB"): SPEND / 5000 * 1000,
    ("smm_cost_per_lead", "currency", "RUB"): SPEND,
    ("smm_customer_acquisition_cost", "currency", "RUB"): SPEND / 2,
}
EXPECTED_CURRENT = {
    ("smm_followers", "acme", "vk"): 4000,
    ("smm_followers", "Café", "instagram"): 200,
    ("smm_mentions_total", "acme", "x"): 3,
    ("smm_mentions_total", "acme", "vk"): 1,
    ("smm_mentions_total", "globex", "x"): 2,
}


# (brand, platform) -> response time (mean, p90) in every window
EXPECTED_RESPONSE_TIME = {("acme", "vk"): (17.5, 20), ("acme", "telegram"): (15, 15)}
# acme's set is acme (4 mentions) + globex (2); globex has no competitors.
EXPECTED_SHARE_OF_VOICE = {"acme": 4 / 6, "globex": 1.0, "Café": None}


def assert_kpis(samples: Samples) -> None:
    for (brand, platform), stats in EXPECTED_RESPONSE_TIME.items():
        for window in WINDOWS:
            for stat, expected in zip(("mean", "p90"), stats, strict=True):
                got = value(samples, "smm_response_time_seconds", brand=brand,
                            platform=platform, window=window, stat=stat)
                assert got == pytest.approx(expected, abs=1e-3), (brand, platform, stat, got)
    for brand, expected in EXPECTED_SHARE_OF_VOICE.items():
        for window in WINDOWS:
            got = value(samples, "smm_share_of_voice_ratio", brand=brand, window=window)
            assert got == (pytest.approx(expected) if expected else None), (brand, window, got)
    for (brand, platform), kpis in EXPECTED_WINDOW.items():
        for metric, expected in kpis.items():
            for window in WINDOWS:
                got = value(samples, metric, brand=brand, platform=platform, window=window)
                if expected is None:
                    assert got is None, (metric, brand, platform, window)
                else:
                    assert got == pytest.approx(expected), (metric, brand, platform, window, got)
    for window, seconds in (("5m", 300), ("1h", 3600), ("24h", 86400)):
        rate = value(samples, "smm_mention_rate_per_second", brand="acme", platform="x",
                     window=window)
        assert rate == pytest.approx(3 / seconds)
    for (metric, brand, platform), expected in EXPECTED_CURRENT.items():
        assert value(samples, metric, brand=brand, platform=platform) == expected, metric
    for kpi, expected in EXPECTED_BUSINESS.items():
        metric, *label = (kpi,) if isinstance(kpi, str) else kpi
        for window in WINDOWS:
            got = value(samples, metric, brand="acme", platform="vk", window=window,
                        **dict([label] if label else []))
            assert got == pytest.approx(expected), (kpi, window, got)


def outcomes(samples: Samples) -> Counter[str]:
    counted: Counter[str] = Counter()
    for (name, labels), v in samples.items():
        if name == "smm_events_total":
            counted[dict(labels)["outcome"]] += int(v)
    return counted
