"""Internal messages (streams/internal.py) and how the ingest stage packs them."""

from __future__ import annotations

import random

import msgspec
import orjson

from smm_pulse.agents.ingest import Packer
from smm_pulse.kpi.catalog import Family
from smm_pulse.streams.events import Declared, Event, parse_message
from smm_pulse.streams.internal import Interactions, Mentions, Packed, Posts, decode, encoded

NOW = 1_800_000_000.0
PARTITIONS = {"acme": 0, "globex": 1, "initech": 0}


def events(*raw: dict) -> list[Event]:
    parsed = parse_message(orjson.dumps(list(raw)), Declared(PARTITIONS.__contains__), NOW)
    assert not parsed.rejected, parsed.rejected
    return parsed.accepted


def like(event_id: str, brand: str = "acme", **fields: object) -> dict:
    return {"type": "interaction", "event_id": event_id, "ts": NOW - 1, "platform": "vk",
            "brand": brand, "account": "main", "action": "like", **fields}


def post(event_id: str, brand: str = "acme", **fields: object) -> dict:
    return {"type": "post_metrics", "event_id": event_id, "ts": NOW - 2, "platform": "x",
            "brand": brand, "account": "main", "post_id": "p1", **fields}


def mention(event_id: str, brand: str = "acme", **fields: object) -> dict:
    return {"type": "mention", "event_id": event_id, "ts": NOW - 3, "platform": "x",
            "brand": brand, "text": f"text of {event_id}", "lang": "en", **fields}


def packed(packer: Packer) -> dict[tuple[Family, int], list[Packed]]:
    found: dict[tuple[Family, int], list[Packed]] = {}
    for family, partition, body in packer.messages():
        found.setdefault((family, partition), []).append(decode(body))
    return found


def test_a_block_holds_each_field_of_its_events_as_a_column():
    block = Posts.of(events(post("a", likes=3, reach=30), post("b", comments=1)))
    assert block.event_id == ["a", "b"]
    assert block.ts == [NOW - 2, NOW - 2]
    assert list(block.counters()) == [(3, None, None, None, None, 30, None, None),
                                      (None, 1, None, None, None, None, None, None)]


def test_mentions_carry_their_text_only_where_the_service_scores_them():
    block = Mentions.of(events(mention("a", sentiment=0.5), mention("b")))
    assert (block.text, block.lang) == ([None, "text of b"], [None, "en"])


def test_a_block_splits_into_the_events_kept_and_the_others():
    block = Interactions.of(events(like("a"), like("b", count=2), like("c")))
    kept, others = block.split([True, False, True])
    assert (kept.event_id, kept.count, others.event_id, others.count) == (
        ["a", "c"], [None, None], ["b"], [2])
    assert block.split([True] * 3) == (block, None)
    assert block.split([False] * 3) == (None, block)


def test_a_message_too_big_for_one_is_split_and_loses_no_event():
    rng = random.Random(2)
    raw = [like(f"e{i}", brand=rng.choice(list(PARTITIONS))) for i in range(300)]
    blocks: dict = {}
    for event in events(*raw):
        blocks.setdefault(event.brand, []).append(event)
    message = Packed("smm.engagement", {brand: [Interactions.of(found)]
                                        for brand, found in blocks.items()})
    whole = encoded(message)
    parts = encoded(message, limit=len(whole[0]) // 5)
    assert len(whole) == 1 and len(parts) >= 5
    assert all(len(part) <= len(whole[0]) // 5 for part in parts)
    ids = sorted(i for part in parts for found in decode(part).blocks.values()
                 for block in found for i in block.event_id)
    assert ids == sorted(e["event_id"] for e in raw)


def test_the_ingest_packs_events_per_family_and_brand_partition_a_block_per_kind():
    packer = Packer(PARTITIONS.__getitem__)
    packer.add("smm.engagement", events(like("a"), post("b"), like("c")), size=300)
    packer.add("smm.engagement", events(like("d", brand="globex")), size=100)
    packer.add("smm.mentions", events(mention("e")), size=100)
    found = packed(packer)
    assert found.keys() == {(Family.ENGAGEMENT, 0), (Family.ENGAGEMENT, 1),
                            (Family.MENTIONS, 0)}
    [acme] = found[Family.ENGAGEMENT, 0]
    assert acme.topic == "smm.engagement"
    assert [(type(b), b.event_id) for b in acme.blocks["acme"]] == [
        (Posts, ["b"]), (Interactions, ["a", "c"])]  # the contract's order of types
    assert found[Family.ENGAGEMENT, 1][0].blocks["globex"][0].event_id == ["d"]
    assert found[Family.MENTIONS, 0][0].blocks["acme"][0].event_id == ["e"]


def test_messages_mixing_brands_are_packed_as_each_brand_alone_would_be():
    rng = random.Random(4)
    raw = [rng.choice([like, post, mention])(f"e{i}", brand=rng.choice(list(PARTITIONS)))
           for i in range(200)]
    mixed, alone = Packer(PARTITIONS.__getitem__), Packer(PARTITIONS.__getitem__)
    for start in range(0, len(raw), 20):
        chunk = raw[start:start + 20]
        topic = "smm.engagement" if start % 40 else "smm.mentions"
        mixed.add(topic, events(*chunk), size=2_000)
        for brand in PARTITIONS:
            mine = [e for e in chunk if e["brand"] == brand]
            if mine:
                alone.add(topic, events(*mine), size=100 * len(mine))

    def contents(packer: Packer) -> dict:
        return {(where, message.topic, brand): [msgspec.structs.asdict(b) for b in blocks]
                for where, messages in packed(packer).items() for message in messages
                for brand, blocks in message.blocks.items()}

    assert contents(mixed) == contents(alone)
