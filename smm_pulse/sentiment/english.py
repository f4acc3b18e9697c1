"""English: VADER (its lexicon ships in the package) with words of brand and service talk."""

from __future__ import annotations

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

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
}


class EnglishScorer:
    def __init__(self) -> None:
        self.vader = SentimentIntensityAnalyzer()
        self.vader.lexicon.update(BRAND_TALK)

    @property
    def lexicon(self) -> dict[str, float]:
        return self.vader.lexicon

    def score(self, text: str) -> float:
        return float(self.vader.polarity_scores(text)["compound"])
