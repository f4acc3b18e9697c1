"""The JSON API's paths of a brand: any declared name, URL-encoded in one path segment.

Kept apart from the routes so that what links to them (alert annotations) needs
no worker.
"""

from __future__ import annotations

from urllib.parse import quote, unquote

from smm_pulse.config import normalize_brand

KPIS_PREFIX = "/api/kpis/"


def kpis_path(brand: str) -> str:
    """The API path of a brand: every character but letters, digits and ``_.-~`` escaped.

    The brands "." and ".." are escaped whole, as clients resolve those segments
    (``/api/kpis/..`` is ``/api/``); clients that also resolve ``%2E`` (aiohttp's,
    browsers) cannot ask for them at all.
    """
    segment = quote(brand, safe="")
    return KPIS_PREFIX + (segment.replace(".", "%2E") if brand in (".", "..") else segment)


def brand_from_path(raw_path: str, prefix: str = KPIS_PREFIX) -> str | None:
    """The brand a raw (still URL-encoded) ``kpis_path`` names, decoded once.

    None when the escapes do not decode as UTF-8. Read from the raw path, not
    from aiohttp's route parameter: that one matches no ``{`` or ``}``, and
    which escapes it has already decoded depends on aiohttp's version (a second
    decoding made ``100%2525`` name ``100%``).
    """
    try:
        name = unquote(raw_path.removeprefix(prefix), errors="strict")
    except UnicodeDecodeError:
        return None
    return normalize_brand(name)


BRANDS_PREFIX = "/api/brands/"


def ranking_path(brand: str, ranking: str) -> str:
    """The path of a brand's ranking, the brand escaped as ``kpis_path`` does."""
    return f"{BRANDS_PREFIX}{kpis_path(brand).removeprefix(KPIS_PREFIX)}/{ranking}"
