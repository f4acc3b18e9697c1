"""The service's scorer: the Russian or English rules, blended for mixed-language text."""

from __future__ import annotations

from collections.abc import Sequence

from smm_pulse.sentiment import Sentiment, signals
from smm_pulse.sentiment.english import english_engine
from smm_pulse.sentiment.language import cyrillic_share, detect
from smm_pulse.sentiment.russian import russian_engine

MIXED_SHARE = 0.2  # below this share of letters, the other language is a loan word or a name
# One faint cue ("ok", a lone ")") does not make a mention positive or negative: scores
# up to what a single valence-1 cue gives are neutral, the rest is rescaled.
WEAK_EVIDENCE = signals.normalize(1.0)


def calibrated(score: float) -> float:
    strength = max(0.0, abs(score) - WEAK_EVIDENCE) / (1 - WEAK_EVIDENCE)
    return strength if score > 0 else -strength


class RuleScorer:
    def __init__(self) -> None:
        self.english = english_engine()
        self.russian = russian_engine(foreign=self.english.vocabulary)

    def score(self, text: str, lang: str | None = None) -> Sentiment:
        russian_share = cyrillic_share(text)
        lang = detect(text, lang, russian_share)
        if not text.strip():
            return Sentiment(0.0, lang)
        if MIXED_SHARE <= russian_share <= 1 - MIXED_SHARE:
            score = (russian_share * self.russian.score(text)
                     + (1 - russian_share) * self.english.score(text))
        elif lang == "ru":
            score = self.russian.score(text)
        else:
            score = self.english.score(text)
        return Sentiment(round(calibrated(score), 4), lang)

    def score_many(self, texts: Sequence[tuple[str, str | None]]) -> list[Sentiment]:
        return [self.score(text, lang) for text, lang in texts]
