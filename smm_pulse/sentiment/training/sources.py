"""The labelled texts the model learns from, as (text, class) examples with a split.

Read from the project's training data directory (see docs/sentiment.md for each set's
licence and attribution) and from the project's own corpus of brand mentions. Every set
keeps a held-out part that is never trained on: the class offsets are calibrated there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

CLASSES = ("negative", "neutral", "positive")
NEGATIVE, NEUTRAL, POSITIVE = range(3)
# GoEmotions' own grouping of its emotions into sentiment; "ambiguous" ones are dropped.
EMOTION_GROUPS = {
    **dict.fromkeys(("admiration", "amusement", "approval", "caring", "desire", "excitement",
                     "gratitude", "joy", "love", "optimism", "pride", "relief"), POSITIVE),
    **dict.fromkeys(("anger", "annoyance", "disappointment", "disapproval", "disgust",
                     "embarrassment", "fear", "grief", "nervousness", "remorse", "sadness"),
                    NEGATIVE),
    "neutral": NEUTRAL,
}
# VADER's mean human ratings (-4..4): within this of 0 a text reads as neutral.
RATING_NEUTRAL_BAND = 0.5
HELD_OUT_SHARE = 5  # one text in five, by a hash of the text, where a set has no split
# The project's own corpus: every .tsv file here (not shipped in the wheel).
CORPUS = Path(__file__).resolve().parent / "corpus"
CORPUS_LABELS = {"neg": NEGATIVE, "neu": NEUTRAL, "pos": POSITIVE}


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: int  # index into CLASSES
    source: str  # which set: weights and held-out figures are per set
    held_out: bool


def held_out_by_hash(text: str) -> bool:
    """A stable split that does not depend on file order."""
    return hashlib.sha256(text.encode()).digest()[0] % HELD_OUT_SHARE == 0


def _rows(path: Path) -> Iterator[dict]:
    with path.open("rb") as lines:
        for line in lines:
            if line.strip():
                yield orjson.loads(line)


def _single(labels: list[str], groups: dict[str, int]) -> int | None:
    """The one sentiment a set of emotion or sentiment labels agrees on, else None."""
    found = {groups[name] for name in labels if name in groups}
    return found.pop() if len(found) == 1 else None


def goemotions(data: Path) -> Iterator[Example]:
    """English Reddit comments; the authors' test split is held out."""
    groups = {name: index for index, name in enumerate(CLASSES)}
    for split in ("train", "dev", "test"):
        for row in _rows(data / "en" / f"goemotions_group_{split}.jsonl"):
            label = _single(row["labels"], groups)
            if label is not None and "ambiguous" not in row["labels"]:
                yield Example(row["text"], label, "goemotions", split == "test")


def ru_goemotions(data: Path) -> Iterator[Example]:
    """GoEmotions machine-translated into Russian: the translations of the English dev split
    are trained on, those of the test split held out, as in English (the encoder is
    multilingual: a translation of a held-out text must not be trained on)."""
    for split in ("validation", "test"):
        for row in _rows(data / "ru" / f"ru_goemotions_{split}.jsonl"):
            label = _single(row["emotions"], EMOTION_GROUPS)
            if label is not None:
                yield Example(row["text"], label, "ru_goemotions", split == "test")


def vader_ratings(data: Path, kind: str) -> Iterator[Example]:
    for row in _rows(data / "en" / f"vader_ratings_{kind}.jsonl"):
        rating = row["rating"]
        label = (POSITIVE if rating >= RATING_NEUTRAL_BAND else
                 NEGATIVE if rating <= -RATING_NEUTRAL_BAND else NEUTRAL)
        yield Example(row["text"], label, f"vader_{kind}", held_out_by_hash(row["text"]))


def nltk_labelled(data: Path, name: str, labels: dict[str, int]) -> Iterator[Example]:
    """An NLTK corpus whose labels map to classes (rows with other labels are skipped)."""
    for row in _rows(data / "en" / f"nltk_{name}.jsonl"):
        if row["label"] in labels:
            yield Example(row["text"], labels[row["label"]], f"nltk_{name}",
                          held_out_by_hash(row["text"]))


def corpus_file(path: Path) -> Iterator[Example]:
    """One file of the project's corpus: label (neg, neu, pos), kind, sector, split (train,
    heldout), text per line; ``#`` lines are comments. A malformed line is an error naming it."""
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t")
        if (len(fields) != 5 or fields[0] not in CORPUS_LABELS
                or fields[3] not in ("train", "heldout") or not fields[4].strip()):
            raise ValueError(f"{path.name}:{number}: expected label, kind, sector, "
                             f"train|heldout, text separated by tabs: {line!r}")
        label, _kind, _sector, split, mention = fields
        yield Example(mention, CORPUS_LABELS[label], "brand_mentions", split == "heldout")


def project_corpus(directory: Path = CORPUS) -> Iterator[Example]:
    """The mentions written for this project, every ``.tsv`` file of ``directory``."""
    for path in sorted(directory.glob("*.tsv")):
        yield from corpus_file(path)


SETS = {
    "goemotions": goemotions,
    "ru_goemotions": ru_goemotions,
    "vader_tweets": lambda data: vader_ratings(data, "tweets"),
    "vader_nyt": lambda data: vader_ratings(data, "nyt"),
    "vader_amazon": lambda data: vader_ratings(data, "amazon"),
    "vader_movies": lambda data: vader_ratings(data, "movies"),
    "nltk_sentence_polarity": lambda data: nltk_labelled(
        data, "sentence_polarity", {"positive": POSITIVE, "negative": NEGATIVE}),
    "nltk_pros_cons": lambda data: nltk_labelled(
        data, "pros_cons", {"pro": POSITIVE, "con": NEGATIVE}),
    # Objective sentences (plot summaries) teach what a neutral statement reads like.
    "nltk_subjectivity": lambda data: nltk_labelled(data, "subjectivity", {"objective": NEUTRAL}),
    "brand_mentions": lambda data: project_corpus(),
}


def load(data: Path, names: list[str]) -> list[Example]:
    return [example for name in names for example in SETS[name](data)]
