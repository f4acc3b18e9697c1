"""Russian: lemmas (pymorphy3), the project's lexicon, and the words the shared rules act on.

The lexicon (``data/ru_lexicon.tsv``) was written for this project; the rules
are in ``engine.py``.
"""

from __future__ import annotations

import functools
import re
from importlib.resources import files

import pymorphy3

from smm_pulse.sentiment.engine import (
    SENTENCE_BREAK,
    RuleEngine,
    Rules,
    Vocabulary,
    unstretched,
)

BOOSTERS = {
    "очень": 0.4, "оч": 0.4, "самый": 0.3, "крайне": 0.5, "совсем": 0.3, "абсолютно": 0.4,
    "невероятно": 0.5, "жутко": 0.4, "дико": 0.4, "реально": 0.3, "просто": 0.2,
    "настолько": 0.3, "такой": 0.2, "так": 0.2, "полностью": 0.3, "вообще": 0.3,
    "совершенно": 0.4, "максимально": 0.4, "безумно": 0.5, "сильно": 0.3, "слишком": 0.3,
    "весьма": 0.2, "супер": 0.3, "нереально": 0.5, "охуенно": 0.5, "пиздец": 0.5,
    "немного": -0.3, "чуть": -0.3, "слегка": -0.3, "относительно": -0.2, "почти": -0.2,
    "вроде": -0.3, "довольно": -0.1,
}
# "не" + lemma: what the pair means in brand talk (stronger than a flipped neutral word).
NOT_PHRASES = {
    "работать": -2.0, "мочь": -1.5, "отвечать": -2.0, "ответить": -2.0, "приходить": -1.5,
    "прийти": -1.5, "советовать": -2.5, "рекомендовать": -2.5, "помочь": -2.0,
    "помогать": -2.0, "дозвониться": -2.5, "вернуть": -2.0, "возвращать": -2.0,
    "решить": -1.5, "решать": -1.5, "открываться": -2.0, "грузиться": -2.0,
    "загружаться": -2.0, "проходить": -1.5, "стоить": -1.5, "понравиться": -2.5,
    "нравиться": -2.0, "доставить": -1.5, "исправить": -1.5, "устраивать": -2.0,
    "связь": -1.5, "ответ": -1.5, "интернет": -1.5, "сеть": -1.5, "доступ": -1.5,
    "сигнал": -1.5, "брать": -1.0, "звонить": -0.5, "хватать": -1.0, "дождаться": -2.0,
    "спешить": -1.0,
}
# "третий день", "который час": how long a complaint has been waiting.
WAITING_ORDINALS = frozenset({"второй", "третий", "четвёртый", "пятый", "который", "целый",
                              "несколько", "неделя", "месяц"})
WAITING_UNITS = frozenset({"день", "неделя", "месяц", "час", "раз", "сутки"})
TOKENS = re.compile(rf"[а-яёА-ЯЁa-zA-Z0-9]+(?:-[а-яёА-ЯЁa-zA-Z0-9]+)*|{SENTENCE_BREAK}")
RULES = Rules(
    negators=frozenset({"не", "ни", "нет", "без", "никогда", "нельзя", "ничуть"}),
    boosters=BOOSTERS, contrasts=frozenset({"но", "однако", "зато"}),
    negated_phrases=NOT_PHRASES, waiting_counts=WAITING_ORDINALS, waiting_units=WAITING_UNITS)


def load_lexicon() -> dict[str, float]:
    text = files("smm_pulse.sentiment").joinpath("data/ru_lexicon.tsv").read_text("utf-8")
    rows = (line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))
    return {word: float(value) for word, value in rows}


class RussianVocabulary:
    def __init__(self, foreign: Vocabulary | None = None) -> None:
        """``foreign`` reads Latin words met in Russian text (the English vocabulary)."""
        self.lexicon = load_lexicon()
        self.foreign = foreign
        self.morph = pymorphy3.MorphAnalyzer()
        # Brand talk repeats its words: each distinct word is resolved once.
        self.valence = functools.lru_cache(maxsize=200_000)(self._valence)

    def _valence(self, word: str) -> tuple[str, float]:
        """The word itself, else the first of its lemmas in the lexicon ("плохо" is an adverb
        and a short adjective: either lemma may carry the sentiment), else its likeliest lemma."""
        if word in self.lexicon:
            return word, self.lexicon[word]
        if word.isascii():
            return self.foreign.valence(word) if self.foreign else (word, 0.0)
        variants = unstretched(word)
        if variants:  # "ужаааас", "оооочень": the variant the dictionary knows
            known = [v for v in variants if v in self.lexicon or self.morph.word_is_known(v)]
            return self._valence(known[0] if known else variants[-1])
        lemmas = [parse.normal_form for parse in self.morph.parse(word)]
        for lemma in lemmas:
            if lemma in self.lexicon:
                return lemma, self.lexicon[lemma]
        return lemmas[0], 0.0


def russian_engine(foreign: Vocabulary | None = None) -> RuleEngine:
    return RuleEngine(TOKENS, RussianVocabulary(foreign), RULES)
