from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from schemas.api import parse_booking, parse_create_show
from schemas.commands import CreateShow, RequestBooking, decode_command, encode_command
from schemas.events import decode_event
from schemas.layout import Layout, Section
from schemas.validation import SchemaError


def test_commands_round_trip():
    layout = Layout((Section("A", 2, 3, 100),))
    create = CreateShow(command_id="c1", show_id="s1", issued_at="2026-11-25T12:00:00.000Z", title="t",
                        venue="v", starts_at=datetime(2027, 1, 1, tzinfo=UTC), hold_seconds=60, layout=layout)
    assert decode_command(encode_command(create), b"s1") == create
    request = RequestBooking(command_id="c2", show_id="s1", issued_at="2026-11-25T12:00:00Z", booking_id="b1",
                             request_id="r1", customer_id="alice", email="a@x", phone=None, seats=None, quantity=2)
    assert decode_command(encode_command(request)) == request


@pytest.mark.parametrize(("raw", "path"), [
    (b"not json", "$"),
    (b"[]", "$"),
    (b'{"type": "Nope"}', "$.type"),
    (b'{"type": "ExpireBooking", "command_id": "c", "show_id": "s", "issued_at": "yesterday", '
     b'"booking_id": "b"}', "$.issued_at"),
    (b'{"type": "ExpireBooking", "command_id": "c", "show_id": "s", "issued_at": "2026-01-01T00:00:00Z"}',
     "$.booking_id"),
    (b'{"type": "ExpireBooking", "command_id": "c", "show_id": "s", "issued_at": "2026-01-01T00:00:00Z", '
     b'"booking_id": "b", "x": 1}', "$.x"),
])
def test_invalid_commands_name_the_path(raw, path):
    with pytest.raises(SchemaError) as info:
        decode_command(raw)
    assert info.value.path == path


def test_key_must_match_show():
    raw = orjson.dumps({"type": "ExpireBooking", "command_id": "c", "show_id": "s", "issued_at":
                        "2026-01-01T00:00:00Z", "booking_id": "b"})
    with pytest.raises(SchemaError):
        decode_command(raw, b"other")


def test_booking_body_rules():
    assert parse_booking({"quantity": 3}).quantity == 3
    assert parse_booking({"seats": ["A-1-1"]}).seats == ["A-1-1"]
    for bad in [{"quantity": 0}, {"seats": []}, {"seats": ["a"] * 11}, {"quantity": 1, "seats": ["a"]}, {}]:
        with pytest.raises(SchemaError):
            parse_booking(bad)


def test_show_body_limits_seats_in_all():
    body = {"title": "t", "venue": "v", "starts_at": "2027-01-01T00:00:00+01:00",
            "sections": [{"name": "A", "rows": 200, "seats_per_row": 200, "price_cents": 0},
                         {"name": "B", "rows": 200, "seats_per_row": 200, "price_cents": 0}]}
    parsed = parse_create_show(body)
    assert parsed.hold_seconds == 120
    assert parsed.starts_at == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    body["sections"].append({"name": "C", "rows": 200, "seats_per_row": 200, "price_cents": 0})
    with pytest.raises(SchemaError, match="at most 100000 seats"):
        parse_create_show(body)


def test_layout_contains():
    layout = Layout((Section("A", 2, 3, 1),))
    assert layout.contains("A-2-3")
    for sid in ["A-3-1", "A-0-1", "A-1-4", "A-01-1", "B-1-1", "A-1", "A-1-1-1", "A-x-1", ""]:
        assert not layout.contains(sid), sid


def test_events_need_their_fields():
    with pytest.raises(SchemaError, match="seats"):
        decode_event(orjson.dumps({"type": "BookingPending", "event_id": "e", "show_id": "s", "show_version": 2,
                                   "occurred_at": "x", "booking_id": "b", "customer_id": "c"}))
