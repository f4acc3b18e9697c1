"""Messages between the service's own stages on its internal topics.

The ingest stage sends the valid events of one brand partition and input topic
as one ``Packed`` message: per brand, one ``Block`` per kind of event, which
holds the events as columns, and only the fields the KPIs use (a mention's
text only when the service must score it). The mentions agent sends share-of-
voice counts the same way (``VoiceCounts``).

Why columns: a message holds thousands of events. msgspec writes and reads
lists of plain values in C, without field names in every event, and the agents
work on whole columns at a time (counting, duplicate checks). Event by event in
Python, the internal hop cost more than the KPIs computed from it
(docs/benchmarks.md, "Columns in internal messages"). Only this service reads these topics.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from itertools import compress
from operator import attrgetter
from typing import Any, TypeVar

import msgspec
from msgspec import Struct
from msgspec.structs import astuple

from smm_pulse.streams.events import (
    AD_COUNTERS,
    POST_COUNTERS,
    AccountMetrics,
    AdMetrics,
    Conversion,
    Event,
    Interaction,
    Mention,
    Message,
    PostMetrics,
    Visit,
)

# Internal messages stay well under the brokers' default 1 MiB request limit.
MAX_MESSAGE_BYTES = 768 * 1024

B = TypeVar("B", bound="Block")


class Block(Struct, array_like=True, tag_field="kind", gc=False):
    """Events of one kind and brand as columns; every column has one value per event.

    gc=False: a block holds lists of plain values, never a cycle.
    """

    event_id: list[str]
    ts: list[float]

    @classmethod
    def of(cls: type[B], events: Sequence[Any]) -> B:
        """Events as a block: each column read from all events at once, in C."""
        return cls(*(list(map(field, events)) for field in _fields(cls)))

    @classmethod
    def of_rows(cls: type[B], rows: Sequence[tuple[Any, ...]]) -> B:
        """A block of events given as rows of values in field order."""
        return cls(*map(list, zip(*rows, strict=True)))

    def __len__(self) -> int:
        return len(self.event_id)

    def rows(self) -> zip[tuple[Any, ...]]:
        """Each event's values, in field order."""
        return zip(*astuple(self), strict=True)

    def split(self: B, keep: Sequence[bool]) -> tuple[B | None, B | None]:
        """(the events where ``keep`` is true, the others), None for a side with none."""
        if all(keep):
            return self, None
        if not any(keep):
            return None, self
        columns = astuple(self)
        drop = [not k for k in keep]
        return (type(self)(*(list(compress(column, keep)) for column in columns)),
                type(self)(*(list(compress(column, drop)) for column in columns)))


class Interactions(Block, tag="interaction"):
    platform: list[str]
    action: list[str]
    count: list[int | None]
    post_id: list[str | None]  # what a post gained (top posts)


class Posts(Block, tag="post_metrics"):
    platform: list[str]
    account: list[str]
    post_id: list[str]
    published_at: list[float | None]
    likes: list[int | None]
    comments: list[int | None]
    shares: list[int | None]
    saves: list[int | None]
    views: list[int | None]
    reach: list[int | None]
    impressions: list[int | None]
    clicks: list[int | None]

    def counters(self) -> zip[tuple[int | None, ...]]:
        """Each snapshot's counters, in ``POST_COUNTERS`` order (None where absent)."""
        return zip(*(getattr(self, name) for name in POST_COUNTERS), strict=True)


class Accounts(Block, tag="account_metrics"):
    platform: list[str]
    account: list[str]
    followers: list[int]


class Messages(Block, tag="message"):
    platform: list[str]
    account: list[str]
    thread_id: list[str]
    direction: list[str]


class Mentions(Block, tag="mention"):
    platform: list[str]
    sentiment: list[float | None]
    # What the service's scorer reads: only for mentions without the collector's score.
    text: list[str | None]
    lang: list[str | None]
    author: list[str | None]  # top authors by reach
    reach: list[int | None]
    author_followers: list[int | None]  # potential reach

    @classmethod
    def of(cls, events: Sequence[Any]) -> Mentions:
        block = super().of(events)
        if any(score is not None for score in block.sentiment):
            unscored = [score is None for score in block.sentiment]
            block.text = [t if u else None for t, u in zip(block.text, unscored, strict=True)]
            block.lang = [t if u else None for t, u in zip(block.lang, unscored, strict=True)]
        return block


