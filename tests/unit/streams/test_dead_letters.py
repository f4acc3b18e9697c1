"""Dead-letter records: an item's own bytes, bounded, with the reason in headers."""

from __future__ import annotations

import orjson

from smm_pulse.streams.dead_letters import VALUE_LIMIT, Source, dead_letter, dead_letters
from smm_pulse.streams.events import Declared, Rejection, parse_message

NOW = 1_800_000_000.0
SOURCE = Source("smm.engagement", 2, 17)


def good(i: int) -> dict:
    return {"type": "interaction", "event_id": f"e{i}", "ts": NOW, "platform": "vk",
            "brand": "acme", "account": "main", "action": "like", "padding": "x" * 150}


def test_a_rejected_batch_item_is_written_with_its_own_bytes_only():
    items = [good(0), {**good(1), "action": "dance"}, good(2)]
    raw = orjson.dumps(items)
    parsed = parse_message(raw, Declared({"acme"}.__contains__), NOW)
    [letter] = dead_letters(raw, b"acme", parsed.rejected, SOURCE)
    assert orjson.loads(letter.value) == items[1]
    headers = dict(letter.headers)
    assert headers["smm.reason"] == b"invalid_field"
    assert headers["smm.index"] == b"1"
    assert (headers["smm.source.topic"], headers["smm.source.offset"]) == (b"smm.engagement", b"17")


def test_a_thousand_bad_items_write_about_their_own_size_not_a_thousand_messages():
    raw = orjson.dumps([{**good(i), "brand": "nobody"} for i in range(1000)])
    parsed = parse_message(raw, Declared({"acme"}.__contains__), NOW)
    letters = dead_letters(raw, None, parsed.rejected, SOURCE)
    assert len(letters) == 1000
    assert sum(len(letter.value) for letter in letters) < len(raw)
    assert sum(letter.size for letter in letters) < 2 * len(raw)


def test_a_message_that_is_not_json_stays_one_record():
    raw = b"[" + b"not json," * 10
    parsed = parse_message(raw, Declared({"acme"}.__contains__), NOW)
    [letter] = dead_letters(raw, None, parsed.rejected, SOURCE)
    assert letter.value == raw


def test_a_record_over_the_limit_is_cut_and_says_its_size():
    raw = b"x" * (2 * 1024 * 1024)
    letter = dead_letter(Rejection("malformed_json", "no", "unknown"), raw, b"k" * 5000, SOURCE)
    assert len(letter.value) == VALUE_LIMIT
    assert dict(letter.headers)["smm.truncated"] == str(len(raw)).encode()
    assert letter.key is not None and len(letter.key) <= 1024
    assert letter.size < 1024 * 1024  # under the producer's default request limit


def test_many_tiny_bad_items_share_one_record_with_their_reasons_counted():
    raw = b"[" + b",".join([b"{}"] * 1000 + [b"42"] * 10) + b"]"
    parsed = parse_message(raw, Declared({"acme"}.__contains__), NOW)
    [letter] = dead_letters(raw, None, parsed.rejected, SOURCE)
    assert letter.value == raw
    headers = dict(letter.headers)
    assert headers["smm.reason"] == b"unknown_type"
    assert orjson.loads(headers["smm.reasons"]) == {"unknown_type": 1000, "not_an_object": 10}
    assert letter.size < 2 * len(raw) + 4096
