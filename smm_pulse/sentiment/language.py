"""Which scorer reads a text: Russian or English, offline.

Brand mentions here are Russian or English; the letters decide (Cyrillic or
Latin, whichever is more frequent). A collector's ``lang`` hint wins when it
names one of the two; other Cyrillic languages (uk, be, kk) are read by the
Russian scorer, other Latin ones by the English scorer.
"""

from __future__ import annotations

import re

SUPPORTED = ("ru", "en")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[A-Za-z]")


def cyrillic_share(text: str) -> float:
    """Cyrillic letters / all Cyrillic and Latin letters (0 without Cyrillic)."""
    if text.isascii():  # most English mentions: no counting at all
        return 0.0
    cyrillic = len(_CYRILLIC.findall(text))
    return cyrillic / (cyrillic + len(_LATIN.findall(text))) if cyrillic else 0.0


def detect(text: str, hint: str | None = None, share: float | None = None) -> str:
    """``share``: the text's ``cyrillic_share`` when the caller has it already."""
    if hint in SUPPORTED:
        return hint  # type: ignore[return-value]
    return "ru" if (cyrillic_share(text) if share is None else share) > 0.5 else "en"
