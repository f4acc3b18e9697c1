"""English: VADER's lexicon, negators and intensifiers (they ship in ``vaderSentiment``), words
of brand and service talk, and the shared rules of ``engine.py``."""

from __future__ import annotations

import functools
import re

from vaderSentiment import vaderSentiment as vader

from smm_pulse.sentiment.engine import SENTENCE_BREAK, RuleEngine, Rules, unstretched

# Customer-service and product words VADER lacks or weighs for other genres (-4..4).
BRAND_TALK = {
    "refund": -0.8, "refunded": 1.0, "overcharged": -2.5, "overcharge": -2.5, "scam": -3.0,
    "scammed": -3.2, "ripoff": -3.0, "rip-off": -3.0, "unresponsive": -2.2, "outage": -2.2,
    "outages": -2.2, "glitch": -1.8, "glitchy": -2.0, "buggy": -2.0, "laggy": -2.0,
    "lag": -1.2, "crashes": -2.0, "crashing": -2.2, "crashed": -2.0, "delayed": -1.5,
    "delay": -1.2, "cancelled": -1.2, "canceled": -1.2, "unusable": -2.8, "useless": -2.5,
    "disconnected": -1.5, "overpriced": -2.2, "waiting": -0.6, "hold": -0.3, "fees": -0.8,
    "hidden": -0.5, "unsubscribe": -1.0, "spam": -2.0, "downtime": -2.0, "unreliable": -2.3,
    "seamless": 2.0, "smooth": 1.5, "responsive": 1.5, "resolved": 1.5, "sorted": 1.0,
    "fixed": 1.0, "recommend": 1.8, "recommended": 1.8, "reliable": 1.8, "affordable": 1.5,
    "fast": 1.0, "quick": 1.0, "quickly": 1.0, "efficient": 1.8, "professional": 1.5,
    "courteous": 2.0, "polite": 1.8, "lifesaver": 2.5, "flawless": 2.8,
    # Departments and requests, not judgements: "customer support", "please fix it".
    "support": 0.0, "care": 0.0, "help": 0.0, "please": 0.0,
}
# "not" + word: what the pair means in brand talk.
NOT_PHRASES = {
    **dict.fromkeys(("work", "works", "working", "worked"), -2.0),
    **dict.fromkeys(("respond", "responding", "responded", "answer", "answering",
                     "answered", "reply", "replied", "help", "helping", "helped"), -2.0),
    **dict.fromkeys(("recommend", "buy", "use"), -2.5),
    **dict.fromkeys(("load", "loading", "open", "opening", "arrive", "arrived",
                     "deliver", "delivered", "fix", "fixed", "resolved", "refund",
                     "refunded", "received", "get", "got"), -1.5),
    # "no reply", "no signal": what a customer lacks.
    **dict.fromkeys(("response", "signal", "service", "connection",
                     "internet", "access", "update"), -1.5),
    "again": -2.0,  # "never again"
    "wait": 2.0,  # "can't wait": eager
}
# "like" is a verb of liking after its subject or an adverb; elsewhere it compares ("looks
# like", "like a").
LIKERS = frozenset({"i", "we", "you", "they", "he", "she", "really", "also", "totally",
                    "just", "still", "do", "did", "does", "actually", "definitely", "to"})
TOKENS = re.compile(rf"[a-zA-Z0-9]+(?:['’][a-zA-Z]+)?(?:-[a-zA-Z0-9]+)*|{SENTENCE_BREAK}")


def _with_curly_apostrophes(words: list[str]) -> frozenset[str]:
    return frozenset(words) | {word.replace("'", "’") for word in words}


RULES = Rules(
    negators=_with_curly_apostrophes([*vader.NEGATE, "no"]),
    boosters=vader.BOOSTER_DICT, contrasts=frozenset({"but", "however"}),
    negated_phrases=NOT_PHRASES,
    waiting_counts=frozenset({"second", "third", "fourth", "fifth", "several", "another"}),
    waiting_units=frozenset({"day", "days", "week", "weeks", "month", "months", "time"}),
    only_after={"like": LIKERS}, names_have_no_sentiment=True)


class EnglishVocabulary:
    def __init__(self) -> None:
        self.lexicon = {**vader.SentimentIntensityAnalyzer().lexicon, **BRAND_TALK}
        # Social text repeats its words: each distinct word is resolved once.
        self.valence = functools.lru_cache(maxsize=200_000)(self._valence)

    def _valence(self, word: str) -> tuple[str, float]:
        """The word, else the word with stretched letters shortened ("sooo goood")."""
        if word in self.lexicon:
            return word, self.lexicon[word]
        variants = unstretched(word)
        for variant in variants:
            if variant in self.lexicon:
                return variant, self.lexicon[variant]
        return (variants[-1] if variants else word), 0.0


def english_engine() -> RuleEngine:
    return RuleEngine(TOKENS, EnglishVocabulary(), RULES)
