"""The trained scorer: rule features and a sentence embedding read by a linear head.

Loaded once per process (the encoder takes about a second). Scores are cached by
normalised text and language hint: reposts and retweets repeat a text, and a text always
gets the same score, whatever batch it came in.
"""

from __future__ import annotations

import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from smm_pulse.sentiment import Sentiment
from smm_pulse.sentiment.encoder import Encoder
from smm_pulse.sentiment.features import NAMES, RuleFeatures
from smm_pulse.sentiment.head import Head, class_score, shifted
from smm_pulse.sentiment.language import SUPPORTED, detect

CACHE_SIZE = 50_000  # texts; about 10 MB at brand-mention lengths

Key = tuple[str, str | None]


def normalised(text: str) -> str:
    """What the cache and the model read: NFC, runs of white space as one space."""
    return " ".join(unicodedata.normalize("NFC", text).split())


class ModelError(ValueError):
    """The weights file does not fit this code (retrain with ``make train-sentiment``)."""


class ModelScorer:
    def __init__(self, weights: Path | None = None, cache_size: int = CACHE_SIZE) -> None:
        self.head = Head.load(weights)
        if self.head.features != NAMES:
            raise ModelError(f"the weights were trained on features {self.head.features}, "
                             f"the code computes {NAMES}")
        self.features = RuleFeatures()
        self.encoder = Encoder()
        self.cache_size = cache_size
        self._cache: OrderedDict[Key, Sentiment] = OrderedDict()
        self._lock = threading.Lock()  # the service scores in a worker thread
        self.encoded = 0  # texts the encoder read: how often the rules head was not sure

    def score(self, text: str, lang: str | None = None) -> Sentiment:
        return self.score_many([(text, lang)])[0]

    def score_many(self, texts: Sequence[tuple[str, str | None]]) -> list[Sentiment]:
        keys = [(normalised(text), lang if lang in SUPPORTED else None) for text, lang in texts]
        with self._lock:
            known = {key: self._cache[key] for key in keys if key in self._cache}
            for key in known:
                self._cache.move_to_end(key)
        missing = list(dict.fromkeys(key for key in keys if key not in known))
        if missing:
            scored = self._scored(missing)
            known.update(scored)
            with self._lock:
                self._cache.update(scored)
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return [known[key] for key in keys]

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def _scored(self, keys: list[Key]) -> dict[Key, Sentiment]:
        """Each text on its own: no text's score depends on the others in its batch."""
        results = {key: Sentiment(0.0, detect(key[0], key[1])) for key in keys if not key[0]}
        keys = [key for key in keys if key[0]]
        if not keys:
            return results
        features = self.features.many(keys)
        probabilities = self.head.rules.probabilities(features)
        unsure = np.flatnonzero(probabilities.max(axis=1) < self.head.confident)
        if len(unsure):
            embeddings = self.encoder([keys[i][0] for i in unsure])
            probabilities[unsure] = self.head.full.probabilities(
                np.hstack([embeddings, features[unsure]]))
            self.encoded += len(unsure)
        probabilities = shifted(probabilities, self.head.offsets)
        for key, row in zip(keys, probabilities, strict=True):
            results[key] = Sentiment(class_score(row), detect(key[0], key[1]))
        return results
