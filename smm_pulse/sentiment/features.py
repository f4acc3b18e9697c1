"""What the trained model reads besides the sentence embedding: the rule engines' judgements
and cheap signals of social text.

The rules know brand talk (negated service verbs, waiting times, emoji, brackets) that a
general-purpose sentence encoder blurs; the trained head weighs both. Each language's rule
features are scaled by that language's share of the letters, so the head can weigh the
Russian and the English rules differently. Training and inference call the same function.
"""

from __future__ import annotations

import math
import re

import numpy as np

from smm_pulse.sentiment import signals
from smm_pulse.sentiment.language import cyrillic_share, detect
from smm_pulse.sentiment.rules import RuleScorer, combined

NAMES = (
    "ru_positive", "ru_negative", "ru_score",  # the Russian rules, times the Cyrillic share
    "en_positive", "en_negative", "en_score",  # the English rules, times the Latin share
    "rules",  # the rule scorer's own verdict
    "emoji_positive", "emoji_negative", "emoticons", "exclamations", "question",
    "links", "mentions", "hashtags", "capitals", "length", "cyrillic",
)
_LINK = re.compile(r"https?://|www\.")
_MENTION = re.compile(r"@\w")
_WORD = re.compile(r"\w+")
_POSITIVE_EMOJI = {char: value for char, value in signals.EMOJI.items() if value > 0}
_NEGATIVE_EMOJI = {char: value for char, value in signals.EMOJI.items() if value < 0}


def _emoji_sum(text: str, emoji: dict[str, float]) -> float:
    return sum(value * min(text.count(char), 2) for char, value in emoji.items() if char in text)


class RuleFeatures:
    """``len(NAMES)`` numbers per text, each roughly in [-1, 1]."""

    def __init__(self, rules: RuleScorer | None = None) -> None:
        self.rules = rules or RuleScorer()

    def __call__(self, text: str, lang: str | None = None) -> np.ndarray:
        share = cyrillic_share(text)
        language = detect(text, lang, share)
        ru_pos, ru_neg, ru_total = (self.rules.russian.parts(text)
                                    if share > 0 or language == "ru" else (0.0, 0.0, 0.0))
        en_pos, en_neg, en_total = (self.rules.english.parts(text) if share < 1
                                    else (0.0, 0.0, 0.0))
        ru_score, en_score = signals.normalize(ru_total), signals.normalize(en_total)
        rules = combined(ru_score, en_score, share, language) if text.strip() else 0.0
        latin = 1.0 - share
        letters = [c for c in text if c.isalpha()]
        words = len(_WORD.findall(text))
        return np.array([
            share * signals.normalize(ru_pos), share * signals.normalize(ru_neg),
            share * ru_score,
            latin * signals.normalize(en_pos), latin * signals.normalize(en_neg),
            latin * en_score,
            rules,
            min(_emoji_sum(text, _POSITIVE_EMOJI) / 4, 1.0),
            max(_emoji_sum(text, _NEGATIVE_EMOJI) / 4, -1.0),
            max(-1.0, min(signals.emoticon_valence(text) / 2, 1.0)),
            min(text.count("!"), 4) / 4,
            float("?" in text),
            float(bool(_LINK.search(text))),
            float(bool(_MENTION.search(text))),
            min(text.count("#"), 3) / 3,
            sum(c.isupper() for c in letters) / len(letters) if len(letters) > 3 else 0.0,
            math.log1p(words) / 5,
            share,
        ], dtype=np.float32)

    def many(self, texts: list[tuple[str, str | None]]) -> np.ndarray:
        rows = [self(text, lang) for text, lang in texts]
        return np.vstack(rows) if rows else np.zeros((0, len(NAMES)), dtype=np.float32)
