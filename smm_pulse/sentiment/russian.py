"""Russian: lemmas (pymorphy3), the project's lexicon, negation, intensifiers, complaint patterns.

The lexicon (``data/ru_lexicon.tsv``) was written for this project. Rules follow
VADER's: a negator flips and damps the next sentiment word within three words,
an intensifier strengthens it, a contrast ("но") weighs what follows more than
what precedes, and the sum is mapped into [-1, 1] the same way.
"""

from __future__ import annotations

import functools
import re
from importlib.resources import files

import pymorphy3

from smm_pulse.sentiment import signals

NEGATORS = frozenset({"не", "ни", "нет", "без", "никогда", "нельзя", "ничуть"})
NEGATION_SCALE = -0.74  # VADER's
NEGATION_SCOPE = 3  # words after a negator it still reaches
BOOSTERS = {
    "очень": 0.4, "оч": 0.4, "самый": 0.3, "крайне": 0.5, "совсем": 0.3, "абсолютно": 0.4,
    "невероятно": 0.5, "жутко": 0.4, "дико": 0.4, "реально": 0.3, "просто": 0.2,
    "настолько": 0.3, "такой": 0.2, "так": 0.2, "полностью": 0.3, "вообще": 0.3,
    "совершенно": 0.4, "максимально": 0.4, "безумно": 0.5, "сильно": 0.3, "слишком": 0.3,
    "весьма": 0.2, "супер": 0.3, "нереально": 0.5, "охуенно": 0.5, "пиздец": 0.5,
    "немного": -0.3, "чуть": -0.3, "слегка": -0.3, "относительно": -0.2, "почти": -0.2,
    "вроде": -0.3, "довольно": -0.1,
}
CONTRASTS = frozenset({"но", "однако", "зато"})
# "не" + lemma: what the pair means in brand talk (stronger than a flipped neutral word).
NOT_PHRASES = {
    "работать": -2.0, "мочь": -1.5, "отвечать": -2.0, "ответить": -2.0, "приходить": -1.5,
    "прийти": -1.5, "советовать": -2.5, "рекомендовать": -2.5, "помочь": -2.0,
    "помогать": -2.0, "дозвониться": -2.5, "вернуть": -2.0, "возвращать": -2.0,
    "решить": -1.5, "решать": -1.5, "открываться": -2.0, "грузиться": -2.0,
    "загружаться": -2.0, "проходить": -1.5, "стоить": -1.5, "понравиться": -2.5,
    "нравиться": -2.0, "доставить": -1.5, "исправить": -1.5, "устраивать": -2.0,
    "брать": -1.0, "звонить": -0.5, "хватать": -1.0, "дождаться": -2.0, "спешить": -1.0,
}
# "третий день", "который час": how long a complaint has been waiting.
WAITING_ORDINALS = frozenset({"второй", "третий", "четвёртый", "пятый", "который", "целый",
                              "несколько", "неделя", "месяц"})
WAITING_UNITS = frozenset({"день", "неделя", "месяц", "час", "раз", "сутки"})
WAITING_VALENCE = -1.5

_TOKEN = re.compile(r"[а-яёa-z0-9]+(?:-[а-яёa-z0-9]+)*|[.,;:!?]", re.IGNORECASE)
_BREAKS = frozenset(".,;:!?")


def load_lexicon() -> dict[str, float]:
    text = files("smm_pulse.sentiment").joinpath("data/ru_lexicon.tsv").read_text("utf-8")
    rows = (line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))
    return {word: float(value) for word, value in rows}


class RussianScorer:
    def __init__(self, foreign: dict[str, float] | None = None) -> None:
        """``foreign``: valences of Latin words met in Russian text (the English lexicon)."""
        self.lexicon = load_lexicon()
        self.foreign = foreign or {}
        morph = pymorphy3.MorphAnalyzer()
        # Brand talk repeats its words: one dictionary lookup per distinct word.
        self.lemma = functools.lru_cache(maxsize=200_000)(
            lambda word: morph.parse(word)[0].normal_form)

    def valence(self, word: str) -> tuple[str, float]:
        """(lemma, valence) of a lower-case word: the word itself first, then its lemma."""
        if word in self.lexicon:
            return word, self.lexicon[word]
        if word.isascii():
            return word, self.foreign.get(word, 0.0)
        lemma = self.lemma(word)
        return lemma, self.lexicon.get(lemma, 0.0)

    def total(self, text: str) -> float:
        """The valence sum of a text before normalisation."""
        sentiments: list[float] = []
        lemmas: list[str] = []
        contrast_at = -1
        raw_tokens = _TOKEN.findall(text)
        for index, raw in enumerate(raw_tokens):
            word = raw.lower()
            if word in _BREAKS:
                lemmas.append(word)
                sentiments.append(0.0)
                continue
            lemma, value = self.valence(word)
            previous = lemmas[-1] if lemmas else ""
            if previous == "не" and lemma in NOT_PHRASES:
                value = NOT_PHRASES[lemma]
                sentiments[-1] = 0.0
            elif previous in WAITING_ORDINALS and lemma in WAITING_UNITS:
                value = WAITING_VALENCE
            elif value:
                value = self._modified(value, lemmas, raw, text)
            if lemma in CONTRASTS:
                contrast_at = index
            lemmas.append(lemma)
            sentiments.append(value)
        if contrast_at >= 0:
            sentiments = [v * (0.5 if i < contrast_at else 1.5) for i, v in enumerate(sentiments)]
        total = sum(sentiments) + signals.emoticon_valence(text) + signals.emoji_valence(text)
        return total + signals.exclamation_boost(text, total)

    def _modified(self, value: float, before: list[str], raw: str, text: str) -> float:
        """Intensifiers, capitals and negation acting on a sentiment word."""
        if before and before[-1] in BOOSTERS:
            value += BOOSTERS[before[-1]] * (1 if value > 0 else -1)
        if raw.isupper() and len(raw) > 2 and not text.isupper():
            value += 0.733 * (1 if value > 0 else -1)
        for word in reversed(before[-NEGATION_SCOPE:]):
            if word in _BREAKS or word in CONTRASTS:
                break
            if word in NEGATORS:
                return value * NEGATION_SCALE
        return value

    def score(self, text: str) -> float:
        return signals.normalize(self.total(text))
