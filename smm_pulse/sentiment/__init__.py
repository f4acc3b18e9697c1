"""Sentiment of brand mentions, offline: a score in [-1, 1] per text (docs/contract.md, 3, 5).

``scorer(kind=...)`` is the service's scorer, used by the mentions agent for mentions
without a collector-supplied ``sentiment`` and by ``smm-pulse sentiment``, as the
configuration's ``sentiment.scorer`` names it: the trained model shipped in the package
(``model.py``, docs/sentiment.md) or the rules and lexicons alone (``rules.py``: no
start-up cost, less accurate). A local transformer model (``transformer.py``) replaces
either when ``$SMM_PULSE_SENTIMENT_MODEL`` names its directory. Labels use the KPI
thresholds (``smm_pulse.kpi.formulas.sentiment_label``).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from smm_pulse.kpi.formulas import sentiment_label


@dataclass(frozen=True, slots=True)
class Sentiment:
    score: float  # in [-1, 1]
    lang: str  # "ru" or "en": which scorer read the text

    @property
    def label(self) -> str:
        return sentiment_label(self.score)


MODEL_ENV = "SMM_PULSE_SENTIMENT_MODEL"
ScorerKind = Literal["model", "rules"]


class Scorer(Protocol):
    def score(self, text: str, lang: str | None = None) -> Sentiment:
        """``lang`` is the collector's ISO 639-1 hint, if any."""
        ...

    def score_many(self, texts: Sequence[tuple[str, str | None]]) -> list[Sentiment]:
        """(text, lang hint) pairs at once: a model reads them in one pass."""
        ...


def scorer(model_dir: str | None = None, kind: ScorerKind = "rules") -> Scorer:
    """The transformer model in ``model_dir`` (or ``$SMM_PULSE_SENTIMENT_MODEL``) if one is
    named, else the scorer ``kind`` names. The rules are the default of this function, as
    they cost nothing to load; the configuration's default is the model."""
    return _loaded(model_dir or os.environ.get(MODEL_ENV) or None, kind)


@functools.cache  # loaded once per process
def _loaded(model_dir: str | None, kind: ScorerKind = "rules") -> Scorer:
    if model_dir:
        from smm_pulse.sentiment.transformer import TransformerScorer

        return TransformerScorer(model_dir)
    if kind == "model":
        from smm_pulse.sentiment.model import ModelScorer

        return ModelScorer()
    from smm_pulse.sentiment.rules import RuleScorer

    return RuleScorer()
