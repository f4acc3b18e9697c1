"""Which scorer reads a text: Russian or English, offline.

Brand mentions here are Russian or English; the letters decide (Cyrillic or
Latin, whichever is more frequent). A collector's ``lang`` hint wins when it
names one of the two; other Cyrillic languages (uk, be, kk) are read by the
Russian scorer, other Latin ones by the English scorer.
"""

from __future__ import annotations

SUPPORTED = ("ru", "en")


def is_cyrillic(char: str) -> bool:
    return "\u0400" <= char <= "\u04ff"


def detect(text: str, hint: str | None = None) -> str:
    if hint in SUPPORTED:
        return hint  # type: ignore[return-value]
    cyrillic = latin = 0
    for char in text:
        if is_cyrillic(char):
            cyrillic += 1
        elif char.isascii() and char.isalpha():
            latin += 1
    return "ru" if cyrillic > latin else "en"
