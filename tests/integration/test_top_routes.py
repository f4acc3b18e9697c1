"""Top posts and top authors from a real worker: GET /api/brands/{brand}/top-posts and
.../top-authors answer what was fed, for any brand name."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import orjson
import pytest
import requests
import yaml

from tests.integration.conftest import Service, wait_until

pytestmark = pytest.mark.integration

BRAND = "a/b {x}%"  # a name every part of the path escaping is needed for
CONFIG = yaml.safe_dump({"brands": {BRAND: {}, "other": {}}, "windows": ["5m", "1h", "24h"],
                         "partitions": 2, "top_lists": True}, allow_unicode=True)


def known_events(now: float) -> list[bytes]:
    n = iter(range(1, 1_000))

    def line(kind: str, ago: float, **fields: Any) -> bytes:
        return orjson.dumps({"type": kind, "event_id": f"e{next(n)}", "ts": now - ago,
                             "brand": BRAND, "platform": "vk", **fields})

    lines = [line("account_metrics", 600, account="main", followers=10_000)]
    for post, likes, comments in (("p1", 300, 20), ("p2", 50, 5), ("p3", 900, 1)):
        lines.append(line("post_metrics", 500, account="main", post_id=post, likes=likes,
                          comments=comments, views=likes * 10))
    lines.append(line("interaction", 400, account="main", action="like", post_id="p2",
                      count=1_000))
    for author, reach, score in (("big", 50_000, 0.5), ("big", 30_000, -0.1),
                                 ("small", 100, 0.9), ("mid", 9_000, 0.0)):
        lines.append(line("mention", 300, text="hi", author=author, reach=reach,
                          sentiment=score))
    return lines


def get(service: Service, ranking: str, **query: Any) -> requests.Response:
    path = f"/api/brands/{quote(BRAND, safe='')}/{ranking}"
    return requests.get(f"http://127.0.0.1:{service.port}{path}", params=query, timeout=10)


def test_the_routes_rank_what_was_fed(service: Service, tmp_path):
    lines = known_events(time.time())
    service.feed(lines, tmp_path)
    service.wait_for_events(len(lines))
    wait_until(lambda: get(service, "top-authors").json()["top_authors"], timeout=30)

    posts = get(service, "top-posts", window="1h", platform="vk", limit=2).json()
    assert posts["brand"] == BRAND and posts["window"] == "1h"
    assert [(p["post_id"], p["interactions"], p["likes"], p["comments"], p["views"],
             p["engagement_rate"]) for p in posts["top_posts"]] == [
        ("p2", 1_055, 1_050, 5, 500, 1_055 / 10_000), ("p3", 901, 900, 1, 9_000, 901 / 10_000)]

    authors = get(service, "top-authors", window="24h").json()["top_authors"]
    assert [(a["author"], a["reach"], a["mentions"], a["reach_error"]) for a in authors] == [
        ("big", 80_000, 2, 0), ("mid", 9_000, 1, 0), ("small", 100, 1, 0)]
    assert authors[0]["sentiment"] == pytest.approx(0.2)
    assert get(service, "top-posts", platform="x").json()["top_posts"] == []


def test_bad_queries_are_refused_and_unknown_brands_not_found(service: Service):
    assert get(service, "top-posts", window="2h").status_code == 400
    assert get(service, "top-authors", limit=0).status_code == 400
    assert get(service, "top-authors", limit="ten").status_code == 400
    unknown = requests.get(f"http://127.0.0.1:{service.port}/api/brands/nobody/top-posts",
                           timeout=10)
    assert unknown.status_code == 404
