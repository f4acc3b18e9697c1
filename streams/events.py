"""Event schemas of the contract (section 2) and the validation of raw Kafka messages.

A message is one JSON event or a JSON array of events. ``parse_message`` turns its
bytes into accepted events (normalised dicts, the records the KPI agents get) and
rejections (each with a machine-readable reason), never letting one bad event of
a batch reject its neighbours.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, NotRequired

import orjson
from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    with_config,
)
from typing_extensions import TypedDict

from smm_pulse.config import normalize_brand

MAX_FUTURE_SECONDS = 600  # events more than 10 minutes ahead of the wall clock are rejected
POST_COUNTERS = ("likes", "comments", "shares", "saves", "views", "reach", "impressions", "clicks")


def _event_time(value: Any) -> float:
    """RFC 3339 string with an offset, or Unix seconds; returns Unix seconds."""
    if isinstance(value, bool):
        raise ValueError("must be an RFC 3339 string or Unix seconds, not a boolean")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError("must be a finite number of Unix seconds")
        return float(value)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an RFC 3339 timestamp") from None
        if "T" not in value.upper() or parsed.tzinfo is None:
            raise ValueError(f"{value!r} needs a date, a time and an offset (RFC 3339)")
        return parsed.timestamp()
    raise ValueError("must be an RFC 3339 string or Unix seconds")


def _lowercase(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


EventTime = Annotated[float, BeforeValidator(_event_time)]
Identifier = Annotated[str, Field(min_length=1, max_length=1024)]
Count = Annotated[int, Field(ge=0)]


# Strict: integers must be JSON integers, booleans are not numbers. Unknown extra
# fields are ignored so that collectors can send more than we use. Events
# validate to plain dicts (TypedDict): no model objects on the hot path.
_STRICT = ConfigDict(strict=True, extra="ignore")


@with_config(_STRICT)
class _Event(TypedDict):
    event_id: Annotated[str, Field(min_length=1, max_length=128)]
    ts: EventTime
    platform: Annotated[str, Field(min_length=1, max_length=64), BeforeValidator(_lowercase)]
    brand: Annotated[str, Field(min_length=1, max_length=64)]


class AccountMetrics(_Event):
    type: Literal["account_metrics"]
    account: Identifier
    followers: Count


class PostMetrics(_Event):
    type: Literal["post_metrics"]
    account: Identifier
    post_id: Identifier
    published_at: NotRequired[EventTime | None]
    likes: NotRequired[Count | None]
    comments: NotRequired[Count | None]
    shares: NotRequired[Count | None]
    saves: NotRequired[Count | None]
    views: NotRequired[Count | None]
    reach: NotRequired[Count | None]
    impressions: NotRequired[Count | None]
    clicks: NotRequired[Count | None]


class Interaction(_Event):
    type: Literal["interaction"]
    account: Identifier
    post_id: NotRequired[Identifier | None]
    action: Literal[
        "like", "unlike", "comment", "share", "save", "view", "click", "follow", "unfollow"
    ]
    count: NotRequired[Annotated[int, Field(ge=1)]]


class Message(_Event):
    type: Literal["message"]
    account: Identifier
    thread_id: Identifier
    direction: Literal["in", "out"]


class Mention(_Event):
    type: Literal["mention"]
    text: Annotated[str, Field(max_length=10_000)]
    author: NotRequired[str | None]
    author_followers: NotRequired[Count | None]
    url: NotRequired[str | None]
    lang: NotRequired[
        Annotated[str, Field(pattern=r"^[A-Za-z]{2}$"), BeforeValidator(_lowercase)] | None
    ]
    reach: NotRequired[Count | None]
    sentiment: NotRequired[Annotated[float, Field(ge=-1.0, le=1.0)] | None]


Event = Annotated[
    AccountMetrics | PostMetrics | Interaction | Message | Mention,
    Field(discriminator="type"),
]
EVENT_TYPES = ("account_metrics", "post_metrics", "interaction", "message", "mention")
_EVENT = TypeAdapter(Event)
_EVENTS = TypeAdapter(list[Event])
Record = dict[str, Any]  # a valid event, normalised, absent and null fields left out


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
    "unknown_type": "`type` is missing or not one of the five event types",
    "missing_field": "a required field is absent",
    "invalid_field": "a field has the wrong JSON type or breaks its rule (range, length, enum)",
    "undeclared_brand": "the brand is not declared in the configuration",
    "future_timestamp": "`ts` is more than 10 minutes ahead of the wall clock",
}


def _rejection_from(error: ValidationError, item: dict[str, Any], index: int | None) -> Rejection:
    first = error.errors(include_url=False)[0]
    kind = item.get("type") if isinstance(item.get("type"), str) else None
    event_type = kind if kind in EVENT_TYPES else "unknown"
    if first["type"] in ("union_tag_invalid", "union_tag_not_found"):
        got = item.get("type")
        return Rejection("unknown_type", f"unknown event type {got!r}", "unknown", index, "type")
    # loc starts with the union tag (the event type), then the field.
    field = ".".join(str(p) for p in first["loc"][1:]) or None
    reason = "missing_field" if first["type"] == "missing" else "invalid_field"
    return Rejection(reason, f"{field}: {first['msg']}", event_type, index, field)


def validate_event(
    item: Any,
    index: int | None,
    is_declared: Callable[[str], bool],
    now: float,
) -> Record | Rejection:
    """Validate one decoded JSON value against the contract."""
    if not isinstance(item, dict):
        return Rejection("not_an_object", f"expected an event object, got {type(item).__name__}",
                         "unknown", index)
    try:
        event = _EVENT.validate_python(item)
    except ValidationError as exc:
        return _rejection_from(exc, item, index)
    return _checked(event, index, is_declared, now)


def _checked(
    event: dict[str, Any], index: int | None, is_declared: Callable[[str], bool], now: float
) -> Record | Rejection:
    """The rules a schema cannot say: a declared brand, a time not in the future."""
    brand = normalize_brand(event["brand"])
    if not is_declared(brand):
        return Rejection("undeclared_brand", f"brand {event['brand']!r} is not declared",
                         event["type"], index, "brand")
    if event["ts"] > now + MAX_FUTURE_SECONDS:
        return Rejection("future_timestamp", f"ts is {event['ts'] - now:.0f} s in the future",
                         event["type"], index, "ts")
    event["brand"] = brand
    return {k: v for k, v in event.items() if v is not None} if None in event.values() else event


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    accepted: list[Record]
    rejected: list[Rejection]


def parse_message(raw: bytes, is_declared: Callable[[str], bool], now: float) -> ParsedMessage:
    """Split a message into valid events and rejections; an empty batch is no event."""
    try:
        decoded = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return ParsedMessage([], [Rejection("malformed_json", str(exc), "unknown")])
    if isinstance(decoded, list):
        try:  # the usual case, a batch without schema errors, in one call
            items = _EVENTS.validate_python(decoded)
        except ValidationError:  # find the bad items one by one
            results = [validate_event(item, i, is_declared, now) for i, item in enumerate(decoded)]
        else:
            results = [_checked(item, i, is_declared, now) for i, item in enumerate(items)]
    else:
        results = [validate_event(decoded, None, is_declared, now)]
    accepted: list[Record] = []
    rejected: list[Rejection] = []
    for result in results:
        (rejected if isinstance(result, Rejection) else accepted).append(result)
    return ParsedMessage(accepted, rejected)
