"""Validation of the business events: visit, conversion, ad_metrics and the brand's currency."""

from __future__ import annotations

import json

import pytest

from smm_pulse.streams.events import AdMetrics, Conversion, Declared, Visit, parse_message

NOW = 1_800_000_000.0
CURRENCY = {"acme": "RUB", "globex": "USD"}


def parse(value: object):
    declared = Declared(CURRENCY.__contains__, currency=CURRENCY.__getitem__)
    return parse_message(json.dumps(value).encode(), declared, NOW)


def event(type_: str, **fields: object) -> dict:
    return {"type": type_, "event_id": "e1", "ts": NOW, "platform": "vk", "brand": "acme",
            **fields}


AD = {"account": "cabinet", "ad_id": "a1"}


def test_a_visit_defaults_to_a_returning_visitor_who_did_not_bounce():
    [visit] = parse(event("visit")).accepted
    assert isinstance(visit, Visit)
    assert (visit.bounced, visit.new_visitor, visit.duration_seconds) == (False, False, None)


def test_business_events_in_the_brands_currency_or_without_one_are_accepted():
    parsed = parse([event("conversion", kind="purchase", value=10.5, currency="RUB"),
                    event("conversion", event_id="e2", kind="lead"),
                    event("ad_metrics", event_id="e3", spend=3.25, currency="RUB", clicks=4,
                          **AD),
                    event("ad_metrics", event_id="e4", brand="globex", spend=1, currency="USD",
                          **AD)])
    assert parsed.rejected == []
    assert [type(e) for e in parsed.accepted] == [Conversion, Conversion, AdMetrics, AdMetrics]


def test_another_currency_than_the_brands_is_rejected_alone_as_currency_mismatch():
    parsed = parse([event("conversion", kind="purchase", value=10, currency="USD"),
                    event("visit", event_id="e2"),
                    event("ad_metrics", event_id="e3", spend=1, currency="EUR", **AD)])
    assert [type(e) for e in parsed.accepted] == [Visit]
    assert [(r.reason, r.index, r.field, r.event_type) for r in parsed.rejected] == [
        ("currency_mismatch", 0, "currency", "conversion"),
        ("currency_mismatch", 2, "currency", "ad_metrics")]


def test_a_single_event_in_a_foreign_currency_is_rejected_too():
    [rejection] = parse(event("conversion", kind="lead", currency="USD")).rejected
    assert (rejection.reason, rejection.index) == ("currency_mismatch", None)


@pytest.mark.parametrize(("kind", "fields", "field"), [
    ("visit", {"duration_seconds": -1}, "duration_seconds"),
    ("visit", {"pages": 0}, "pages"),
    ("visit", {"bounced": 1}, "bounced"),
    ("visit", {"campaign": "c" * 129}, "campaign"),
    ("conversion", {"kind": "refund"}, "kind"),
    ("conversion", {"kind": "lead", "value": -0.01}, "value"),
    ("conversion", {"kind": "lead", "currency": "rub"}, "currency"),
    ("conversion", {"kind": "lead", "currency": "RUB\n"}, "currency"),
    ("conversion", {"kind": "lead", "currency": "RUBL"}, "currency"),
    ("ad_metrics", {**AD, "clicks": 10**12 + 1}, "clicks"),
    ("ad_metrics", {**AD, "impressions": -1}, "impressions"),
    ("ad_metrics", {**AD, "spend": 10**12 + 1}, "spend"),
    ("ad_metrics", {"account": "cabinet", "ad_id": "a" * 129}, "ad_id"),
    ("ad_metrics", {"account": "", "ad_id": "a1"}, "account"),
])
def test_business_fields_out_of_their_bounds_are_invalid(kind, fields, field):
    [rejection] = parse(event(kind, **fields)).rejected
    assert (rejection.reason, rejection.field, rejection.event_type) == (
        "invalid_field", field, kind)


@pytest.mark.parametrize(("kind", "fields", "field"), [
    ("conversion", {}, "kind"),
    ("ad_metrics", {"account": "cabinet"}, "ad_id"),
])
def test_required_business_fields_are_required(kind, fields, field):
    [rejection] = parse(event(kind, **fields)).rejected
    assert (rejection.reason, rejection.field) == ("missing_field", field)
