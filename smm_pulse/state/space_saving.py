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

from collections.abc import Iterable
from dataclasses import dataclass

# author -> [reach, error (reach counted before it was kept), mentions, sentiment sum]
Sketch = dict[str, list[float]]
REACH, ERROR, MENTIONS, SENTIMENT = range(4)


def add(sketch: Sketch, author: str, reach: float, mentions: float, sentiment: float,
        capacity: int) -> None:
    """Count an author's mentions (their reach and sentiment summed) in ``sketch``, in place.

    A replaced author's mentions and sentiment restart with the newcomer's: they
    describe the mentions since the author was kept (all of them when the error is 0).
    """
    kept = sketch.get(author)
    if kept is not None:
        kept[REACH] += reach
        kept[MENTIONS] += mentions
        kept[SENTIMENT] += sentiment
        return
    if len(sketch) < capacity:
        sketch[author] = [reach, 0, mentions, sentiment]
        return
    least_author, least = min(sketch.items(), key=_least)
    del sketch[least_author]
    sketch[author] = [least[REACH] + reach, least[REACH], mentions, sentiment]


def _least(item: tuple[str, list[float]]) -> tuple[float, str]:
    return item[1][REACH], item[0]


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

