"""A generated event set and an independent, naive computation of every KPI for it.

Nothing here imports the service's formulas or state code: the model re-reads the
contract (sections 2 and 3) in the plainest way, so a shared mistake is unlikely.
All events are recent, so every window covers them and the values are exact.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import orjson

from smm_pulse.sentiment import scorer

BRANDS = {"acme": ["globex", "initech"], "globex": ["acme"], "initech": []}
PLATFORMS = ["vk", "telegram", "x"]
MENTION_TEXTS = ["…", "love this bank!", "ужасная поддержка 😡", "acme", "не советую", "спасибо)"]
COUNTERS = ["likes", "comments", "shares", "saves", "views", "reach", "impressions", "clicks"]
ACTIONS = {"like": ("likes", 1), "unlike": ("likes", -1), "comment": ("comments", 1),
           "share": ("shares", 1), "save": ("saves", 1), "view": ("views", 1),
           "click": ("clicks", 1), "follow": ("follows", 1), "unfollow": ("unfollows", 1)}
AD_COUNTERS = ["spend", "clicks", "impressions", "reach"]
CONVERSION_KINDS = ["lead", "signup", "purchase", "other"]
CAMPAIGNS = ["spring", "black-friday"]
CURRENCY = {"acme": "RUB", "globex": "USD", "initech": "EUR"}  # globex: the default

CONFIG = """
brands:
  acme: {competitors: [globex, initech], currency: RUB}
  globex: {competitors: [acme]}
  initech: {currency: EUR}
