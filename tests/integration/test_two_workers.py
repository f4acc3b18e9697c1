"""Two workers in one consumer group give the values of one; each exports only what it owns.

A second worker joins: partitions move, the old owner's series disappear, the new
owner's appear, with none exported twice; either port answers the API for every
brand, the KPIs and the top lists, the one that does not own it by a 307 to the
owner. The first worker leaves: the survivor alone exports every value, still exact.
"""

from __future__ import annotations

import time

import pytest
import requests

from smm_pulse.config import load_config
from smm_pulse.web.top import RANKINGS, ranking_path
from tests.integration.conftest import Samples, Service, wait_until, write_config
from tests.integration.reference_feed import CONFIG, assert_kpis, build_feed

pytestmark = pytest.mark.integration


def brand_series(samples: Samples) -> Samples:
    return {k: v for k, v in samples.items() if any(name == "brand" for name, _ in k[1])}


def assert_api_matches_metrics(worker: Service, brand: str, samples: Samples) -> None:
    response = requests.get(f"http://127.0.0.1:{worker.port}/api/kpis/{brand}", timeout=10)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["brand"] == brand
    got = {(k["metric"], frozenset({**k["labels"], "brand": brand}.items())): k["value"]
           for k in body["kpis"]}
    expected = {key: v for key, v in samples.items()
                if ("brand", brand) in key[1] and not key[0].endswith("_created")
                and key[0] != "smm_state_keys"}
    assert got == expected


def assert_pages_split_the_brands(first: Service, second: Service) -> None:
    """Each live page shows the brands its worker owns and links the others to their owner."""
    pages = [requests.get(f"http://127.0.0.1:{w.port}/api/overview", timeout=10).json()
             for w in (first, second)]
    shown = [{card["brand"] for card in page["brands"]} for page in pages]
    assert shown[0] and shown[1] and not shown[0] & shown[1]
    assert shown[0] | shown[1] == set(load_config(first.config).brands)
    for page, other, others_brands in ((pages[0], second, shown[1]),
                                       (pages[1], first, shown[0])):
        assert {e["brand"]: e["url"] for e in page["elsewhere"]} == dict.fromkeys(
            others_brands, f"http://127.0.0.1:{other.port}")


def assert_top_lists_redirect_to_the_owner(first: Service, second: Service) -> None:
    """A top list asked of the worker that does not own the brand is a 307 to the owner's
    URL, query and all; followed, it answers what the owner answers."""
    query = "window=24h&platform=vk&limit=5"
    for brand in load_config(first.config).brands:
        for ranking in RANKINGS:
            path = f"{ranking_path(brand, ranking)}?{query}"
            answers = {w.port: requests.get(f"http://127.0.0.1:{w.port}{path}", timeout=10,
                                            allow_redirects=False) for w in (first, second)}
            (owner,) = [port for port, a in answers.items() if a.status_code == 200]
            (other,) = [port for port in answers if port != owner]
            assert answers[other].status_code == 307, answers[other].text
            assert answers[other].headers["Location"] == f"http://127.0.0.1:{owner}{path}"
            followed = requests.get(f"http://127.0.0.1:{other}{path}", timeout=10)
            assert followed.json() == answers[owner].json()
    acme = requests.get(f"http://127.0.0.1:{first.port}{ranking_path('acme', 'top-posts')}",
                        timeout=10).json()
    assert acme["top_posts"], "acme's posts are ranked"


def test_second_worker_takes_over_part_then_all_with_exact_values(broker, tmp_path):
    config = write_config(tmp_path / "smm.yaml", CONFIG + "top_lists: true\n")
    first = Service(config, broker.bootstrap, tmp_path / "first.log").start()
    second = None
    try:
        first.feed(build_feed(time.time()).lines, tmp_path)
        wait_until(lambda: assert_kpis(first.metrics()))

        second = Service(config, broker.bootstrap, tmp_path / "second.log").start()

        def split_exactly() -> None:
            a, b = brand_series(first.metrics()), brand_series(second.metrics())
            assert a and b, "each worker owns some brands"
            assert not set(a) & set(b), "a series is exported by both workers"
            assert_kpis({**a, **b})

        wait_until(split_exactly)
        for worker in (first, second):  # either port answers for every brand
            assert_api_matches_metrics(worker, "acme", {**first.metrics(), **second.metrics()})
        wait_until(lambda: assert_pages_split_the_brands(first, second), timeout=30)
        assert_top_lists_redirect_to_the_owner(first, second)

        first.stop()
        wait_until(lambda: assert_kpis(second.metrics()))
    finally:
        first.stop()
        if second:
            second.stop()
