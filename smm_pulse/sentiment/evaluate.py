"""Accuracy and speed of the scorer on labelled data (docs/benchmarks.md).

``smm-pulse sentiment-bench --data DIR`` reads ``rusentiment_test.jsonl`` (ru)
and ``tweeteval_test.jsonl`` (en) from DIR, lines ``{"text", "label"}``, and
prints 3-class macro-F1 and mentions per second on one core. The data stays
where it is (``../shared/data/sentiment``): it is evaluation data, not ours.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import orjson

from smm_pulse.sentiment import Scorer

LABELS = ("positive", "neutral", "negative")
DATASETS = {"ru": "rusentiment_test.jsonl", "en": "tweeteval_test.jsonl"}


def macro_f1(truth: list[str], predicted: list[str]) -> float:
    """The mean over the three labels of F1 (0 for a label never predicted nor present)."""
    pairs = Counter(zip(truth, predicted, strict=True))
    scores = []
    for label in LABELS:
        hits = pairs[label, label]
        predicted_n = sum(n for (_, p), n in pairs.items() if p == label)
        actual_n = sum(n for (t, _), n in pairs.items() if t == label)
        scores.append(2 * hits / (predicted_n + actual_n) if predicted_n + actual_n else 0.0)
    return sum(scores) / len(scores)


@dataclass(frozen=True)
class Result:
    lang: str
    texts: int
    macro_f1: float
    per_second: float  # median over runs, one core


def evaluate(scorer: Scorer, path: Path, lang: str, runs: int = 3) -> Result:
    rows = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    texts: list[tuple[str, str | None]] = [(row["text"], None) for row in rows]
    predicted = [result.label for result in scorer.score_many(texts)]  # also warms caches
    rates = []
    for _ in range(runs):
        started = time.perf_counter()
        scorer.score_many(texts)
        rates.append(len(texts) / (time.perf_counter() - started))
    return Result(lang, len(texts), macro_f1([row["label"] for row in rows], predicted),
                  statistics.median(rates))


def evaluate_all(scorer: Scorer, data: Path, runs: int = 3) -> list[Result]:
    return [evaluate(scorer, data / name, lang, runs) for lang, name in DATASETS.items()
            if (data / name).exists()]
