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


def combined(russian: float, english: float, russian_share: float, lang: str) -> float:
    """The rules' score from each engine's score: the text's language's, or both blended by
    their share of the letters when the text mixes them."""
    if is_mixed(russian_share):
        score = russian_share * russian + (1 - russian_share) * english
    else:
        score = russian if lang == "ru" else english
    return round(calibrated(score), 4)


def is_mixed(russian_share: float) -> bool:
    return MIXED_SHARE <= russian_share <= 1 - MIXED_SHARE


class RuleScorer:
    def __init__(self) -> None:
        self.english = english_engine()
        self.russian = russian_engine(foreign=self.english.vocabulary)

    def score(self, text: str, lang: str | None = None) -> Sentiment:
        russian_share = cyrillic_share(text)
        lang = detect(text, lang, russian_share)
        if not text.strip():
            return Sentiment(0.0, lang)
        both = is_mixed(russian_share)  # else only the text's language's engine reads it
        russian = self.russian.score(text) if both or lang == "ru" else 0.0
        english = self.english.score(text) if both or lang != "ru" else 0.0
        return Sentiment(combined(russian, english, russian_share, lang), lang)

    def score_many(self, texts: Sequence[tuple[str, str | None]]) -> list[Sentiment]:
        return [self.score(text, lang) for text, lang in texts]
