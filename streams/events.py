"""Event schemas of the contract (section 2) and the validation of raw Kafka messages.

A message is one JSON event or a JSON array of events. ``parse_message`` turns its
bytes into accepted events (normalised event structs, the records the KPI agents
get) and rejections (each with a machine-readable reason), never letting one bad
event of a batch reject its neighbours.

The schemas are msgspec structs: a message is decoded and checked against them
in one pass in C, as fast as orjson only decodes it. The rules a schema cannot
say (a declared brand, a time not in the future, normalised names) are checked
a message at a time where they can be (``_needs_each_event_checked``): a
collector's batch usually holds one brand and Unix times, and looking at each
event in Python cost more than decoding it (docs/benchmarks.md, "Columns in
internal messages").
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct, ValidationError

MAX_FUTURE_SECONDS = 600  # events more than 10 minutes ahead of the wall clock are rejected
POST_COUNTERS = ("likes", "comments", "shares", "saves", "views", "reach", "impressions", "clicks")
# The contract's platform ids; a configuration may declare more (``platforms:``).
KNOWN_PLATFORMS = frozenset(
    ("vk", "telegram", "instagram", "youtube", "tiktok", "x", "facebook", "linkedin", "ok", "dzen"))

# Bounds (the contract's section 2, "Bounds"). A counter is at most a trillion, far above
# any platform's real figure: the service sums counters and keeps them as signed 64-bit
# integers, and ten million maximal events would still not overflow a sum.
MAX_COUNT = 10**12
# Event times lie in 2000-01-01 .. 2100-01-01 (UTC), as Unix seconds.
MIN_TIME, MAX_TIME = 946_684_800.0, 4_102_444_800.0

def normalize_brand(name: str) -> str:
    """Brands are compared after Unicode NFC normalisation (the contract's section 2)."""
    return unicodedata.normalize("NFC", name)


Identifier = Annotated[str, Meta(min_length=1, max_length=1024)]
Count = Annotated[int, Meta(ge=0, le=MAX_COUNT)]
# RFC 3339 with an offset, or Unix seconds: a string is parsed after decoding (``_unix``),
# so an accepted event always holds Unix seconds.
EventTime = Annotated[float, Meta(ge=MIN_TIME, le=MAX_TIME)] | str
# Business strings (campaign, ad account and ad ids) and amounts of money.
Label = Annotated[str, Meta(min_length=1, max_length=128)]
Amount = Annotated[float, Meta(ge=0, le=MAX_COUNT)]
# ISO 4217: three uppercase letters (\\Z, not $, refuses a final newline).
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}\Z")]
DEFAULT_CURRENCY = "USD"
AD_COUNTERS = ("spend", "clicks", "impressions", "reach")  # an ad snapshot's totals


# Strict (msgspec's default): integers must be JSON integers, booleans are not
# numbers, and a JSON integer is a valid float. Unknown extra fields are ignored
# so that collectors can send more than we use; an absent optional field is None.
# Required fields come before optional ones (msgspec's rule for a struct's fields).
# gc=False: events hold only strings and numbers, never a cycle, and the garbage
# collector need not track the tens of thousands a poll holds.
# A brand's or platform's name: it becomes a label value of every series and a state key.
NAME_MAX_CHARS = 64


class _Event(Struct, tag_field="type", omit_defaults=True, gc=False):
    event_id: Annotated[str, Meta(min_length=1, max_length=128)]
    ts: EventTime
    # After decoding the platform is lowercased and the brand NFC-normalised.
    platform: Annotated[str, Meta(min_length=1, max_length=NAME_MAX_CHARS)]
    brand: Annotated[str, Meta(min_length=1, max_length=NAME_MAX_CHARS)]


class AccountMetrics(_Event, tag="account_metrics"):
    account: Identifier
    followers: Count


class PostMetrics(_Event, tag="post_metrics"):
    account: Identifier
    post_id: Identifier
    published_at: EventTime | None = None
    likes: Count | None = None
    comments: Count | None = None
    shares: Count | None = None
    saves: Count | None = None
    views: Count | None = None
    reach: Count | None = None
    impressions: Count | None = None
    clicks: Count | None = None


class Interaction(_Event, tag="interaction"):
    account: Identifier
    action: Literal[
        "like", "unlike", "comment", "share", "save", "view", "click", "follow", "unfollow"
    ]
    post_id: Identifier | None = None
    count: Annotated[int, Meta(ge=1, le=MAX_COUNT)] | None = None


