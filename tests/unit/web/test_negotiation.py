import pytest

from smm_pulse.web.negotiation import accepts_gzip, media_quality


@pytest.mark.parametrize("header,accepted", [
    ("gzip", True), ("gzip, deflate", True), ("deflate, GZIP;q=0.5", True), ("x-gzip", True),
    ("", False), ("identity", False), ("deflate, br", False), ("gzip;q=0", False),
    ("gzip; q=0.0", False), ("*", False), ("gzip;q=high", False), ("gzip;q=-1", False),
])
def test_gzip_is_sent_only_to_clients_that_name_it_with_a_q_above_zero(header, accepted):
    assert accepts_gzip(header) is accepted


@pytest.mark.parametrize("accept,q", [
    ("text/html", 1.0),
    ("text/html;q=0.5", 0.5),
    ("text/*;q=0.4, */*;q=0.1", 0.4),  # the most specific range wins
    ("*/*;q=0.2, text/html;q=0.7", 0.7),
    ("application/json", 0.0),
    ("text/html;q=2", 1.0),  # clamped
    ("text/html;q=x", 0.0),  # not a number: no preference for it
    ("TEXT/HTML", 1.0),
])
def test_a_media_type_gets_the_q_of_its_most_specific_range(accept, q):
    assert media_quality("text/html", accept) == q
