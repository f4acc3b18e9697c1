"""Sentiment of brand mentions, offline: a score in [-1, 1] per text (contract section 3, 5).

``scorer()`` is the service's scorer, used by the mentions agent for mentions
without a collector-supplied ``sentiment`` and by ``smm-pulse sentiment``.
Labels use the KPI thresholds (``smm_pulse.kpi.formulas.sentiment_label``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Protocol

from smm_pulse.kpi.formulas import sentiment_label


@dataclass(frozen=True, slots=True)
class Sentiment:
    score: float  # in [-1, 1]
    lang: str  # "ru" or "en": which scorer read the text

    @property
    def label(self) -> str:
        return sentiment_label(self.score)


class Scorer(Protocol):
    def score(self, text: str, lang: str | None = None) -> Sentiment:
        """``lang`` is the collector's ISO 639-1 hint, if any."""
        ...


@functools.cache
def scorer() -> Scorer:
    """The default scorer: rules and lexicons for Russian and English (loaded once)."""
    from smm_pulse.sentiment.rules import RuleScorer

    return RuleScorer()
