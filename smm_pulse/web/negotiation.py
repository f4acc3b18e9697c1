"""Content negotiation: the q-values of ``Accept`` and ``Accept-Encoding`` headers.

One reading of q for both headers: a missing q is 1; a q that is not a number
is 0 (a malformed preference is no preference for that item); numbers are
clamped to 0..1.
"""

from __future__ import annotations

from collections.abc import Iterator

GZIP_CODINGS = ("gzip", "x-gzip")


def media_quality(media_type: str, accept: str) -> float:
    """The q-value ``accept`` gives ``media_type``: from its most specific matching range."""
    kind = media_type.split("/")[0]
    best, specificity = 0.0, -1
    for media, q in _items(accept):
        rank = 2 if media == media_type else 1 if media == f"{kind}/*" else \
            0 if media == "*/*" else -1
        if rank > specificity:
            best, specificity = q, rank
    return best


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header names gzip with a q above 0.

    Only a named gzip counts: ``*`` alone gets the identity body, which every
    client reads.
    """
    return any(q > 0 for coding, q in _items(accept_encoding) if coding in GZIP_CODINGS)


def _items(header: str) -> Iterator[tuple[str, float]]:
    """(lower-cased item, q) of each comma-separated item of a header."""
    for item in header.split(","):
        name, *params = (part.strip() for part in item.split(";"))
        if name:
            yield name.lower(), _q(params)


def _q(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return min(1.0, max(0.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0
