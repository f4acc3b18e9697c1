"""A second scorer: a sequence-classification model from a local directory.

For users who have a fine-tuned transformer (for example a Twitter or
RuSentiment model saved with ``save_pretrained``) and CPU time to spend on it.
It is loaded only from the path the user gives, with the Hugging Face hub
switched off: nothing is downloaded. Needs the ``transformer`` extra
(``pip install 'smm-pulse[transformer]'``: transformers and torch).

The model's labels must name the classes (``negative``, ``neutral``,
``positive``, any case, a prefix is enough; ``neutral`` may be absent). The
score is P(positive) - P(negative), kept inside the neutral band when the
model's most likely class is neutral, so the label the KPI thresholds give is
the model's own choice whenever the model is not split between positive and
negative.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from smm_pulse.kpi.formulas import SENTIMENT_THRESHOLD
from smm_pulse.sentiment import Sentiment
from smm_pulse.sentiment.language import detect

BATCH_SIZE = 32  # texts per forward pass: bounds padding and memory
MAX_TOKENS = 512  # a longer mention is cut: its start says most
CLASSES = ("negative", "neutral", "positive")


class ModelError(ValueError):
    """The directory does not hold a usable sentiment model."""


def class_indexes(id2label: dict[int, str]) -> dict[str, int]:
    """Class name -> the model's output index, from the model's own label names."""
    found: dict[str, int] = {}
    for index, name in id2label.items():
        for cls in CLASSES:
            if name.strip().lower().startswith(cls[:3]):
                found[cls] = int(index)
    if "negative" not in found or "positive" not in found:
        raise ModelError(f"the model's labels {sorted(id2label.values())} do not name "
                         "negative and positive classes")
    return found


def probabilities_to_score(negative: float, neutral: float, positive: float) -> float:
    """Expected valence, shrunk into the neutral band when neutral is the likeliest class."""
    valence = positive - negative
    if neutral > max(positive, negative):
        return valence * SENTIMENT_THRESHOLD  # |valence| < 1, so strictly inside the band
    return valence


class TransformerScorer:
    def __init__(self, model_dir: str | os.PathLike[str]) -> None:
        path = Path(model_dir)
        if not (path / "config.json").is_file():
            raise ModelError(f"{path} is not a model directory (no config.json)")
        os.environ["HF_HUB_OFFLINE"] = "1"  # before transformers reads it: never the network
        try:
            import torch
            from transformers import AutoModelForSequenceClassification, AutoTokenizer
            from transformers.utils import logging as transformers_logging
        except ImportError as exc:
            raise ModelError("the transformer scorer needs the 'transformer' extra: "
                             "pip install 'smm-pulse[transformer]'") from exc
        self._torch = torch
        transformers_logging.disable_progress_bar()  # a worker's log is not a terminal
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            self.model = AutoModelForSequenceClassification.from_pretrained(
                path, local_files_only=True).eval()
        except (OSError, ValueError) as exc:  # files missing, or not a classification model
            raise ModelError(f"{path}: {exc}") from exc
        self.classes = class_indexes(self.model.config.id2label)
        # the tokenizer's own limit is often unset (a huge number): the positions bound it too
        self.max_length = min(self.tokenizer.model_max_length, MAX_TOKENS,
                              getattr(self.model.config, "max_position_embeddings", MAX_TOKENS))

    def score(self, text: str, lang: str | None = None) -> Sentiment:
        return self.score_many([(text, lang)])[0]

    def score_many(self, texts: Sequence[tuple[str, str | None]]) -> list[Sentiment]:
        # Texts of similar length share a forward pass: a batch pads to its longest text.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i][0]))
        scored: dict[int, Sentiment] = {}
        for start in range(0, len(order), BATCH_SIZE):
            chunk = order[start:start + BATCH_SIZE]
            rows = self._probabilities([texts[i][0] for i in chunk])
            for i, row in zip(chunk, rows, strict=True):
                text, lang = texts[i]
                scored[i] = Sentiment(round(self._score(row), 4), detect(text, lang))
        return [scored[i] for i in range(len(texts))]

    def _probabilities(self, texts: list[str]) -> list[list[float]]:
        encoded = self.tokenizer(texts, padding=True, truncation=True,
                                 max_length=self.max_length, return_tensors="pt")
        with self._torch.inference_mode():
            logits = self.model(**encoded).logits
        return logits.softmax(dim=-1).tolist()

    def _score(self, row: list[float]) -> float:
        def p(cls: str) -> float:
            return row[self.classes[cls]] if cls in self.classes else 0.0

        return probabilities_to_score(p("negative"), p("neutral"), p("positive"))
