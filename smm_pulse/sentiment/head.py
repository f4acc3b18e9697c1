"""The trained model's weights (``data/sentiment_model.npz``) and the arithmetic on them.

Two softmax heads, over the classes negative, neutral, positive: ``rules``, linear, reads
only the rule features (``features.py``); ``full``, with one hidden layer (ReLU), reads the
sentence embedding followed by the same features. When the rules head is at least
``confident`` sure, its answer stands and the encoder is not run: mentions with plain cues
are decided at the rules' speed. Either head's probabilities are then shifted by the class
``offsets`` (log-prior corrections: the heads are trained with equal class shares, while
most brand mentions are neutral). Standardisation is folded into the weights at training.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np

from smm_pulse.kpi.formulas import SENTIMENT_THRESHOLD

CLASSES = ("negative", "neutral", "positive")
WEIGHTS = "data/sentiment_model.npz"


@dataclass(frozen=True)
class Linear:
    weights: np.ndarray  # (inputs, 3)
    bias: np.ndarray  # (3,)

    def probabilities(self, inputs: np.ndarray) -> np.ndarray:
        logits = inputs.astype(np.float64) @ self.weights + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Network:
    """One hidden ReLU layer, then a linear softmax layer."""

    hidden: Linear  # (inputs, units): its "probabilities" are not used, only the product
    output: Linear  # (units, 3)

    def probabilities(self, inputs: np.ndarray) -> np.ndarray:
        units = np.maximum(inputs.astype(np.float64) @ self.hidden.weights + self.hidden.bias,
                           0.0)
        return self.output.probabilities(units)


@dataclass(frozen=True)
class Head:
    rules: Linear
    full: Network
    confident: float  # the rules head's probability above which it decides alone
    offsets: np.ndarray  # (3,) added to the log-probabilities
    features: tuple[str, ...]  # the rule features' names, in order
    encoder: str  # which encoder the full head was trained on

    @classmethod
    def load(cls, path: Path | None = None) -> Head:
        source = path or files("smm_pulse.sentiment").joinpath(WEIGHTS)
        with source.open("rb") as file, np.load(file, allow_pickle=False) as saved:
            full = Network(Linear(saved["hidden_weights"], saved["hidden_bias"]),
                           Linear(saved["full_weights"], saved["full_bias"]))
            return cls(Linear(saved["rules_weights"], saved["rules_bias"]), full,
                       float(saved["confident"]), saved["offsets"],
                       tuple(str(n) for n in saved["features"]), str(saved["encoder"]))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as file:
            np.savez_compressed(
                file, rules_weights=self.rules.weights, rules_bias=self.rules.bias,
                hidden_weights=self.full.hidden.weights.astype(np.float32),
                hidden_bias=self.full.hidden.bias,
                full_weights=self.full.output.weights, full_bias=self.full.output.bias,
                confident=np.float64(self.confident), offsets=self.offsets,
                features=np.array(self.features),
                encoder=np.array(self.encoder))


def shifted(probabilities: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Probabilities (rows) with ``offsets`` added to their logarithms, renormalised."""
    logits = np.log(np.clip(probabilities, 1e-12, None)) + offsets
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def class_score(probabilities: np.ndarray) -> float:
    """A score in [-1, 1] whose KPI label (``sentiment_label``) is the likeliest class: 0 when
    neutral is likeliest (as the rules score a text without sentiment), else P(positive) -
    P(negative), kept outside the neutral band."""
    negative, neutral, positive = (float(p) for p in probabilities)
    valence = positive - negative
    if neutral >= max(negative, positive):
        return 0.0
    margin = SENTIMENT_THRESHOLD + 1e-4  # the 4-digit rounding must not land on the band
    strength = max(margin, SENTIMENT_THRESHOLD + (1 - SENTIMENT_THRESHOLD) * abs(valence))
    return round(strength if positive > negative else -strength, 4)
