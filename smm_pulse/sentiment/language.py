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


def script_counts(text: str) -> tuple[int, int]:
    """(Cyrillic letters, Latin letters) in ``text``."""
    return len(_CYRILLIC.findall(text)), len(_LATIN.findall(text))


def detect(text: str, hint: str | None = None, counts: tuple[int, int] | None = None) -> str:
    """``counts``: the text's ``script_counts`` when the caller has them already."""
    if hint in SUPPORTED:
        return hint  # type: ignore[return-value]
    cyrillic, latin = counts or script_counts(text)
    return "ru" if cyrillic > latin else "en"
