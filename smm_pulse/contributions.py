"""What each accepted event adds to the counters, and when (docs/contract.md, section 2).

Pure functions: the agents keep the state and call these to decide what a
snapshot, an interaction or a mention contributes. ``GrainSums`` adds up one
batch's contributions before they reach the window buckets.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import compress
from operator import add, itemgetter, sub

from smm_pulse.kpi.formulas import sentiment_label
from smm_pulse.streams.events import AD_COUNTERS, POST_COUNTERS
from smm_pulse.streams.internal import Conversions, Interactions, Mentions, Visits
from smm_pulse.windows import Window

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


def interaction_delta(action: str, count: int | None) -> tuple[str, int]:
    """(counter, amount) an interaction adds: ``count`` (default 1), negative for unlike."""
    counter, sign = ACTION_COUNTER[action]
    return counter, sign * (count or 1)


def mention_scores(
    mentions: Mentions,
    score_texts: Callable[[list[tuple[str, str | None]]], list[float]],
) -> list[float]:
    """Each mention's sentiment score.

    The collector's ``sentiment`` wins; the other mentions' (text, lang) pairs
    go to ``score_texts`` (the service's scorer) in one call, as a model reads
    them in one pass.
    """
    unscored = [(text, lang) for text, lang, score
                in zip(mentions.text, mentions.lang, mentions.sentiment, strict=True)
                if score is None]
    service_scores = iter(score_texts(unscored) if unscored else ())
    return [score if score is not None else next(service_scores)
            for score in mentions.sentiment]


Cell = tuple[str, int, str]  # (platform, grain start, counter)


def author_sums(mentions: Mentions, scores: Sequence[float], grain: int
                ) -> dict[int, dict[tuple[str, str], list[float]]]:
    """Per grain start, [reach, mentions, sentiment sum] per (platform, author) of a
    batch's mentions that name one (top authors); a mention without reach weighs 0."""
    found: dict[int, dict[tuple[str, str], list[float]]] = {}
    if not any(mentions.author):
        return found
    grains = float(grain)
    for platform, grain_index, author, reach, score in zip(
            mentions.platform, map(grains.__rfloordiv__, mentions.ts), mentions.author,
            mentions.reach, scores, strict=True):
        if author is None:
            continue
        start = int(grain_index) * grain
        authors = found.get(start)
        if authors is None:
            authors = found[start] = {}
        kept = authors.get((platform, author))
        if kept is None:
            authors[platform, author] = [reach or 0, 1, score]
        else:
            kept[0] += reach or 0
            kept[1] += 1
            kept[2] += score
    return found

# What a post's ranking keeps of its gains: interactions as the KPI formulas count them,
# and views.
RANKED_COUNTERS = tuple(c for c in POST_COUNTERS
                        if c in ("likes", "comments", "shares", "saves", "views"))
_RANKED = tuple(counter in RANKED_COUNTERS for counter in POST_COUNTERS)


RankedGains = tuple[float, ...]  # a post's gains of the RANKED_COUNTERS, in their order
# grain start -> post key (``post_key``) -> the post's gains in that grain
PostGains = Mapping[int, Mapping[str, RankedGains]]


def post_key(platform: str, post_id: str) -> str:
    """A post's name among a brand's posts: its platform, a space, its id. Platform ids
    hold no space (the contract's and the configuration's patterns): the first one splits
    it (``post_of``)."""
    return f"{platform} {post_id}"


def post_of(key: str) -> tuple[str, str]:
    """(platform, post id) of a ``post_key``."""
    platform, post_id = key.split(" ", 1)
    return platform, post_id


class PostSums:
    """One brand batch's gains per post (top posts): per grain start, each post's
    ``RankedGains`` from its snapshots and the interactions naming it, by ``post_key``."""

    def __init__(self, grain: int) -> None:
        self.grain = grain
        self.posts: dict[int, dict[str, RankedGains]] = {}

    def add_changes(self, snapshots: Iterable[tuple[str, str, float, Sequence[float]]]
                    ) -> None:
        """Snapshots' (platform, post id, time, changes per counter in POST_COUNTERS order:
        ``apply_snapshot``'s). One loop, no call per snapshot: this runs for every one."""
        grain = self.grain
        by_grain = self.posts
        for platform, post_id, ts, changes in snapshots:
            gains = tuple(compress(changes, _RANKED))
            if not any(gains):
                continue
            start = int(ts // grain) * grain
            posts = by_grain.get(start)
            if posts is None:
                posts = by_grain[start] = {}
            key = f"{platform} {post_id}"  # post_key, inline
            kept = posts.get(key)
            posts[key] = gains if kept is None else tuple(map(add, kept, gains))

    def add_interactions(self, interactions: Interactions) -> None:
        """Interactions that name a post: counted per (post, grain, action, count) in C
        first, the ranked counters only."""
        if not any(interactions.post_id):
            return
        grain = float(self.grain)
        named = [post_id is not None for post_id in interactions.post_id]
        alike = Counter(zip(*(compress(column, named) for column in (
            interactions.platform, interactions.post_id,
            map(grain.__rfloordiv__, interactions.ts), interactions.action,
            interactions.count)), strict=True))
        for (platform, post_id, grain_index, action, count), times in alike.items():
            counter, amount = interaction_delta(action, count)
            if counter in RANKED_COUNTERS:
                gains = tuple(amount * times if name == counter else 0
                              for name in RANKED_COUNTERS)
                start = int(grain_index) * self.grain
                posts = self.posts.setdefault(start, {})
                key = post_key(platform, post_id)
                kept = posts.get(key)
                posts[key] = gains if kept is None else tuple(map(add, kept, gains))


class GrainSums:
    """One brand batch's contributions summed per cell: (platform, grain start, counter).

    The grain divides the bucket size of every configured window
    (``smm_pulse.windows.grain_seconds``), so a sum falls in the same bucket
    as each contribution in it: adding the sums to the buckets gives what
    adding the contributions one by one would. A cell is a flat key, not a
    dictionary per grain: a batch has about as many cells as events when they
    spread over a minute, and each costs one tuple.
    """

    def __init__(self, grain: int) -> None:
        self.grain = grain
        self.cells: dict[Cell, float] = {}

    def add(self, platform: str, ts: float, deltas: Mapping[str, float]) -> None:
        start = int(ts // self.grain) * self.grain
        cells = self.cells
        for counter, amount in deltas.items():
            cell = (platform, start, counter)
            cells[cell] = cells.get(cell, 0) + amount

    def add_post_changes(self, platform: str, ts: float, changes: Sequence[float],
                         counters: Sequence[str] = POST_COUNTERS) -> None:
        """A snapshot's changes per counter (``apply_snapshot``), those that are not 0;
        ``counters`` names them (an ad snapshot's: ``AD_CELLS``)."""
        start = int(ts // self.grain) * self.grain
        cells = self.cells
        # compress and filter pick the counters that changed, in C
        for counter, change in zip(compress(counters, changes), filter(None, changes),
                                   strict=True):
            cell = (platform, start, counter)
            cells[cell] = cells.get(cell, 0) + change

    def add_mentions(self, mentions: Mentions, scores: Sequence[float]) -> None:
        """Each mention counts 1 toward volume and, with its score (``mention_scores``),
        toward sentiment: 1 scored, 1 to its label and its score to the sum; its
        ``author_followers`` toward ``potential_reach``. Counted per (platform, grain, label)
        in C first; only the sums are added mention by mention."""
        grain = float(self.grain)
        grains = list(map(grain.__rfloordiv__, mentions.ts))
        cells = self.cells
        for (platform, grain_index, label), times in Counter(zip(
                mentions.platform, grains, map(sentiment_label, scores), strict=True)).items():
            start = int(grain_index) * self.grain
            for counter in ("mentions", "scored", label):
                cell = (platform, start, counter)
                cells[cell] = cells.get(cell, 0) + times
        for platform, grain_index, score in zip(mentions.platform, grains, scores, strict=True):
            cell = (platform, int(grain_index) * self.grain, "sentiment_sum")
            cells[cell] = cells.get(cell, 0) + score
        if any(mentions.author_followers):  # most mentions come without it: one pass in C
            for platform, grain_index, followers in zip(
                    mentions.platform, grains, mentions.author_followers, strict=True):
                if followers:
                    cell = (platform, int(grain_index) * self.grain, "potential_reach")
                    cells[cell] = cells.get(cell, 0) + followers

    def add_interactions(self, interactions: Interactions) -> None:
        """Interactions are first counted by (platform, grain, action, count), in C:
        a batch holds many alike."""
        grain = float(self.grain)  # float.__rfloordiv__(ts) is ts // grain
        alike = Counter(zip(interactions.platform, map(grain.__rfloordiv__, interactions.ts),
                            interactions.action, interactions.count, strict=True))
        cells = self.cells
        for (platform, grain_index, action, count), times in alike.items():
            counter, amount = interaction_delta(action, count)
            cell = (platform, int(grain_index) * self.grain, counter)
            cells[cell] = cells.get(cell, 0) + amount * times


    def add_visits(self, visits: Visits, under: Sequence[str | None] | None = None) -> None:
        """Each visit counts 1 toward ``visits``, and toward ``bounced`` and ``new_visitors``
        when flagged; one with a duration adds it to ``duration_sum`` and 1 to ``timed``.

        ``under``: what each visit counts under in the platform's place (its declared
        campaign: ``declared_campaigns``), None to leave it out; by default its platform.
        """
        for place, ts, bounced, new_visitor, duration in zip(
                visits.platform if under is None else under, visits.ts, visits.bounced,
                visits.new_visitor, visits.duration_seconds, strict=True):
            if place is not None:
                self.add(place, ts, visit_delta(bounced, new_visitor, duration))

    def add_conversions(self, conversions: Conversions,
                        under: Sequence[str | None] | None = None) -> None:
        """Each conversion counts 1 toward its kind (``CONVERSION_CELL``), ``value`` toward
        ``revenue`` and, for a new customer, 1 toward ``new_customers``; ``under`` as in
        ``add_visits``."""
        for place, ts, kind, value, new_customer in zip(
                conversions.platform if under is None else under, conversions.ts,
                conversions.goal, conversions.value, conversions.new_customer, strict=True):
            if place is not None:
                self.add(place, ts, conversion_delta(kind, value, new_customer))


# The window counters of an ad snapshot's totals (``AD_COUNTERS`` order): the business
# family's buckets keep them apart from a post's clicks, impressions and reach.
AD_CELLS = tuple(f"ad_{name}" for name in AD_COUNTERS)
# The window counter of each conversion kind.
CONVERSION_CELL = {kind: f"conversions_{kind}" for kind in ("lead", "signup", "purchase",
                                                           "other")}


def declared_campaigns(campaigns: Sequence[str | None], declared: Collection[str]
                       ) -> list[str | None]:
    """Each event's campaign where the brand declares it, else None: other campaigns count
    in the brand's figures only (the ``campaign`` label stays bounded)."""
    return [campaign if campaign in declared else None for campaign in campaigns]


def visit_delta(bounced: bool, new_visitor: bool, duration: float | None) -> dict[str, float]:
    """What one visit adds to the window counters."""
    delta: dict[str, float] = {"visits": 1}
    if bounced:
        delta["bounced"] = 1
    if new_visitor:
        delta["new_visitors"] = 1
    if duration is not None:
        delta["duration_sum"] = duration
        delta["timed"] = 1
    return delta


def conversion_delta(kind: str, value: float | None, new_customer: bool) -> dict[str, float]:
    """What one conversion adds to the window counters."""
    delta: dict[str, float] = {CONVERSION_CELL[kind]: 1}
    if value:
        delta["revenue"] = value
    if new_customer:
        delta["new_customers"] = 1
    return delta


# A post's last accepted snapshot: (ts, *counters in POST_COUNTERS order); stored as
# JSON (a list once restored). A tuple of numbers, which the garbage collector stops
# tracking: a new one per snapshot, and lists of them filled its middle collections.
PostState = Sequence[float]


def apply_snapshot(
    kept: PostState | None,
    ts: float,
    published_at: float | None,
    values: Sequence[int | None],
    horizon: float,
) -> tuple[PostState, float | None, list[int]]:
    """Fold a ``post_metrics`` snapshot into the kept state of its post.

    ``values`` are the snapshot's counters in ``POST_COUNTERS`` order, None
    where absent: an absent counter keeps its kept value (0 for a first
    snapshot). Returns the post's new state, the time its contribution counts
    at, and the contribution, a change per counter (which may be negative:
    unlikes, deleted comments); the time is None when it contributes nothing.

    The first snapshot contributes its totals at ``published_at`` when given,
    or only sets the baseline if that is before ``horizon`` (now minus the
    longest window). An older or equal ``ts`` changes nothing, so replaying
    snapshots is idempotent.
    """
    if kept is None:
        counters = [value or 0 for value in values]
        if published_at is not None and published_at < horizon:
            return (ts, *counters), None, []
        return (ts, *counters), ts if published_at is None else published_at, counters
    if ts <= kept[0]:
        return kept, None, []
    old = kept[1:]
    counters = [was if value is None else value for value, was in zip(values, old, strict=True)]
    return (ts, *counters), ts, list(map(sub, counters, old))


def record_followers(
    history: list[list[float]], ts: float, followers: int, horizon: float
) -> None:
    """Insert an account snapshot into its time-ordered history, in place.

    Keeps every snapshot after ``horizon`` and the last one at or before it (the
    start value of the longest window). A repeated ``ts`` keeps the first value.
    In place and by binary search: a history holds every snapshot of the longest
    window, and a new list per snapshot made each one cost as much as the whole
    history (an account snapshotted every few seconds has thousands a day).
    """
    at = bisect.bisect_left(history, ts, key=_snapshot_time)
    if at < len(history) and history[at][0] == ts:
        return
    history.insert(at, [ts, followers])
    if len(history) > 1 and history[1][0] <= horizon:  # more than one at or before it
        del history[:bisect.bisect_right(history, horizon, key=_snapshot_time) - 1]


_snapshot_time = itemgetter(0)  # a snapshot's ts; in C, as binary searches call it often


def followers_at(history: list[list[float]], start: float, now: float) -> tuple[int, int] | None:
    """(followers at the start of a window, at its end) for one account.

    The start is the last snapshot at or before ``start`` or, if none, the first
    inside the window; None when the account has no snapshot up to ``now``.
    """
    # The usual cases skip the binary searches (read for every account at every scrape):
    # no snapshot after now, and none at or before a window's start.
    current = len(history)  # snapshots up to now
    if not history or history[-1][0] > now:
        current = bisect.bisect_right(history, now, key=_snapshot_time)
        if not current:
            return None
    before = 0 if history[0][0] > start else min(
        bisect.bisect_right(history, start, key=_snapshot_time), current)
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
