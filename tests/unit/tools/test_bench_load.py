"""The bench's steady load: valid events, one brand a message keyed by it, as the pre-load."""

import random
import time
from collections import Counter

import orjson

from smm_pulse.bench import BRANDS, LoadMessages
from smm_pulse.streams.events import TYPE_NAME, Declared, parse_message


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
    assert len(brands) == BRANDS
    assert set(kinds) == set(TYPE_NAME.values())
    assert len(set(ids)) == len(ids)


def test_mentions_go_to_the_mentions_topic_and_the_rest_to_engagement():
    for topic, value, _key in _messages(500):
        types = {event["type"] for event in orjson.loads(value)}
        assert (types == {"mention"}) == (topic == "t.mentions")
        assert topic in ("t.mentions", "t.engagement")
