"""Weighted Space-Saving heavy hitters (Metwally et al. 2005): the top authors by reach.

A sketch keeps at most ``capacity`` authors. An author already kept adds its
weight; a new one takes a free slot, or else replaces the kept author of least
reach and starts from that reach (which becomes its error). The counters
always sum to the weight inserted, R, so the least is at most R / capacity:

- a kept author's reach is over its true reach by at most its error, and its
  error is at most R / capacity;
- an author not kept has a true reach of at most the least kept reach.

Sketches of several buckets merge by adding what each holds
(``merge``): the sum is within R_W / capacity of the true reach, R_W being the
reach of all the buckets' mentions, and each merged row says its own bound.
Which author goes is decided by reach, ties by name: not by the order of the
sketch's entries, which a changelog recovery need not keep, so a replay
rebuilds the same sketch from the same batches.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

# author -> (reach, error (reach counted before it was kept), mentions, sentiment sum); lists
# once restored from the changelog
Sketch = dict[str, Sequence[float]]
REACH, ERROR, MENTIONS, SENTIMENT = range(4)
K = TypeVar("K")  # what names a sketch among several (a platform)


def add(sketch: Sketch, author: str, reach: float, mentions: float, sentiment: float,
        capacity: int) -> None:
    """Count an author's mentions (their reach and sentiment summed) in ``sketch``, in place.

    A replaced author's mentions and sentiment restart with the newcomer's: they
    describe the mentions since the author was kept (all of them when the error is 0).
    """
    add_all({None: sketch}, [{(None, author): (reach, mentions, sentiment)}], capacity)


def add_all(sketches: dict[K, Sketch], batches: Iterable[Mapping[tuple[K, str], Sequence[float]]],
            capacity: int) -> None:
    """``add`` (reach, mentions, sentiment sum) per (sketch name, author) of some batches
    to the sketches so named (made when missing), in place.

    Per sketch, the same as calling ``add`` first for the authors already kept and
    those that fit, then for the others one after another, each one's mentions
    together (an order the sketch could have seen them in): the newcomers take the
    places of the least kept ones, found with a heap rather than a scan of the
    sketch each. Rows are replaced, not changed in place: a batch's rows may go to
    several sketches (one per window).
    """
    newcomers: dict[K, dict[str, list[float]]] = {}
    for authors in batches:
        for (name, author), (reach, mentions, sentiment) in authors.items():
            sketch = sketches.get(name)
            if sketch is None:
                sketch = sketches[name] = {}
            kept = sketch.get(author)
            if kept is not None:
                sketch[author] = (kept[REACH] + reach, kept[ERROR], kept[MENTIONS] + mentions,
                                  kept[SENTIMENT] + sentiment)
            elif len(sketch) < capacity:
                sketch[author] = (reach, 0, mentions, sentiment)
            elif (waiting := newcomers.setdefault(name, {}).get(author)) is not None:
                waiting[0] += reach
                waiting[1] += mentions
                waiting[2] += sentiment
            else:
                newcomers[name][author] = [reach, mentions, sentiment]
    for name, waiting in newcomers.items():
        _replace_least(sketches[name], waiting)


def _replace_least(sketch: Sketch, newcomers: Mapping[str, Sequence[float]]) -> None:
    """Each newcomer in turn takes the place of the kept author of least reach."""
    least = [(row[REACH], kept_author) for kept_author, row in sketch.items()]
    heapq.heapify(least)  # (reach, author): the least reach goes first, ties by name
    for author, (reach, mentions, sentiment) in newcomers.items():
        floor_reach, gone = least[0]
        del sketch[gone]
        sketch[author] = (floor_reach + reach, floor_reach, mentions, sentiment)
        heapq.heapreplace(least, (floor_reach + reach, author))


def floor(sketch: Sketch, capacity: int) -> float:
    """The most reach an author not kept can have had: the least kept one's, 0 while not full."""
    return min(v[REACH] for v in sketch.values()) if len(sketch) >= capacity else 0


@dataclass(frozen=True, slots=True)
class Author:
    """An author's merged counts: ``reach`` is within ``reach_error`` of the true reach."""

    author: str
    reach: float
    reach_error: float
    mentions: float  # mentions since kept in each sketch: all of them when reach_error is 0
    sentiment: float | None  # mean score of those mentions

    def as_json(self) -> dict[str, object]:
        return {"author": self.author, "reach": self.reach, "reach_error": self.reach_error,
                "mentions": self.mentions, "sentiment": self.sentiment}


def merge(sketches: Iterable[Sketch], capacity: int) -> list[Author]:
    """Authors of several sketches (buckets, platforms), most reach first (ties by name).

    An author's error: over by what its kept sketches over-count, under by at most
    the floors of the sketches that do not keep it; the larger of the two is given.
    """
    sums: dict[str, list[float]] = {}  # author -> [reach, error, mentions, sentiment, floors]
    floors = 0.0
    for sketch in sketches:
        least = floor(sketch, capacity)
        floors += least
        for author, (reach, error, mentions, sentiment) in sketch.items():
            kept = sums.get(author)
            if kept is None:
                sums[author] = [reach, error, mentions, sentiment, least]
            else:
                kept[0] += reach
                kept[1] += error
                kept[2] += mentions
                kept[3] += sentiment
                kept[4] += least
    found = [Author(author, reach, max(error, floors - kept_floors), mentions,
                    sentiment / mentions if mentions else None)
             for author, (reach, error, mentions, sentiment, kept_floors) in sums.items()]
    found.sort(key=lambda a: (-a.reach, a.author))
    return found