class Message(_Event, tag="message"):
    account: Identifier
    thread_id: Identifier
    direction: Literal["in", "out"]


class Mention(_Event, tag="mention"):
    text: Annotated[str, Meta(max_length=10_000)]
    author: str | None = None
    author_followers: Count | None = None
    url: str | None = None
    # \\Z, not $: "$" also matches before a final newline ("en\\n")
    lang: Annotated[str, Meta(pattern=r"^[A-Za-z]{2}\Z")] | None = None  # lowercased after
    reach: Count | None = None
    sentiment: Annotated[float, Meta(ge=-1.0, le=1.0)] | None = None


class Visit(_Event, tag="visit"):
    """A website session that came from ``platform`` (web analytics)."""

    campaign: Label | None = None
    bounced: bool = False
    new_visitor: bool = False
    duration_seconds: Annotated[float, Meta(ge=0, le=MAX_COUNT)] | None = None
    pages: Annotated[int, Meta(ge=1, le=MAX_COUNT)] | None = None


class Conversion(_Event, tag="conversion"):
    """A lead, signup, purchase or other goal reached by a visitor from ``platform`` (CRM)."""

    kind: Literal["lead", "signup", "purchase", "other"]
    value: Amount | None = None
    currency: Currency | None = None  # the brand's currency when absent
    campaign: Label | None = None
    new_customer: bool = False


class AdMetrics(_Event, tag="ad_metrics"):
    """Cumulative totals of one ad as of ``ts`` (an ad account's report)."""

    account: Label
    ad_id: Label
    campaign: Label | None = None
    spend: Amount | None = None
    currency: Currency | None = None  # the brand's currency when absent
    clicks: Count | None = None
    impressions: Count | None = None
    reach: Count | None = None


Event = (AccountMetrics | PostMetrics | Interaction | Message | Mention | Visit | Conversion
         | AdMetrics)
# Each kind of event by the ``type`` collectors send.
TYPE_NAME: dict[type, str] = {kind: kind.__struct_config__.tag  # type: ignore[misc]
                              for kind in (AccountMetrics, PostMetrics, Interaction, Message,
                                           Mention, Visit, Conversion, AdMetrics)}
# The kinds that may carry a ``currency``: it must be their brand's.
PRICED = (Conversion, AdMetrics)
EVENT_TYPES = tuple(TYPE_NAME.values())
_MESSAGE = msgspec.json.Decoder(list[Event] | Event)
_ITEMS = msgspec.json.Decoder(list[msgspec.Raw])
_EVENT = msgspec.json.Decoder(Event)

# Field getters for whole lists of events at a time (``map`` runs them in C).
EVENT_ID, TS, BRAND, PLATFORM = (attrgetter(name)
                                 for name in ("event_id", "ts", "brand", "platform"))
_PUBLISHED_AT, _LANG = attrgetter("published_at"), attrgetter("lang")


