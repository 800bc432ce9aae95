"""The typed contract: what the intake accepts is exactly what the processor decodes."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from schemas.api import BookingBody, CreateShowBody
from schemas.commands import CreateShow, ExpireBooking, RequestBooking, checked_encoding, decode_command
from schemas.events import decode_event
from schemas.layout import Layout, Section
from schemas.validation import MalformedJson, SchemaError, decode

T0 = datetime(2026, 11, 25, 12, tzinfo=UTC)
BOOKING = msgspec.json.Decoder(BookingBody)
SHOW = msgspec.json.Decoder(CreateShowBody)


def _show_body(**overrides) -> dict:
    body = {
        "title": "t",
        "venue": "v",
        "starts_at": "2027-01-01T00:00:00+01:00",
        "sections": [{"name": "A", "rows": 2, "seats_per_row": 3, "price_cents": 100}],
    }
    return body | overrides


def test_commands_round_trip():
    create = CreateShow(
        command_id="c1",
        show_id="s1",
        issued_at=T0,
        title="t",
        venue="v",
        starts_at=datetime(2027, 1, 1, tzinfo=UTC),
        hold_seconds=60,
        sections=[Section("A", 2, 3, 100)],
    )
    assert decode_command(checked_encoding(create), b"s1") == create
    request = RequestBooking(
        command_id="c2",
        show_id="s1",
        issued_at=T0,
        booking_id="b1",
        request_id="r1",
        customer_id="alice",
        email="a@x.org",
        quantity=2,
    )
    assert decode_command(checked_encoding(request)) == request
    assert create.type == "CreateShow" and request.type == "RequestBooking"


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        (b"[]", "$"),
        (b'{"type": "Nope"}', "$.type"),
        (
            b'{"type": "ExpireBooking", "command_id": "c", "show_id": "s", "issued_at": "yesterday", '
            b'"booking_id": "b"}',
            "$.issued_at",
        ),
        (b'{"type": "ExpireBooking", "command_id": "c", "show_id": "s", "issued_at": "2026-01-01T00:00:00Z"}', "$"),
        (
            b'{"type": "ExpireBooking", "command_id": "c", "show_id": "s", "issued_at": "2026-01-01T00:00:00Z", '
            b'"booking_id": "b", "x": 1}',
            "$",
        ),
    ],
)
def test_invalid_commands_name_the_path(raw, path):
    with pytest.raises(SchemaError) as info:
        decode_command(raw)
    assert info.value.path == path


def test_not_json_is_malformed():
    with pytest.raises(MalformedJson):
        decode_command(b"not json")


def test_key_must_match_show():
    raw = msgspec.json.encode(
        {
            "type": "ExpireBooking",
            "command_id": "c",
            "show_id": "s",
            "issued_at": "2026-01-01T00:00:00Z",
            "booking_id": "b",
        }
    )
    assert isinstance(decode_command(raw, b"s"), ExpireBooking)
    with pytest.raises(SchemaError):
        decode_command(raw, b"other")


def test_booking_body_rules():
    assert decode(b'{"quantity": 3}', BOOKING).quantity_or_none == 3
    assert decode(b'{"seats": ["A-1-1"]}', BOOKING).seat_list == ["A-1-1"]
    for bad in [
        {"quantity": 0},
        {"seats": []},
        {"seats": ["A-1-1"] * 2},
        {"seats": [f"A-1-{i}" for i in range(1, 12)]},
        {"quantity": 1, "seats": ["A-1-1"]},
        {},
        {"quantity": True},
        {"quantity": 2.0},
        {"seats": None},
    ]:
        with pytest.raises(SchemaError):
            decode(msgspec.json.encode(bad), BOOKING)


@pytest.mark.parametrize(
    "seat",
    [
        "A-\u00b9-1",  # superscript one: a digit to str.isdigit, not to the contract
        "A-\u0661-1",  # Arabic-Indic one
        "A-\uff11-1",  # fullwidth one
        "A-01-1",
        "A-0-1",
        "A-1-1\n",
        "A-1-1 ",
        "A--1-1",
        "A-1000-1",
        "\x00-1-1",
        "",
    ],
)
def test_seat_ids_are_ascii_and_canonical(seat):
    with pytest.raises(SchemaError):
        decode(msgspec.json.encode({"seats": [seat]}), BOOKING)


@pytest.mark.parametrize("field", ["title", "venue"])
@pytest.mark.parametrize("value", ["a\x00b", "tab\there", "line\n", "\x7f", "c1\x85", ""])
def test_text_refuses_control_characters(field, value):
    with pytest.raises(SchemaError) as info:
        decode(msgspec.json.encode(_show_body(**{field: value})), SHOW)
    assert info.value.path == f"$.{field}"


@pytest.mark.parametrize(
    "starts_at",
    [
        "0001-01-01T00:00:00+01:00",  # year 0 in UTC
        "9999-12-31T23:59:59-01:00",  # year 10000 in UTC
        "2027-01-01T00:00:00",  # no offset
        "2027-13-01T00:00:00Z",
        "yesterday",
        1700000000,
    ],
)
def test_times_within_years_1_to_9999_in_utc(starts_at):
    with pytest.raises(SchemaError):
        decode(msgspec.json.encode(_show_body(starts_at=starts_at)), SHOW)


def test_times_are_normalised_to_utc():
    body = decode(msgspec.json.encode(_show_body(starts_at="0001-01-01T01:00:00+01:00")), SHOW)
    assert body.starts_at == datetime(1, 1, 1, tzinfo=UTC)
    assert decode(msgspec.json.encode(_show_body()), SHOW).starts_at == datetime(2026, 12, 31, 23, tzinfo=UTC)


def test_show_body_limits_seats_in_all_and_unique_names():
    big = {"rows": 200, "seats_per_row": 200, "price_cents": 0}
    body = decode(msgspec.json.encode(_show_body(sections=[{"name": "A", **big}, {"name": "B", **big}])), SHOW)
    assert body.hold_seconds == 120
    with pytest.raises(SchemaError, match="at most 100000 seats"):
        decode(msgspec.json.encode(_show_body(sections=[{"name": n, **big} for n in "ABC"])), SHOW)
    with pytest.raises(SchemaError, match="duplicate section name"):
        decode(msgspec.json.encode(_show_body(sections=[{"name": "A", **big}, {"name": "A", **big}])), SHOW)
    with pytest.raises(SchemaError):
        decode(msgspec.json.encode(_show_body(sections=[{"name": "A", **big, "price_cents": 10**9 + 1}])), SHOW)


def test_layout_contains():
    layout = Layout((Section("A", 2, 3, 1),))
    assert layout.contains("A-2-3")
    for sid in ["A-3-1", "A-0-1", "A-1-4", "A-01-1", "B-1-1", "A-1", "A-1-1-1", "A-x-1", "", "A-\u00b9-1"]:
        assert not layout.contains(sid), sid


def test_events_need_their_fields():
    with pytest.raises(SchemaError, match="seats"):
        decode_event(
            msgspec.json.encode(
                {
                    "type": "BookingPending",
                    "event_id": "e",
                    "show_id": "s",
                    "show_version": 2,
                    "occurred_at": "2026-01-01T00:00:00Z",
                    "booking_id": "b",
                    "customer_id": "c",
                    "status": "PENDING",
                    "created_at": "2026-01-01T00:00:00Z",
                    "updated_at": "2026-01-01T00:00:00Z",
                }
            )
        )


def test_events_tolerate_fields_they_do_not_know():
    event = decode_event(
        msgspec.json.encode(
            {
                "type": "ShowRejected",
                "event_id": "s/rejected",
                "show_id": "s",
                "show_version": 0,
                "occurred_at": "2026-01-01T00:00:00Z",
                "reason": "invalid_request",
                "added_later": 1,
            }
        )
    )
    assert event.reason == "invalid_request"


def test_the_show_s_fields_are_one_shape_everywhere_they_travel():
    """A show's own fields are declared by the body that creates it; the view, the event, the projection's
    document and the processor's state carry each of them under the same name (msgspec has no multiple
    inheritance, and the event's flat wire format is kept forever for replays, so this is checked here)."""
    import dataclasses

    from booking_processor.decide import ShowState
    from projections.apply import ShowDoc
    from schemas.api import CreateShowBody, ShowView
    from schemas.events import ShowCreated

    details = set(CreateShowBody.__struct_fields__) - {"idempotency_key"}
    assert details == {
        "title",
        "venue",
        "starts_at",
        "hold_seconds",
        "sections",
        "max_seats_per_customer",
        "max_hold_extensions",
        "currency",
        "sale_opens_at",
        "sale_closes_at",
        "fair_start_window_s",
        "waitlist_offer_seconds",
        "cancellable_until_hours",
        "refund_percent",
    }
    for carrier in (ShowView, ShowCreated, ShowDoc):
        assert details <= set(carrier.__struct_fields__), carrier
    state = {f.name for f in dataclasses.fields(ShowState)}
    assert details - {"sections"} <= state and "layout" in state  # the state keeps the sections as its layout
