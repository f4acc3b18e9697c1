"""The rules both languages share, after VADER (Hutto and Gilbert, 2014).

A text's words are looked up in a language's vocabulary; each sentiment word's
valence (-4..4) is changed by the words before it: an intensifier strengthens
it, a negator within three words flips and damps it, capitals stress it; a
contrast ("but", "но") weighs what follows more than what precedes. Emoji,
brackets and exclamation marks add their own share, and the sum maps into
[-1, 1]. Brand complaints get patterns of their own: "not" plus a service verb
("doesn't work", "не отвечают") and a waiting time ("third day", "третий день").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from smm_pulse.sentiment import signals

NEGATION_SCALE = -0.74  # VADER's
NEGATION_SCOPE = 3  # words after a negator it still reaches
CAPITALS_STRESS = 0.733  # VADER's: a word in capitals in a text that is not all capitals
CONTRAST_BEFORE, CONTRAST_AFTER = 0.5, 1.5
WAITING_VALENCE = -1.5
QUESTION_DAMPING = 0.5  # a question asks more than it judges
_BREAK_CHARACTERS = ".,;:!?"
_BREAKS = frozenset(_BREAK_CHARACTERS)
SENTENCE_BREAK = f"[{re.escape(_BREAK_CHARACTERS)}]"  # in each language's token pattern
_STRETCHED = re.compile(r"(.)\1{2,}")


def unstretched(word: str) -> tuple[str, ...]:
    """A word with letters repeated for emphasis, kept twice, then once: "gooood" -> good, god."""
    if not _STRETCHED.search(word):
        return ()
    return _STRETCHED.sub(r"\1\1", word), _STRETCHED.sub(r"\1", word)


class Vocabulary(Protocol):
    def valence(self, word: str) -> tuple[str, float]:
        """(lemma, valence) of a lower-case word; valence 0 for a word without sentiment."""
        ...


@dataclass(frozen=True)
class Rules:
    """What a language says with its function words."""

    negators: frozenset[str]
    boosters: Mapping[str, float]  # added to the strength of the next sentiment word
    contrasts: frozenset[str]
    # lemma -> valence of "negator + lemma" in brand talk: "не работает" is a complaint,
    # not a flipped neutral word.
    negated_phrases: Mapping[str, float] = field(default_factory=dict)
    # "third day", "который час": how long a complaint has been waiting.
    waiting_counts: frozenset[str] = frozenset()
    waiting_units: frozenset[str] = frozenset()
    # lemma -> the words after which it carries its valence: "I like it", not "looks like".
    only_after: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # Title-case runs ("Best Buy", "Beauty And The Beast") are names, not judgements.
    names_have_no_sentiment: bool = False


class RuleEngine:
    def __init__(self, tokens: re.Pattern[str], vocabulary: Vocabulary, rules: Rules) -> None:
        """``tokens`` finds words and ``SENTENCE_BREAK`` characters in a text."""
        self.tokens = tokens
        self.vocabulary = vocabulary
        self.rules = rules

    def score(self, text: str) -> float:
        return signals.normalize(self.total(text))

    def total(self, text: str) -> float:
        """The valence sum of a text before normalisation."""
        return self.parts(text)[2]

    def parts(self, text: str) -> tuple[float, float, float]:
        """(sum of the positive word valences, sum of the negative ones, the valence sum):
        the trained model reads the two sides apart, since "good but slow" is not neutral."""
        rules = self.rules
        raw_tokens = self.tokens.findall(text)
        names = self._names(raw_tokens) if rules.names_have_no_sentiment else ()
        sentiments: list[float] = []
        lemmas: list[str] = []
        contrast_at = -1
        sentence_start = 0
        for index, raw in enumerate(raw_tokens):
            word = raw.lower()
            if word in _BREAKS:
                if word == "?":
                    for i in range(sentence_start, index):
                        sentiments[i] *= QUESTION_DAMPING
                sentence_start = index + 1
                lemmas.append(word)
                sentiments.append(0.0)
                continue
            lemma, value = self.vocabulary.valence(word)
            previous = lemmas[-1] if lemmas else ""
            if previous in rules.negators and lemma in rules.negated_phrases:
                value = rules.negated_phrases[lemma]
                sentiments[-1] = 0.0
            elif previous in rules.waiting_counts and lemma in rules.waiting_units:
                value = WAITING_VALENCE
            elif value and (index in names or (
                    lemma in rules.only_after and previous not in rules.only_after[lemma])):
                value = 0.0
            elif value:
                if previous in rules.boosters or previous in rules.negators:
                    sentiments[-1] = 0.0  # "no", "super": a modifier here, not a judgement
                value = self._modified(value, lemmas, raw, text)
            if lemma in rules.contrasts:
                contrast_at = index
            lemmas.append(lemma)
            sentiments.append(value)
        if contrast_at >= 0:
            sentiments = [v * (CONTRAST_BEFORE if i < contrast_at else CONTRAST_AFTER)
                          for i, v in enumerate(sentiments)]
        total = sum(sentiments) + signals.emoticon_valence(text) + signals.emoji_valence(text)
        return (sum(v for v in sentiments if v > 0), sum(v for v in sentiments if v < 0),
                total + signals.exclamation_boost(text, total))

    def _modified(self, value: float, before: list[str], raw: str, text: str) -> float:
        """Intensifiers, capitals and negation acting on a sentiment word."""
        sign = 1 if value > 0 else -1
        if before and before[-1] in self.rules.boosters:
            value += self.rules.boosters[before[-1]] * sign
        if raw.isupper() and len(raw) > 2 and not text.isupper():
            value += CAPITALS_STRESS * sign
        for word in reversed(before[-NEGATION_SCOPE:]):
            if word in _BREAKS or word in self.rules.contrasts:
                break
            if word in self.rules.negators:
                return value * NEGATION_SCALE
        return value

    @staticmethod
    def _names(raw_tokens: list[str]) -> frozenset[int]:
        """Positions of words in runs of two or more title-case words."""
        title = [raw[:1].isupper() and not raw.isupper() for raw in raw_tokens]
        return frozenset(i for i, is_title in enumerate(title) if is_title and (
            (i > 0 and title[i - 1]) or (i + 1 < len(title) and title[i + 1])))