windows: [5m, 1h, 24h]
partitions: 4
"""


@dataclass
class Generated:
    lines: list[bytes] = field(default_factory=list)
    events_in_order: list[dict[str, Any]] = field(default_factory=list)  # valid ones, as sent
    total: int = 0  # events the service will count (accepted + duplicate + rejected)


def generate(now: float, seed: int) -> Generated:
    rng = random.Random(seed)
    out = Generated()
    events: list[dict[str, Any]] = []
    n = 0

    def next_id() -> str:
        nonlocal n
        n += 1
        return f"g{seed}-{n}"

    def new(type_: str, brand: str, platform: str, ts: float, /, **fields: Any
            ) -> dict[str, Any]:
        stamp: Any = ts
        if rng.random() < 0.5:
            offset = dt.timezone(dt.timedelta(hours=rng.choice([-5, 0, 3])))
            stamp = dt.datetime.fromtimestamp(ts, offset).isoformat()
        return {"type": type_, "event_id": next_id(), "ts": stamp, "platform": platform,
                "brand": brand, **fields}

    def recent() -> float:
        return now - rng.uniform(1, 120)

    def maybe(**fields: Any) -> dict[str, Any]:
        """Each field or its absence (the contract's default), at random."""
        return {k: v for k, v in fields.items() if rng.random() < 0.7}

    def money() -> float:
        return rng.randint(0, 500_000) / 100

    for brand in BRANDS:
        for platform in PLATFORMS:
            for a in range(rng.randint(1, 2)):
                account = f"{brand}-{platform}-{a}"
                for _ in range(rng.randint(0, 3)):
                    events.append(new("account_metrics", brand, platform, recent(),
                                      account=account, followers=rng.randint(0, 5000)))
                for p in range(rng.randint(0, 3)):
                    published = rng.choice([None, now - 2 * 86400, now - rng.uniform(120, 150)])
                    totals = {c: rng.randint(0, 50) for c in COUNTERS}
                    for _ in range(rng.randint(1, 4)):
                        totals = {c: max(0, v + rng.randint(-3, 20)) for c, v in totals.items()}
                        shown = {c: v for c, v in totals.items() if rng.random() < 0.8}
                        extra = {"published_at": published} if published else {}
                        events.append(new("post_metrics", brand, platform, recent(),
                                          account=account, post_id=f"p{p}", **shown, **extra))
                for _ in range(rng.randint(0, 6)):
                    events.append(new("interaction", brand, platform, recent(), account=account,
                                      action=rng.choice(list(ACTIONS)),
                                      count=rng.randint(1, 5)))
                for t in range(rng.randint(0, 3)):
                    for _ in range(rng.randint(1, 3)):
                        events.append(new("message", brand, platform, recent(), account=account,
                                          thread_id=f"t{t}", direction=rng.choice(["in", "out"])))
            for _ in range(rng.randint(0, 6)):
                extra = {"sentiment": round(rng.uniform(-1, 1), 3)} if rng.random() < 0.7 else {}
                if extra:  # the author's audience on some (no draw: the feed stays the same)
                    extra["author_followers"] = 10 * len(events)
                events.append(new("mention", brand, platform, recent(),
                                  text=rng.choice(MENTION_TEXTS), **extra))
            for _ in range(rng.randint(0, 8)):
                events.append(new("visit", brand, platform, recent(), **maybe(
                    campaign=rng.choice(CAMPAIGNS), bounced=rng.random() < 0.4,
                    new_visitor=rng.random() < 0.5, duration_seconds=rng.randint(0, 6000) / 10,
                    pages=rng.randint(1, 9))))
            for _ in range(rng.randint(0, 4)):
                events.append(new("conversion", brand, platform, recent(),
                                  kind=rng.choice(CONVERSION_KINDS), **maybe(
                                      value=money(), currency=CURRENCY[brand],
                                      campaign=rng.choice(CAMPAIGNS),
                                      new_customer=rng.random() < 0.5)))
            for ad in range(rng.randint(0, 2)):  # ads of this feed only: spend only grows
                totals = {c: 0.0 if c == "spend" else 0 for c in AD_COUNTERS}
                for _ in range(rng.randint(1, 4)):
                    totals = {c: v + (money() if c == "spend" else rng.randint(0, 300))
                              for c, v in totals.items()}
                    snapshot = new("ad_metrics", brand, platform, recent(),
                                   account=f"{brand}-ads", ad_id=f"ad{seed}-{ad}",
                                   **maybe(campaign=rng.choice(CAMPAIGNS),
                                           currency=CURRENCY[brand], **totals))
                    events.append(snapshot)
                    if rng.random() < 0.2:  # the same report polled again, under a new id
                        events.append({**snapshot, "event_id": next_id()})
    rng.shuffle(events)  # arrival order differs from event time: out-of-order snapshots
    events += [dict(e) for e in rng.sample(events, k=len(events) // 10)]  # duplicates
    i = 0
    while i < len(events):
        size = rng.choice([1, 1, 3, 10])
        chunk = events[i:i + size]
        i += size
        if rng.random() < 0.1:  # a rejected neighbour: a missing field, a foreign currency
            chunk = [*chunk, rng.choice([{"type": "interaction", "event_id": "bad"}, new(
                "conversion", "acme", "vk", recent(), kind="purchase", value=1.0,
                currency="USD")])]
        out.lines.append(orjson.dumps(chunk if len(chunk) > 1 or rng.random() < 0.5
                                      else chunk[0]))
        out.total += len(chunk)
    out.events_in_order = events
    return out


def unix(ts: Any) -> float:
    return float(ts) if not isinstance(ts, str) else dt.datetime.fromisoformat(ts).timestamp()


Snapshots = dict[tuple, tuple[float, dict[str, float]]]


def snapshot_changes(kept: Snapshots, key: tuple, ts: float, event: dict[str, Any],
                     counters: list[str]) -> dict[str, float] | None:
    """What a cumulative snapshot adds (section 2's snapshot rules), None for nothing: the
    first one its totals (absent counters 0), a newer one its differences from the kept
    one (absent counters keep their value), an older or equal one nothing."""
    if key not in kept:
        kept[key] = (ts, {c: event.get(c, 0) for c in counters})
        return kept[key][1]
    if ts <= kept[key][0]:
        return None
    before = kept[key][1]
    kept[key] = (ts, {c: event.get(c, before[c]) for c in counters})
    return {c: kept[key][1][c] - before[c] for c in counters}


def add_business(counters: dict[str, float], e: dict[str, Any], ads: Snapshots) -> bool:
    """Adds a visit, conversion or ad snapshot to ``counters``; False if it added nothing
    (a snapshot without changes)."""
    if e["type"] == "visit":
        counters["visits"] += 1
        counters["bounced"] += e.get("bounced", False)
        counters["new_visitors"] += e.get("new_visitor", False)
        if "duration_seconds" in e:
            counters["duration_sum"] += e["duration_seconds"]
            counters["timed"] += 1
    elif e["type"] == "conversion":
        counters[e["kind"]] += 1
        counters["revenue"] += e.get("value", 0)
        counters["new_customers"] += e.get("new_customer", False)
    else:
        key = (e["brand"], e["platform"], e["account"], e["ad_id"])
        changes = snapshot_changes(ads, key, unix(e["ts"]), e, AD_COUNTERS)
        if not changes or not any(changes.values()):
            return False
        for c, change in changes.items():
            counters[f"ad_{c}"] += change
    return True


def business_kpis(c: dict[str, float], currency: str, follows: float
                  ) -> list[tuple[str, float | None, dict[str, str]]]:
    """(metric, value or None where absent, labels besides brand, platform and window);
    ``follows``: the pair's gross follows (interaction events) in the window."""

    def div(a: float, b: float) -> float | None:
        return a / b if b > 0 else None

    money = {"currency": currency}
    spend = c["ad_spend"]
    return [
        ("smm_window_visits", c["visits"], {}),
        ("smm_bounce_rate_ratio", div(c["bounced"], c["visits"]), {}),
        ("smm_new_visitors_ratio", div(c["new_visitors"], c["visits"]), {}),
        ("smm_visit_duration_seconds", div(c["duration_sum"], c["timed"]), {}),
        *(("smm_window_conversions", c[kind], {"kind": kind}) for kind in CONVERSION_KINDS),
        ("smm_conversion_rate_ratio",
         div(sum(c[kind] for kind in CONVERSION_KINDS), c["visits"]), {}),
        ("smm_window_revenue", c["revenue"], money),
        ("smm_window_ad_spend", spend, money),
        ("smm_window_ad_clicks", c["ad_clicks"], {}),
        ("smm_window_ad_impressions", c["ad_impressions"], {}),
        ("smm_cost_per_click", div(spend, c["ad_clicks"]), money),
        ("smm_cost_per_mille", div(spend * 1000, c["ad_impressions"]), money),
        ("smm_cost_per_lead", div(spend, c["lead"]), money),
        ("smm_customer_acquisition_cost", div(spend, c["new_customers"]), money),
        ("smm_roi_ratio", div(c["revenue"] - spend, spend), {}),
        ("smm_roas_ratio", div(c["revenue"], spend), {}),
        ("smm_cost_per_follower", div(spend, follows), money),
    ]


def expected_metrics(events: list[dict[str, Any]], now: float) -> dict[tuple, float]:
    """(metric, brand, platform or None, window or None, other labels or None) -> value, all
    windows; other labels are a sorted tuple of (name, value), e.g. (("stat", "p90"),)."""
    first: dict[tuple[str, str], dict[str, Any]] = {}
    for e in events:
        first.setdefault((e["brand"], e["event_id"]), e)
    accepted = list(first.values())

    gained: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    posts: Snapshots = {}
    ads: Snapshots = {}
    business: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    snapshots: dict[tuple, list[tuple[float, int]]] = defaultdict(list)
    mentions: dict[tuple[str, str], list[float]] = defaultdict(list)
    authors_followers: dict[tuple[str, str], int] = defaultdict(int)
    threads: dict[tuple, dict[str, list[float]]] = defaultdict(lambda: {"in": [], "out": []})
    for e in accepted:
        pair, ts = (e["brand"], e["platform"]), unix(e["ts"])
        if e["type"] == "interaction":
            counter, sign = ACTIONS[e["action"]]
            gained[pair][counter] += sign * e["count"]
        elif e["type"] == "post_metrics":
            key = (*pair, e["account"], e["post_id"])
            first = key not in posts
            changes = snapshot_changes(posts, key, ts, e, COUNTERS)
            published = e.get("published_at")
            # a first snapshot published before the longest window only sets the baseline
            if changes is not None and not (
                    first and published is not None and unix(published) < now - 86400):
                for c, change in changes.items():
                    gained[pair][c] += change
        elif e["type"] in ("visit", "conversion", "ad_metrics"):
            counters = business.get(pair, defaultdict(float))
            if add_business(counters, e, ads):
                business[pair] = counters  # a pair's series exist once something counted
        elif e["type"] == "account_metrics":
            snapshots[(*pair, e["account"])].append((ts, e["followers"]))
        elif e["type"] == "mention":
            # the collector's score wins; else the service's scorer (not a KPI formula)
            score = e.get("sentiment")
            mentions[pair].append(score if score is not None else
                                  scorer(kind="model").score(e["text"], e.get("lang")).score)
            authors_followers[pair] += e.get("author_followers", 0)
        else:
            threads[(*pair, e["account"], e["thread_id"])][e["direction"]].append(ts)

    result: dict[tuple, float] = {}
    windows = ["5m", "1h", "24h"]

    def put(metric: str, pair: tuple[str, str] | tuple[str], value: float | None,
            labels: dict[str, str] | None = None, windowed: bool = True) -> None:
        if value is None:
            return
        platform = pair[1] if len(pair) > 1 else None
        for w in windows if windowed else [None]:
            result[metric, pair[0], platform, w, tuple(sorted((labels or {}).items())) or None] \
                = value

    def div(a: float, b: float) -> float | None:
        return a / b if b > 0 else None

    followers: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for (brand, platform, _account), snaps in snapshots.items():
        ordered = sorted(snaps)  # every snapshot is inside every window: start = earliest
        followers[brand, platform].append((ordered[0][1], ordered[-1][1]))
    for pair in set(gained) | set(followers):
        g = gained[pair]
        inter = g["likes"] + g["comments"] + g["shares"] + g["saves"]
        fol = sum(end for _, end in followers[pair]) if followers[pair] else None
        start = sum(s for s, _ in followers[pair]) if followers[pair] else None
        put("smm_window_interactions", pair, inter)
        for metric, counter in [("smm_window_reach", "reach"), ("smm_window_views", "views"),
                                ("smm_window_follows", "follows"),
                                ("smm_window_unfollows", "unfollows")]:
            put(metric, pair, g[counter])
        put("smm_engagement_rate_ratio", pair, div(inter, fol or 0))
        put("smm_engagement_rate_reach_ratio", pair, div(inter, g["reach"]))
        put("smm_engagement_rate_views_ratio", pair, div(inter, g["views"]))
        put("smm_like_rate_ratio", pair, div(g["likes"], fol or 0))
        put("smm_talk_rate_ratio", pair, div(g["comments"], fol or 0))
        put("smm_amplification_rate_ratio", pair, div(g["shares"], fol or 0))
        put("smm_virality_rate_ratio", pair, div(g["shares"], g["views"]))
        put("smm_click_through_rate_ratio", pair, div(g["clicks"], g["impressions"]))
        if fol is not None:
            put("smm_followers", pair, fol, windowed=False)
            put("smm_audience_growth_ratio", pair, div(fol - start, start))
    for pair, scores in mentions.items():
        put("smm_window_mentions", pair, len(scores))
        put("smm_window_potential_reach", pair, authors_followers[pair])
        for w, seconds in (("5m", 300), ("1h", 3600), ("24h", 86400)):
            result["smm_mention_rate_per_second", *pair, w, None] = len(scores) / seconds
        put("smm_mentions_total", pair, len(scores), windowed=False)
        scored = scores
        put("smm_window_scored_mentions", pair, len(scored))
        pos = sum(1 for s in scored if s > 0.05)
        neg = sum(1 for s in scored if s < -0.05)
        put("smm_sentiment_score", pair, div(sum(scored), len(scored)))
        put("smm_sentiment_positive_ratio", pair, div(pos, len(scored)))
        put("smm_sentiment_negative_ratio", pair, div(neg, len(scored)))
        put("smm_sentiment_neutral_ratio", pair, div(len(scored) - pos - neg, len(scored)))
        put("smm_net_sentiment_ratio", pair, div(pos - neg, pos + neg))
    volume = {b: sum(len(m) for (brand, _), m in mentions.items() if brand == b) for b in BRANDS}
    for brand, competitors in BRANDS.items():
        put("smm_share_of_voice_ratio", (brand,),
            div(volume[brand], volume[brand] + sum(volume[c] for c in competitors)))
    responses: dict[tuple[str, str], list[float]] = defaultdict(list)
    unanswered: dict[tuple[str, str], int] = defaultdict(int)
    for (brand, platform, _a, _t), sides in threads.items():
        for t_in in sides["in"]:
            later = [t for t in sides["out"] if t >= t_in]
            if later:
                responses[brand, platform].append(min(later) - t_in)
            else:
                unanswered[brand, platform] += 1
    # Every pair with a message has counts, even with only the brand's replies (0 and 0).
    for pair in {(brand, platform) for brand, platform, _a, _t in threads}:
        times = sorted(responses[pair])
        put("smm_window_answered_messages", pair, len(times))
        put("smm_window_unanswered_messages", pair, unanswered[pair])
        if times:
            put("smm_response_time_seconds", pair, sum(times) / len(times), {"stat": "mean"})
            put("smm_response_time_seconds", pair, times[math.ceil(0.9 * len(times)) - 1],
                {"stat": "p90"})
    for pair, counters in business.items():
        follows = gained[pair]["follows"] if pair in gained else 0
        for metric, value, labels in business_kpis(counters, CURRENCY[pair[0]], follows):
            put(metric, pair, value, labels)
    return result
