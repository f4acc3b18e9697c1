"""Signals shared by both languages: emoji, text emoticons, exclamation, normalisation.

Valences use VADER's scale (-4..4); ``normalize`` maps a sum into [-1, 1] as VADER does.
"""

from __future__ import annotations

import math
import re

# Emoji people put in brand talk, by what they say about it.
EMOJI: dict[str, float] = {
    **dict.fromkeys("😀😃😄😁😆😊🙂😇🥰😍😘😻💖💕💗💓💞💘💝❤🧡💛💚💙💜🤍", 2.0),
    **dict.fromkeys("👍👌👏🙌🔥🎉🎊✨💪😎🤗🥳🌹💐⭐🌟🏆💯✅😋😌", 2.0),
    **dict.fromkeys("😂🤣😹😅😜😝😛🤩🙏☺", 1.5),
    **dict.fromkeys("😡😠🤬👿💩🤮🤢👎", -3.0),
    **dict.fromkeys("😤😒🙄😩😫😖😣😞😔😟😕🙁☹😢😥😰😨😱💔😭😪😓🤦🤯🥺😬❌🚫⛔", -2.0),
}

_EMOJI = frozenset(EMOJI)

# Brackets without a partner smile or frown: "спасибо)", ")))", ":-(" , "((("; ":D" too.
_GRIN = re.compile(r"[:;=xXхХ]-?[DРР]\b")
_RUN = re.compile(r"\)+|\(+")
_EXCLAIM = re.compile(r"!+")


def emoticon_valence(text: str) -> float:
    grins = len(_GRIN.findall(text))
    surplus = text.count(")") - text.count("(")
    longest = max((len(run) for run in _RUN.findall(text)), default=0)
    strength = 2.0 if longest >= 3 else 1.0  # a lone ")" is politeness more than praise
    mood = strength if surplus > 0 else -(strength + 0.3) if surplus < 0 else 0.0
    return mood + 1.5 * min(grins, 2)


def emoji_valence(text: str) -> float:
    """The sum over emoji, each kind counted at most twice (a row of hearts is one feeling)."""
    counts = {char: text.count(char) for char in _EMOJI.intersection(text)}
    return sum(EMOJI[char] * min(n, 2) * (0.75 if n > 1 else 1) for char, n in counts.items())


def exclamation_boost(text: str, total: float) -> float:
    """Up to four exclamation marks push the sum further the way it already leans."""
    marks = min(sum(len(m) for m in _EXCLAIM.findall(text)), 4)
    return math.copysign(0.292 * marks, total) if total else 0.0


def normalize(total: float, alpha: float = 15.0) -> float:
    """VADER's mapping of a valence sum into [-1, 1]."""
    return max(-1.0, min(1.0, total / math.sqrt(total * total + alpha)))