class Visits(Block, tag="visit"):
    platform: list[str]
    bounced: list[bool]
    new_visitor: list[bool]
    duration_seconds: list[float | None]
    campaign: list[str | None]  # figures per declared campaign


class Conversions(Block, tag="conversion"):
    platform: list[str]
    goal: list[str]  # the event's ``kind`` (the name is the blocks' tag field)
    value: list[float | None]  # in the brand's currency (ingest refused any other)
    new_customer: list[bool]
    campaign: list[str | None]  # figures per declared campaign

    @classmethod
    def of(cls, events: Sequence[Any]) -> Conversions:
        return cls(list(map(_EVENT_ID, events)), list(map(_TS, events)),
                   list(map(_PLATFORM, events)), list(map(_KIND, events)),
                   list(map(_VALUE, events)), list(map(_NEW_CUSTOMER, events)),
                   list(map(_CAMPAIGN, events)))


_EVENT_ID, _TS, _PLATFORM, _KIND, _VALUE, _NEW_CUSTOMER, _CAMPAIGN = map(
    attrgetter, ("event_id", "ts", "platform", "kind", "value", "new_customer", "campaign"))


class Ads(Block, tag="ad_metrics"):
    platform: list[str]
    account: list[str]
    ad_id: list[str]
    spend: list[float | None]  # in the brand's currency (ingest refused any other)
    clicks: list[int | None]
    impressions: list[int | None]
    reach: list[int | None]
    campaign: list[str | None]  # figures per declared campaign

    def counters(self) -> zip[tuple[float | None, ...]]:
        """Each snapshot's totals, in ``AD_COUNTERS`` order (None where absent)."""
        return zip(*(getattr(self, name) for name in AD_COUNTERS), strict=True)


class VoiceCounts(Block, tag="voice"):
    """Fresh mentions of ``source`` in a mentions batch, for another brand's share of voice.

    ``event_id`` names the batch (source brand and offset of the mentions
    message), so a batch replayed after a crash counts once; ``ts`` is its
    newest mention's.
    """

    source: list[str]
    mentions: list[list[tuple[int, int]]]  # (grain start, mentions)


@functools.cache
def _fields(block: type[Block]) -> tuple[attrgetter, ...]:
    """Getters of a block's fields from events."""
    return tuple(attrgetter(name) for name in block.__struct_fields__)


# The block of each kind of event: its columns are the events' fields of the same names.
BLOCK_OF: dict[type[Event], type[Block]] = {
    Interaction: Interactions, PostMetrics: Posts, AccountMetrics: Accounts,
    Message: Messages, Mention: Mentions, Visit: Visits, Conversion: Conversions, AdMetrics: Ads,
}


AnyBlock = (Interactions | Posts | Accounts | Messages | Mentions | Visits | Conversions | Ads
            | VoiceCounts)


class Packed(Struct, array_like=True):
    """A family's events of the brands of one partition, from one input topic."""

    topic: str  # where the events came from (counted by topic)
    blocks: dict[str, list[AnyBlock]]  # by brand: one block per kind


decode = msgspec.msgpack.Decoder(Packed).decode
_encode = msgspec.msgpack.Encoder().encode


def encoded(packed: Packed, limit: int = MAX_MESSAGE_BYTES) -> list[bytes]:
    """``packed`` as one message, or as several when one would be over ``limit`` bytes.

    A single event over the limit leaves alone (the broker judges it).
    """
    body = _encode(packed)
    brands = list(packed.blocks)
    if len(body) <= limit or (len(brands) == 1 and sum(map(len, packed.blocks[brands[0]])) < 2):
        return [body]
    halves: tuple[dict[str, list[AnyBlock]], dict[str, list[AnyBlock]]] = ({}, {})
    if len(brands) > 1:
        for i, brand in enumerate(brands):
            halves[i * 2 // len(brands)][brand] = packed.blocks[brand]
    else:
        [(brand, blocks)] = packed.blocks.items()
        for block in blocks:
            for half, part in zip(halves, block.split([i < len(block) // 2
                                                       for i in range(len(block))]), strict=True):
                if part is not None:
                    half.setdefault(brand, []).append(part)
    return [body for half in halves for body in encoded(Packed(packed.topic, half), limit)]
