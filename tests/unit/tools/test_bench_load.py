"""The bench's steady load: valid events, one brand a message keyed by it, as the pre-load."""

import random
import time
from collections import Counter

import orjson

from smm_pulse.bench import DEFAULT_MIX, LoadMessages, Mix
from smm_pulse.config import parse_config
from smm_pulse.streams.events import KNOWN_PLATFORMS, TYPE_NAME, Declared, parse_message


def _messages(n: int) -> list[tuple[str, bytes, bytes]]:
    load = LoadMessages(random.Random(7), "t")
    return [load.next() for _ in range(n)]


def test_every_load_event_is_accepted_by_the_service_parser():
    now = time.time()
    for _topic, value, _key in _messages(200):
        parsed = parse_message(value, Declared(lambda _brand: True), now)
        assert parsed.rejected == []
        assert len(parsed.accepted) == 100


def test_a_load_message_holds_one_brand_and_is_keyed_by_it():
    for _topic, value, key in _messages(200):
        assert {event["brand"] for event in orjson.loads(value)} == {key.decode()}


def test_load_messages_cover_every_brand_and_kind_with_fresh_ids():
    brands: set[str] = set()
    kinds: Counter[str] = Counter()
    ids: list[str] = []
    for _topic, value, key in _messages(2_000):
        brands.add(key.decode())
        for event in orjson.loads(value):
            kinds[event["type"]] += 1
            ids.append(event["event_id"])
    assert len(brands) == DEFAULT_MIX.brands
    assert set(kinds) == set(TYPE_NAME.values())
    assert len(set(ids)) == len(ids)


def test_mentions_go_to_the_mentions_topic_and_the_rest_to_engagement():
    for topic, value, _key in _messages(500):
        types = {event["type"] for event in orjson.loads(value)}
        assert (types == {"mention"}) == (topic == "t.mentions")
        assert topic in ("t.mentions", "t.engagement")


def test_a_mix_of_many_brands_and_platforms_is_a_valid_configuration_the_load_covers():
    mix = Mix(brands=300, platforms=7, competitors=2)
    config = parse_config(mix.config(), "bench.yaml")
    assert len(config.brands) == 300
    assert all(len(brand.competitors) == 2 for brand in config.brands.values())
    assert all(brand.targets.engagement_rate is not None for brand in config.brands.values())
    load = LoadMessages(random.Random(7), "t", mix=mix)
    pairs = set()
    for _topic, value, _key in (load.next() for _ in range(3_000)):
        parsed = parse_message(value, Declared(config.brands.__contains__,
                                               (KNOWN_PLATFORMS | set(config.platforms))
                                               .__contains__), time.time())
        assert parsed.rejected == []
        pairs |= {(event["brand"], event["platform"]) for event in orjson.loads(value)}
    assert {platform for _, platform in pairs} == set(mix.platform_names)
    assert len({brand for brand, _ in pairs}) == 300


def test_the_default_mix_is_the_one_earlier_figures_were_measured_on():
    assert (DEFAULT_MIX.brands, DEFAULT_MIX.platform_names) == (
        50, ("vk", "telegram", "instagram", "x", "youtube"))
    assert all(not brand.competitors
               for brand in parse_config(DEFAULT_MIX.config(), "bench.yaml").brands.values())


def test_a_mix_may_export_some_families_and_windows():
    mix = Mix(brands=3, export_families=("engagement", "mentions"), export_windows=("5m", "24h"))
    config = parse_config(mix.config(), "bench.yaml")
    assert {f.value for f in config.exported_families} == {"engagement", "mentions"}
    assert config.exported_windows == ["5m", "24h"]
