"""The JSON API names a brand by its URL-encoded name, decoded exactly once."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
from yarl import URL

from smm_pulse.web.paths import KPIS_PREFIX, brand_from_path, kpis_path

# Declared names that URLs treat specially: separators, escapes, template braces,
# spaces, query and fragment marks, non-ASCII and invisible characters.
NAMES = ["acme", "100%", "100%25", "%", "%2F", "a/b", "/", "...", "{x}", "{{ $value }}",
         "sp ace", "a+b", "why?", "#1", "a&b=c", "~._-", "Café ☕", "😀", "\u200f",
         "line\nbreak", 'quote"d', "back\\slash"]


@pytest.mark.parametrize("name", NAMES)
def test_a_brand_path_decodes_to_the_brand(name):
    assert brand_from_path(kpis_path(name)) == name


@pytest.mark.parametrize("name", NAMES)
def test_a_brand_path_is_one_path_segment_with_no_query_or_fragment(name):
    path = kpis_path(name)
    parts = urlsplit(f"http://owner:6066{path}")
    assert parts.path == path and not parts.query and not parts.fragment
    assert "/" not in path.removeprefix(KPIS_PREFIX)


def test_percent_escapes_are_decoded_once():
    assert brand_from_path("/api/kpis/100%2525") == "100%25"
    assert brand_from_path("/api/kpis/100%25") == "100%"
    assert brand_from_path("/api/kpis/a%2Fb") == "a/b"


def test_characters_a_client_left_unescaped_are_taken_as_they_are():
    assert brand_from_path("/api/kpis/{x}") == "{x}"
    assert brand_from_path("/api/kpis/Café") == "Café"


def test_names_are_compared_in_nfc_as_declared_brands_are():
    assert brand_from_path(kpis_path("Cafe\u0301")) == "Caf\u00e9"


def test_escapes_that_are_not_utf8_name_no_brand():
    assert brand_from_path("/api/kpis/%FF") is None


@pytest.mark.parametrize("name", NAMES)
def test_the_redirect_location_reaches_the_owner_as_the_same_brand(name):
    """What aiohttp's and requests' clients send when they follow the Location."""
    location = f"http://owner:6066{kpis_path(name)}"
    assert brand_from_path(URL(location).raw_path) == name
    assert brand_from_path(requests.Request("GET", location).prepare().path_url) == name


@pytest.mark.parametrize("name", [".", ".."])
def test_dot_segment_brands_reach_the_owner_through_clients_that_keep_escapes(name):
    location = f"http://owner:6066{kpis_path(name)}"
    assert brand_from_path(urlsplit(location).path) == name  # curl, http.client
    assert brand_from_path(requests.Request("GET", location).prepare().path_url) == name
