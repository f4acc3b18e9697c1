"""Validation of the event contract (section 2), without a broker."""

from __future__ import annotations

import json
import random

import msgspec
import orjson
import pytest

from smm_pulse.streams.events import Declared, Rejection, parse_message

NOW = 1_800_000_000.0
DECLARED = {"acme", "Café"}


def parse(value: object | bytes):
    # json, not orjson: it writes integers past 64 bits, as a hostile collector may
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return parse_message(raw, Declared(DECLARED.__contains__), NOW)


def event(**fields: object) -> dict:
    base = {"type": "interaction", "event_id": "e1", "ts": NOW, "platform": "vk",
            "brand": "acme", "account": "main", "action": "like"}
    return {**base, **fields}


def only_rejection(value: object | bytes) -> Rejection:
    parsed = parse(value)
    assert parsed.accepted == []
    assert len(parsed.rejected) == 1
    return parsed.rejected[0]



def test_rfc3339_with_offset_is_converted_to_unix_seconds():
    parsed = parse(event(ts="2027-01-15T07:00:00Z"))
    assert parsed.accepted[0].ts == 1799996400.0
    assert parse(event(ts="2027-01-15T10:00:00+03:00")).accepted[0].ts == 1799996400.0


def test_batch_rejects_only_its_bad_items():
    parsed = parse([event(event_id="a"), 42, event(event_id="b", action="dance"), event()])
    assert [e.event_id for e in parsed.accepted] == ["a", "e1"]
    assert [(r.reason, r.index) for r in parsed.rejected] == [
        ("not_an_object", 1), ("invalid_field", 2)]


def test_empty_batch_is_no_event():
    parsed = parse([])
    assert parsed.accepted == [] and parsed.rejected == []


def test_platform_is_lowercased_and_brand_compared_after_nfc():
    accepted = parse(event(platform="VK", brand="Cafe\u0301")).accepted[0]
    assert accepted.platform == "vk"
    assert accepted.brand == "Café"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "malformed_json"),
        (b'{"type": "interaction", "count": NaN}', "malformed_json"),
        (b"[Infinity]", "malformed_json"),
        (b'"just a string"', "not_an_object"),
    ],
)
def test_undecodable_messages_are_one_rejection(raw: bytes, reason: str):
    rejection = only_rejection(raw)
    assert rejection.reason == reason
    assert rejection.event_type == "unknown"


@pytest.mark.parametrize(
    ("fields", "reason", "field"),
    [
        ({"type": "tweet"}, "unknown_type", "type"),
        ({"type": None}, "unknown_type", "type"),
        ({"action": "dance"}, "invalid_field", "action"),
        ({"account": None}, "invalid_field", "account"),
        ({"count": 0}, "invalid_field", "count"),
        ({"count": 1.5}, "invalid_field", "count"),
        ({"count": True}, "invalid_field", "count"),
        ({"count": "2"}, "invalid_field", "count"),
        ({"event_id": ""}, "invalid_field", "event_id"),
        ({"event_id": "x" * 129}, "invalid_field", "event_id"),
        ({"brand": "b" * 65}, "invalid_field", "brand"),
        ({"brand": "globex"}, "undeclared_brand", "brand"),
        ({"ts": NOW + 601}, "future_timestamp", "ts"),
        ({"ts": "2027-01-15 10:00"}, "invalid_field", "ts"),
        ({"ts": "2027-01-15T10:00:00"}, "invalid_field", "ts"),
        ({"ts": True}, "invalid_field", "ts"),
    ],
)
def test_bad_interaction_fields_are_rejected_with_reason(fields, reason, field):
    rejection = only_rejection(event(**fields))
    assert (rejection.reason, rejection.field) == (reason, field)


def test_missing_field_names_the_field():
    bad = event()
    del bad["account"]
    rejection = only_rejection(bad)
    assert (rejection.reason, rejection.field, rejection.event_type) == (
        "missing_field", "account", "interaction")


def test_ts_up_to_ten_minutes_ahead_is_accepted():
    assert parse(event(ts=NOW + 599)).accepted


def mention(**fields: object) -> dict:
    return {"type": "mention", "event_id": "m1", "ts": NOW, "platform": "x", "brand": "acme",
            "text": "hello", **fields}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"text": "x" * 10_001}, "text"),
        ({"lang": "eng"}, "lang"),
        ({"lang": "e1"}, "lang"),
        ({"sentiment": 1.5}, "sentiment"),
        ({"sentiment": -1.01}, "sentiment"),
        ({"reach": -1}, "reach"),
        ({"author_followers": -5}, "author_followers"),
        ({"author_followers": 1.0}, "author_followers"),
    ],
)
def test_bad_mention_fields_are_rejected(fields, field):
    rejection = only_rejection(mention(**fields))
    assert (rejection.reason, rejection.field, rejection.event_type) == (
        "invalid_field", field, "mention")


def test_mention_text_limit_counts_code_points():
    assert parse(mention(text="ё" * 10_000)).accepted


def test_sentiment_accepts_integer_bounds_and_lang_is_lowercased():
    accepted = parse(mention(sentiment=-1, lang="RU")).accepted[0]
    assert (accepted.sentiment, accepted.lang) == (-1.0, "ru")