def by_kind(events: list[Event]) -> dict[type, list[Any]]:
    """Events grouped by their kind (struct class), each group in order; the kinds in
    ``TYPE_NAME``'s order."""
    kinds = set(map(type, events))
    if len(kinds) == 1:
        return {kinds.pop(): events}
    groups: dict[type, list[Any]] = {kind: [] for kind in TYPE_NAME if kind in kinds}
    for event in events:
        groups[type(event)].append(event)
    return groups


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why one event (or a whole message) was refused; goes to the dead-letter topic."""

    reason: str  # machine-readable code, see REASONS
    detail: str  # for people
    event_type: str  # one of EVENT_TYPES, or "unknown"
    index: int | None = None  # position in the batch, None for a single event or whole message
    field: str | None = None


REASONS = {
    "malformed_json": "the message is not UTF-8 JSON (NaN and Infinity are not JSON)",
    "not_an_object": "the message or a batch item is not a JSON object",
    "unknown_type": "`type` is missing or not one of the eight event types",
    "missing_field": "a required field is absent",
    "invalid_field": "a field has the wrong JSON type or breaks its rule (range, length, enum)",
    "undeclared_brand": "the brand is not declared in the configuration",
    "future_timestamp": "`ts` is more than 10 minutes ahead of the wall clock",
    "undeclared_platform": "`platform` is neither one of the contract's ids nor declared in "
                           "the configuration",
    "currency_mismatch": "`currency` is not the brand's configured currency (amounts are "
                         "never converted)",
    "too_deep": "the JSON nests deeper than the decoder accepts (500 levels always pass, "
                "about 950 do not; an event in a batch is at depth 2)",
    "internal_error": "the service failed while handling the event; the detail holds the error",
    "unmapped_webhook": "a platform's webhook call that maps to no event of the contract "
                        "(docs/webhooks.md); the call's body is kept",
}

# msgspec's messages: "Object missing required field `account`", or a problem
# followed by " - at `$.count`" (the path of one item: ``_validated`` checks one).
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]+)`")
_AT = re.compile(r" - at `\$\.?(?P<field>[^`]*)`$")


class _InvalidTime(ValueError):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.field = field


def _unix(value: float | str, field: str) -> float:
    """Unix seconds from Unix seconds or an RFC 3339 string with an offset."""
    if not isinstance(value, str):
        return value
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _InvalidTime(field, f"{value!r} is not an RFC 3339 timestamp") from None
    if "T" not in value.upper() or parsed.tzinfo is None:
        raise _InvalidTime(field, f"{value!r} needs a date, a time and an offset (RFC 3339)")
    seconds = parsed.timestamp()
    if not MIN_TIME <= seconds <= MAX_TIME:
        raise _InvalidTime(field, f"{value!r} is not between the years 2000 and 2100")
    return seconds


def _rejection_from(error: ValidationError, item: dict[str, Any], index: int | None) -> Rejection:
    problem = str(error)
    kind = item.get("type")
    event_type = kind if kind in EVENT_TYPES else "unknown"
    missing = _MISSING.match(problem)
    at = _AT.search(problem)
    field = missing["field"] if missing else at["field"] if at else None
    if field == "type":
        return Rejection("unknown_type", f"unknown event type {kind!r}", "unknown", index, "type")
    reason = "missing_field" if missing else "invalid_field"
    detail = problem if missing or not at else f"{field}: {problem[:at.start()]}"
    return Rejection(reason, detail, event_type, index, field)


def _validated(item: bytes, index: int | None) -> Event | Rejection:
    """One item's JSON against the schemas (the items of a batch that failed as a whole):
    decoded alone, so an odd neighbour (a number past a double's range, deep nesting)
    rejects only itself."""
    try:
        return _EVENT.decode(item)
    except ValidationError as exc:
        error = exc
    except (msgspec.DecodeError, RecursionError):
        return Rejection("too_deep", "the JSON nests too deeply", "unknown", index)
    try:
        value = msgspec.json.decode(item)
    except (msgspec.DecodeError, RecursionError):
        return Rejection("too_deep", "the JSON nests too deeply", "unknown", index)
    if not isinstance(value, dict):
        return Rejection("not_an_object", f"expected an event object, got {type(value).__name__}",
                         "unknown", index)
    return _rejection_from(error, value, index)


def _checked(
    event: Event, index: int | None, declared: Declared, now: float
) -> Event | Rejection:
    """The rules a schema cannot say (a declared brand, a time not in the future), normalised."""
    try:
        ts = _unix(event.ts, "ts")
        if isinstance(event, PostMetrics) and event.published_at is not None:
            event.published_at = _unix(event.published_at, "published_at")
    except _InvalidTime as exc:
        return Rejection("invalid_field", f"{exc.field}: {exc}", TYPE_NAME[type(event)], index,
                         exc.field)
    brand = normalize_brand(event.brand)
    if not declared.brand(brand):
        return Rejection("undeclared_brand", f"brand {event.brand!r} is not declared",
                         TYPE_NAME[type(event)], index, "brand")
    platform = event.platform.lower()
    if not declared.platform(platform):
        return Rejection("undeclared_platform", f"platform {event.platform!r} is not declared",
                         TYPE_NAME[type(event)], index, "platform")
    if ts > now + MAX_FUTURE_SECONDS:
        return Rejection("future_timestamp", f"ts is {ts - now:.0f} s in the future",
                         TYPE_NAME[type(event)], index, "ts")
    if isinstance(event, PRICED) and event.currency is not None \
            and event.currency != declared.currency(brand):
        return Rejection("currency_mismatch", f"currency {event.currency!r} is not the brand's "
                         f"{declared.currency(brand)!r}", TYPE_NAME[type(event)], index,
                         "currency")
    event.ts = ts
    event.brand = brand
    event.platform = platform
    if isinstance(event, Mention) and event.lang is not None:
        event.lang = event.lang.lower()
    return event


def _needs_each_event_checked(events: list[Event], declared: Declared, now: float) -> bool:
    """False when every event of a decoded message already meets ``_checked``'s rules.

    Each test looks at the distinct values of a field, which a message has few
    of, and the per-event passes run in C.
    """
    if any(normalize_brand(b) != b or not declared.brand(b) for b in set(map(BRAND, events))):
        return True
    if any(p != p.lower() or not declared.platform(p) for p in set(map(PLATFORM, events))):
        return True
    try:  # raises on a mix of strings and numbers; a string (RFC 3339) needs parsing
        latest = max(map(TS, events))
    except TypeError:
        return True
    if isinstance(latest, str) or latest > now + MAX_FUTURE_SECONDS:
        return True
    kinds = set(map(type, events))
    if PostMetrics not in kinds and Mention not in kinds and kinds.isdisjoint(PRICED):
        return False
    groups = by_kind(events)
    if any(event.currency is not None for kind in PRICED for event in groups.get(kind, ())):
        return True  # rare: collectors usually leave the brand's currency out
    if PostMetrics in groups and str in set(map(type, map(_PUBLISHED_AT, groups[PostMetrics]))):
        return True
    return Mention in groups and any(lang is not None and lang != lang.lower()
                                     for lang in set(map(_LANG, groups[Mention])))


@dataclass(frozen=True, slots=True)
class Declared:
    """What the configuration declares: a brand or platform is accepted when these say so."""

    brand: Callable[[str], bool]
    platform: Callable[[str], bool] = KNOWN_PLATFORMS.__contains__
    # A declared brand's currency: amounts in another one are refused.
    currency: Callable[[str], str] = lambda _brand: DEFAULT_CURRENCY


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    accepted: list[Event]
    rejected: list[Rejection]


def parse_message(raw: bytes, declared: Declared, now: float) -> ParsedMessage:
    """Split a message into valid events and rejections; an empty batch is no event.

    Raises nothing for any input: what cannot be decoded is a rejection too.
    """
    try:  # the usual case, a message without schema errors, in one call
        decoded = _MESSAGE.decode(raw)
    except ValidationError:  # find the bad items one by one, each from its own bytes
        try:
            items = [(i, _validated(bytes(item), i)) for i, item in enumerate(_ITEMS.decode(raw))]
        except ValidationError:  # not a batch: one value
            items = [(None, _validated(raw, None))]
        except msgspec.DecodeError as exc:  # malformed after the first schema error
            return _malformed(exc)
        except RecursionError:
            return _too_deep()
    except msgspec.DecodeError as exc:
        return _malformed(exc)
    except RecursionError:  # skipping a deeply nested unknown field
        return _too_deep()
    else:
        events = decoded if isinstance(decoded, list) else [decoded]
        if not events or not _needs_each_event_checked(events, declared, now):
            return ParsedMessage(events, [])
        items = _numbered(decoded)
    accepted: list[Event] = []
    rejected: list[Rejection] = []
    for index, item in items:
        result = item if isinstance(item, Rejection) else _checked(item, index, declared, now)
        (rejected if isinstance(result, Rejection) else accepted).append(result)
    return ParsedMessage(accepted, rejected)


def _numbered(value: Any) -> list[tuple[int | None, Any]]:
    """A batch's items with their positions; a single event has none."""
    return list(enumerate(value)) if isinstance(value, list) else [(None, value)]


def _malformed(error: ValueError) -> ParsedMessage:
    return ParsedMessage([], [Rejection("malformed_json", str(error), "unknown")])


def _too_deep() -> ParsedMessage:
    return ParsedMessage([], [Rejection("too_deep", "the JSON nests too deeply", "unknown")])


def item_bytes(raw: bytes) -> list[bytes] | None:
    """Each item's own bytes of a JSON array message (None for anything else).

    A rejected item of a batch goes to the dead-letter topic alone, not with
    its whole message: one bad message of a thousand items would otherwise
    write a thousand copies of itself.
    """
    try:
        return [bytes(item) for item in _ITEMS.decode(raw)]
    except (msgspec.DecodeError, RecursionError):
        return None
