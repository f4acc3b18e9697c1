"""What each accepted event adds to the counters, and when (contract section 2).

Pure functions: the agents keep the state and call these to decide what a
snapshot or an interaction contributes.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from smm_pulse.kpi.formulas import sentiment_label
from smm_pulse.windows import Window
from streams.events import POST_COUNTERS

# interaction action -> (counter, sign)
ACTION_COUNTER: dict[str, tuple[str, int]] = {
    "like": ("likes", 1),
    "unlike": ("likes", -1),
    "comment": ("comments", 1),
    "share": ("shares", 1),
    "save": ("saves", 1),
    "view": ("views", 1),
    "click": ("clicks", 1),
    "follow": ("follows", 1),
    "unfollow": ("unfollows", 1),
}


@dataclass(slots=True)
class Contribution:
    """Counter deltas that count at event time ``ts``."""
    # Not frozen: one per event, and a frozen dataclass costs ~4x as much to build.

    ts: float
    deltas: Mapping[str, float]


def interaction_contribution(event: Mapping[str, Any]) -> Contribution:
    counter, sign = ACTION_COUNTER[event["action"]]
    return Contribution(event["ts"], {counter: sign * event.get("count", 1)})


@dataclass(slots=True)
class PostState:
    """The last accepted snapshot of one post: its time and counters.

    The counters are never changed in place (a snapshot makes new ones), so
    the JSON form shares them with the state, and stored states with each other.
    """
    # Not frozen: one per post snapshot (see Contribution).

    ts: float
    counters: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {"ts": self.ts, "c": self.counters}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PostState:
        return cls(data["ts"], data["c"])


def apply_snapshot(
    kept: PostState | None, snapshot: Mapping[str, Any], horizon: float
) -> tuple[PostState, Contribution | None]:
    """Fold a ``post_metrics`` snapshot into the kept state of its post.

    ``horizon`` is now minus the longest window: a first snapshot published
    before it only sets the baseline. An older or equal ``ts`` changes nothing,
    so replaying snapshots is idempotent.
    """
    if kept is None:
        counters, deltas = _post_counters(snapshot, {})  # from nothing: deltas == counters
        published = snapshot.get("published_at")
        state = PostState(snapshot["ts"], counters)
        if published is not None and published < horizon:
            return state, None
        at = published if published is not None else snapshot["ts"]
        return state, Contribution(at, deltas)
    if snapshot["ts"] <= kept.ts:
        return kept, None
    counters, deltas = _post_counters(snapshot, kept.counters)
    return PostState(snapshot["ts"], counters), Contribution(snapshot["ts"], deltas)


def _post_counters(snapshot: Mapping[str, Any],
                   kept: Mapping[str, int]) -> tuple[dict[str, int], dict[str, int]]:
    """A snapshot's counters and their changes from ``kept`` (both without zeros).

    An absent counter is as it was kept; absent means 0, so a post's state holds
    only the counters its collector reports.
    """
    counters, deltas = {}, {}
    for name in POST_COUNTERS:
        old = kept.get(name, 0)
        value = snapshot.get(name)
        if value is None:
            value = old
        if value:
            counters[name] = value
        if value != old:
            deltas[name] = value - old
    return counters, deltas


def record_followers(
    history: list[list[float]], ts: float, followers: int, horizon: float
) -> list[list[float]]:
    """Insert an account snapshot into its time-ordered history.

    Keeps every snapshot after ``horizon`` and the last one at or before it (the
    start value of the longest window). A repeated ``ts`` keeps the first value.
    Binary searches: a history holds every snapshot of the longest window.
    """
    at = bisect.bisect_left(history, ts, key=_snapshot_time)
    if at < len(history) and history[at][0] == ts:
        return history
    merged = [*history[:at], [ts, followers], *history[at:]]
    up_to_horizon = bisect.bisect_right(merged, horizon, key=_snapshot_time)
    return merged[max(up_to_horizon - 1, 0):]


def _snapshot_time(point: list[float]) -> float:
    return point[0]


def mention_contributions(
    events: Sequence[Mapping[str, Any]],
    score_texts: Callable[[list[tuple[str, str | None]]], list[float]],
) -> list[Contribution]:
    """Each mention counts toward volume and sentiment.

    The collector's ``sentiment`` wins; the other mentions' (text, lang) pairs
    go to ``score_texts`` (the service's scorer) in one call, as a model reads
    them in one pass.
    """
    unscored = [(e["text"], e.get("lang")) for e in events if e.get("sentiment") is None]
    service_scores = iter(score_texts(unscored) if unscored else ())
    contributions = []
    for event in events:
        score = event.get("sentiment")
        if score is None:
            score = next(service_scores)
        contributions.append(Contribution(event["ts"], {
            "mentions": 1, "scored": 1, "sentiment_sum": score, sentiment_label(score): 1}))
    return contributions


def followers_at(history: list[list[float]], start: float, now: float) -> tuple[int, int] | None:
    """(followers at the start of a window, at its end) for one account.

    The start is the last snapshot at or before ``start`` or, if none, the first
    inside the window; None when the account has no snapshot up to ``now``.
    """
    current = bisect.bisect_right(history, now, key=_snapshot_time)  # snapshots up to now
    if not current:
        return None
    before = min(bisect.bisect_right(history, start, key=_snapshot_time), current)
    first = history[before - 1] if before else history[0]
    return int(first[1]), int(history[current - 1][1])


@dataclass(frozen=True, slots=True)
class FollowerTotals:
    """Followers summed over a (brand, platform)'s accounts: latest, and at each window start."""

    latest: int
    at_start: Mapping[str, int]  # window name -> followers at the start of that window


def follower_totals(
    histories: Iterable[list[list[float]]], now: float, windows: Iterable[Window]
) -> FollowerTotals | None:
    """None when no account has a snapshot up to now (followers unknown)."""
    windows = tuple(windows)
    latest, at_start, known = 0, dict.fromkeys((w.name for w in windows), 0), False
    for history in histories:
        now_points = followers_at(history, now, now)
        if now_points is None:  # no snapshot up to now: left out of both sums
            continue
        known, latest = True, latest + now_points[1]
        for window in windows:
            window_points = followers_at(history, now - window.seconds, now)
            assert window_points is not None  # the same snapshots up to now
            at_start[window.name] += window_points[0]
    return FollowerTotals(latest, at_start) if known else None


def first_replies(
    ins: Iterable[float], outs: Iterable[float], now: float
) -> list[tuple[float, float | None]]:
    """(ts, seconds to the first reply, or None) of each `in` message with ts up to ``now``.

    The reply is the first `out` of the same thread with ts >= the `in`'s (and <= now).
    """
    replies = sorted(ts for ts in outs if ts <= now)
    found: list[tuple[float, float | None]] = []
    for ts in ins:
        if ts <= now:
            first = bisect.bisect_left(replies, ts)
            found.append((ts, replies[first] - ts if first < len(replies) else None))
    return found
