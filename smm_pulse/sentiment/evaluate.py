"""Accuracy and speed of the scorer on labelled data (docs/sentiment.md).

``smm-pulse sentiment-bench --data DIR`` reads ``rusentiment_test.jsonl`` (ru)
and ``tweeteval_test.jsonl`` (en) from DIR, lines ``{"text", "label"}``, and
prints 3-class macro-F1, each class's precision and recall, the confusion matrix
and mentions per second on one core. The data stays where it is: it is
evaluation data under its own terms, never trained or calibrated on.
"""

from __future__ import annotations

import os
import resource
import statistics
import time
from collections import Counter
from collections.abc import Callable
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


def precision_recall(truth: list[str], predicted: list[str]) -> dict[str, tuple[float, float]]:
    """label -> (precision, recall); 0 where a label was never predicted or never present."""
    pairs = Counter(zip(truth, predicted, strict=True))
    found = {}
    for label in LABELS:
        hits = pairs[label, label]
        predicted_n = sum(n for (_, p), n in pairs.items() if p == label)
        actual_n = sum(n for (t, _), n in pairs.items() if t == label)
        found[label] = (hits / predicted_n if predicted_n else 0.0,
                        hits / actual_n if actual_n else 0.0)
    return found


def confusion(truth: list[str], predicted: list[str]) -> list[list[int]]:
    """Rows: the true label, columns: the predicted one, both in ``LABELS`` order."""
    pairs = Counter(zip(truth, predicted, strict=True))
    return [[pairs[t, p] for p in LABELS] for t in LABELS]


@dataclass(frozen=True)
class Result:
    lang: str
    texts: int
    macro_f1: float
    per_second: float  # median over runs, per second of the process' CPU time (one core)
    per_second_wall: float  # median over runs, per second of wall time (load-sensitive)
    per_class: dict[str, tuple[float, float]]  # label -> (precision, recall)
    confusion: list[list[int]]

    def report(self) -> str:
        lines = [f"{self.lang}: {self.texts} texts, macro-F1 {self.macro_f1:.3f}, "
                 f"{self.per_second:,.0f} mentions/s per core (CPU time; "
                 f"{self.per_second_wall:,.0f}/s wall)"]
        lines += [f"  {label:8} precision {p:.3f} recall {r:.3f}"
                  for label, (p, r) in self.per_class.items()]
        lines.append("  confusion (rows true, columns predicted: " + ", ".join(LABELS) + ")")
        lines += ["  " + " ".join(f"{n:6d}" for n in row) for row in self.confusion]
        return "\n".join(lines)


@dataclass(frozen=True)
class Load:
    seconds: float
    megabytes: float  # resident memory the scorer added


def resident_bytes() -> int:
    """This process's resident memory (Linux's /proc; elsewhere its peak, from getrusage)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def loaded(make: Callable[[], Scorer]) -> tuple[Scorer, Load]:
    """A scorer, with the time and the memory its loading took."""
    before = resident_bytes()
    started = time.perf_counter()
    made = make()
    seconds = time.perf_counter() - started
    return made, Load(seconds, (resident_bytes() - before) / 2**20)


def evaluate(scorer: Scorer, path: Path, lang: str, runs: int = 3) -> Result:
    rows = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    texts: list[tuple[str, str | None]] = [(row["text"], None) for row in rows]
    passes: list[list[str]] = []  # the labels of each pass: a text's label never changes
    rates = []
    for _ in range(max(runs, 1)):
        _forget(scorer)  # each pass reads every text, as fresh mentions are read
        rates.append(_timed(
            lambda: passes.append([result.label for result in scorer.score_many(texts)]),
            len(texts)))
    predicted = passes[0]
    truth = [row["label"] for row in rows]
    return Result(lang, len(texts), macro_f1(truth, predicted),
                  statistics.median(rate for rate, _ in rates),
                  statistics.median(rate for _, rate in rates),
                  precision_recall(truth, predicted), confusion(truth, predicted))


def _timed(work: Callable[[], object], count: int) -> tuple[float, float]:
    """``count`` per second of the process' CPU time and per second of wall time. CPU time
    is the per-core figure and barely moves when other processes share the machine."""
    cpu, wall = time.process_time(), time.perf_counter()
    work()
    return (count / max(time.process_time() - cpu, 1e-9),
            count / max(time.perf_counter() - wall, 1e-9))


def _forget(scorer: Scorer) -> None:
    """Empty a scorer's cache of scored texts, if it keeps one."""
    clear = getattr(scorer, "clear_cache", None)
    if clear is not None:
        clear()


def evaluate_all(scorer: Scorer, data: Path, runs: int = 3) -> list[Result]:
    return [evaluate(scorer, data / name, lang, runs) for lang, name in DATASETS.items()
            if (data / name).exists()]
