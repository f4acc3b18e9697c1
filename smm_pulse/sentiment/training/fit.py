"""Fitting the heads (scikit-learn, at training time only), and choosing on held-out
data the threshold at which the rules head decides alone and the class offsets."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from smm_pulse.kpi.formulas import SENTIMENT_THRESHOLD
from smm_pulse.sentiment.features import NAMES
from smm_pulse.sentiment.head import Linear, Network

# The cascade may cost at most this much of the full head's held-out macro-F1.
F1_TOLERANCE = 0.002
THRESHOLDS = np.round(np.arange(0.50, 0.96, 0.05), 2)
# The class mix (negative, neutral, positive) the offsets are calibrated for: an assumption
# about brand-mention streams, where most mentions are news, questions and chatter. Each
# held-out set is reweighted to it, whatever its own mix.
SERVICE_MIX = np.array([0.25, 0.5, 0.25])
OFFSETS = np.round(np.arange(-1.5, 1.51, 0.1), 1)  # for negative and positive; neutral is 0


@dataclass(frozen=True)
class HeldOut:
    """The held-out examples of the sets that have all three classes, as the heads see them."""

    features: np.ndarray
    full_inputs: np.ndarray
    labels: np.ndarray
    sources: np.ndarray

    @classmethod
    def of(cls, features: np.ndarray, full_inputs: np.ndarray, labels: np.ndarray,
           held_out: np.ndarray, sources: np.ndarray) -> HeldOut:
        three = [s for s in set(sources[held_out])
                 if len(set(labels[held_out & (sources == s)])) == 3]
        rows = held_out & np.isin(sources, three)
        return cls(features[rows], full_inputs[rows], labels[rows], sources[rows])


def fit_linear(inputs: np.ndarray, labels: np.ndarray, weights: np.ndarray,
               seed: int) -> Linear:
    """A multinomial logistic regression on standardised inputs, classes weighted to equal
    shares, standardisation folded in so that inference is one matrix product."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(inputs)
    model = LogisticRegression(max_iter=3000, class_weight="balanced", random_state=seed)
    model.fit(scaler.transform(inputs), labels, sample_weight=weights)
    scale = scaler.scale_
    coef = model.coef_.T / scale[:, None]  # (inputs, classes)
    bias = model.intercept_ - (scaler.mean_ / scale) @ model.coef_.T
    return Linear(coef.astype(np.float64), bias.astype(np.float64))


def fit_network(inputs: np.ndarray, labels: np.ndarray, weights: np.ndarray, seed: int,
                units: int, alpha: float, epochs: int) -> Network:
    """One hidden ReLU layer on standardised inputs (Adam, seeded shuffles, a fixed number of
    epochs), classes weighted to equal shares, standardisation folded into the first layer.
    The hidden weights are kept as float32, as they are shipped."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(inputs)
    shares = np.bincount(labels, weights=weights, minlength=3)
    balanced = weights * (weights.sum() / (3 * shares))[labels]
    model = MLPClassifier(hidden_layer_sizes=(units,), alpha=alpha, max_iter=epochs,
                          batch_size=256, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed budget, on purpose
        model.fit(scaler.transform(inputs), labels, sample_weight=balanced)
    first, second = model.coefs_
    scale = scaler.scale_
    hidden = Linear((first / scale[:, None]).astype(np.float32),
                    model.intercepts_[0] - (scaler.mean_ / scale) @ first)
    return Network(hidden, Linear(second.astype(np.float64), model.intercepts_[1]))


def macro_f1(truth: np.ndarray, predicted: np.ndarray,
             mix: np.ndarray | None = None) -> float:
    """Macro-F1; with ``mix``, as if the classes came in that mix (examples reweighted)."""
    weights = np.ones(len(truth))
    if mix is not None:
        shares = np.bincount(truth, minlength=3) / len(truth)
        weights = (mix / np.where(shares > 0, shares, 1))[truth]
    scores = []
    for cls in range(3):
        hits = weights[(truth == cls) & (predicted == cls)].sum()
        total = weights[truth == cls].sum() + weights[predicted == cls].sum()
        scores.append(hits * 2 / total if total else 0.0)
    return float(np.mean(scores))


def cascade(rules: Linear, full: Network, features: np.ndarray, full_inputs: np.ndarray,
            confident: float) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities, whether the rules head decided) as the service computes them."""
    probabilities = rules.probabilities(features)
    sure = probabilities.max(axis=1) >= confident
    if (~sure).any():
        probabilities[~sure] = full.probabilities(full_inputs[~sure])
    return probabilities, sure


def mean_f1(predicted: np.ndarray, data: HeldOut, mix: np.ndarray | None = None) -> float:
    """Each set counts once, however large: the small brand-mention set as much as Reddit."""
    return float(np.mean([macro_f1(data.labels[data.sources == s],
                                   predicted[data.sources == s], mix)
                          for s in sorted(set(data.sources))]))


def cascade_threshold(rules: Linear, full: Network, data: HeldOut) -> float:
    """The lowest threshold (the most texts decided without the encoder) whose held-out
    macro-F1 is within ``F1_TOLERANCE`` of the full head's."""
    best = mean_f1(full.probabilities(data.full_inputs).argmax(1), data)
    for threshold in THRESHOLDS:
        probabilities, _ = cascade(rules, full, data.features, data.full_inputs, threshold)
        if mean_f1(probabilities.argmax(1), data) >= best - F1_TOLERANCE:
            return float(threshold)
    return 1.0  # never sure enough: the encoder reads every text


def class_offsets(rules: Linear, full: Network, confident: float, data: HeldOut) -> np.ndarray:
    """Log-prior offsets (negative, 0, positive) with the best held-out macro-F1 at
    ``SERVICE_MIX``; a grid, so the choice is exact and reproducible."""
    probabilities, _ = cascade(rules, full, data.features, data.full_inputs, confident)
    logs = np.log(np.clip(probabilities, 1e-12, None))
    candidates = [np.array([negative, 0.0, positive]) for negative in OFFSETS
                  for positive in OFFSETS]
    scores = [mean_f1((logs + offsets).argmax(1), data, SERVICE_MIX) for offsets in candidates]
    return candidates[int(np.argmax(scores))]


def held_out_report(rules: Linear, full: Network, confident: float, offsets: np.ndarray,
                    features: np.ndarray, full_inputs: np.ndarray, labels: np.ndarray,
                    held_out: np.ndarray, sources: np.ndarray) -> None:
    probabilities, sure = cascade(rules, full, features, full_inputs, confident)
    predicted = (np.log(np.clip(probabilities, 1e-12, None)) + offsets).argmax(1)
    rule_scores = features[:, NAMES.index("rules")]  # the rule scorer's own verdict
    by_rules = np.where(rule_scores > SENTIMENT_THRESHOLD, 2,
                        np.where(rule_scores < -SENTIMENT_THRESHOLD, 0, 1))
    print("held-out macro-F1 (set, texts: rule scorer, model; the same with the classes "
          "reweighted to the service mix; share of texts decided without the encoder)")
    for name in sorted(set(sources[held_out])):
        rows = held_out & (sources == name)
        if len(set(labels[rows])) < 3:
            continue  # a one-class set has no macro-F1 to speak of
        truth = labels[rows]
        print(f"  {name:16} {rows.sum():6,}: {macro_f1(truth, by_rules[rows]):.3f} "
              f"{macro_f1(truth, predicted[rows]):.3f}; "
              f"{macro_f1(truth, by_rules[rows], SERVICE_MIX):.3f} "
              f"{macro_f1(truth, predicted[rows], SERVICE_MIX):.3f}; {sure[rows].mean():.2f}")