@pytest.mark.parametrize(
    "fields",
    [{"followers": -1}, {"followers": "10"}, {"followers": 2.5}, {"followers": False}],
)
def test_bad_followers_are_rejected(fields):
    account = {"type": "account_metrics", "event_id": "a", "ts": NOW, "platform": "vk",
               "brand": "acme", "account": "main", **fields}
    assert only_rejection(account).field == "followers"


def test_negative_post_counter_is_rejected():
    post = {"type": "post_metrics", "event_id": "p", "ts": NOW, "platform": "vk",
            "brand": "acme", "account": "main", "post_id": "1", "likes": -3}
    assert only_rejection(post).field == "likes"


def odd_events() -> list[dict]:
    """Events that each need one of the per-event rules, and plain ones."""
    post = {"type": "post_metrics", "event_id": "p", "ts": NOW, "platform": "vk",
            "brand": "acme", "account": "main", "post_id": "1", "likes": 3}
    return [
        event(), event(event_id="e2"), post, mention(), mention(sentiment=0.5),
        event(platform="VK"), event(brand="Cafe\u0301"), event(brand="globex"),
        event(ts=NOW + 601), event(ts="2027-01-15T07:00:00Z"), event(ts="2027-01-15 10:00"),
        {**post, "published_at": "2027-01-15T07:00:00+03:00"}, {**post, "published_at": NOW - 5},
        mention(lang="RU"), mention(lang="en"),
    ]


def as_dicts(parsed) -> tuple[list, list]:
    return ([msgspec.structs.asdict(e) for e in parsed.accepted],
            [(r.reason, r.field) for r in parsed.rejected])


def test_a_batch_gets_every_rule_applied_to_each_event_whatever_its_neighbours():
    """Rules are checked a message at a time when every event passes them: a batch must
    come out as its events one by one would."""
    rng = random.Random(5)
    singles = {i: as_dicts(parse(e)) for i, e in enumerate(odd_events())}
    for _ in range(300):
        picked = rng.choices(range(len(singles)), k=rng.randint(1, 6))
        accepted, rejected = as_dicts(parse([odd_events()[i] for i in picked]))
        assert accepted == [a for i in picked for a in singles[i][0]]
        assert rejected == [r for i in picked for r in singles[i][1]]


# Bounds: what would overflow the service's sums, or is no time at all, is refused.

@pytest.mark.parametrize(("fields", "field"), [
    ({"type": "account_metrics", "followers": 2**70}, "followers"),
    ({"count": 2**64 - 1}, "count"),
    ({"action": "unlike", "count": 2**63 + 1}, "count"),
    ({"type": "post_metrics", "post_id": "p", "likes": 10**12 + 1}, "likes"),
    ({"type": "post_metrics", "post_id": "p", "published_at": 1e300}, "published_at"),
    ({"ts": 1e300}, "ts"),
    ({"ts": -1}, "ts"),
    ({"ts": "1999-12-31T23:59:59Z"}, "ts"),
    ({"type": "mention", "text": "hi", "reach": 2**70}, "reach"),
])
def test_values_out_of_the_contracts_bounds_are_rejected(fields: dict, field: str):
    rejection = only_rejection(event(**fields))
    assert (rejection.reason, rejection.field) == ("invalid_field", field)


def test_the_largest_counter_the_contract_allows_is_accepted():
    parsed = parse(event(type="post_metrics", post_id="p", views=10**12))
    assert parsed.accepted[0].views == 10**12


def test_a_language_code_with_a_trailing_newline_is_rejected():
    rejection = only_rejection(event(type="mention", text="hi", lang="en\n"))
    assert (rejection.reason, rejection.field) == ("invalid_field", "lang")


def test_a_platform_neither_known_nor_declared_is_rejected():
    rejection = only_rejection(event(platform="myspace"))
    assert (rejection.reason, rejection.field) == ("undeclared_platform", "platform")
    declared = Declared(DECLARED.__contains__, {"vk", "myspace"}.__contains__)
    assert parse_message(orjson.dumps(event(platform="MySpace")), declared, NOW).accepted


@pytest.mark.parametrize("raw", [
    b"[" * 100_000 + b"]" * 100_000,
    b"{\"a\":" * 5000 + b"1" + b"}" * 5000,
    orjson.dumps(event())[:-1] + b',"extra":' + b"[" * 1000 + b"]" * 1000 + b"}",
    b"[" + orjson.dumps(event()) + b"," + b"{\"x\":" * 3000 + b"1" + b"}" * 3000 + b"]",
])
def test_deeply_nested_json_is_rejected_not_raised(raw: bytes):
    parsed = parse(raw)
    assert parsed.accepted == []
    assert {r.reason for r in parsed.rejected} <= {"too_deep", "malformed_json", "not_an_object"}
    assert parsed.rejected


def test_unknown_fields_nested_a_hundred_levels_are_ignored():
    raw = orjson.dumps(event())[:-1] + b',"extra":' + b"[" * 100 + b"]" * 100 + b"}"
    assert len(parse(raw).accepted) == 1


def test_an_odd_number_in_one_item_rejects_no_neighbour():
    # 1e400 is valid JSON past a double's range; each item is judged from its own bytes
    good = orjson.dumps(event(event_id="good"))
    odd = orjson.dumps(event(event_id="odd"))[:-1] + b',"extra":1e400}'
    parsed = parse(b"[" + good + b"," + odd + b",7]")
    assert [e.event_id for e in parsed.accepted] == ["good", "odd"]
    assert [(r.reason, r.index) for r in parsed.rejected] == [("not_an_object", 2)]
