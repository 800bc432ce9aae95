"""Tickets (signed codes) and check-in decisions: pure code, no Kafka, no PostgreSQL."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from booking_processor.undecidable import Undecidable
from intake.tickets import TicketKeys
from schemas import events as ev
from schemas.commands import CancelBooking, CheckIn, ConfirmBooking, checked_encoding
from schemas.tickets import InvalidTicket, Ticket, parse, ticket_id, verify
from tests.unit.test_decide import T0, _batch, _create, _request

KEYS = TicketKeys(Ed25519PrivateKey.from_private_bytes(bytes(range(32))))


def test_a_code_verifies_with_its_show_s_key_only_and_never_when_altered():
    code = KEYS.sign("sh_1", "bk_1", "A-1-2")
    assert code == KEYS.sign("sh_1", "bk_1", "A-1-2")  # deterministic: a replay or another intake signs the same
    assert KEYS.verify(code) == Ticket("sh_1", "bk_1", "A-1-2")
    other_show = KEYS.signing("sh_2").public_key()
    with pytest.raises(InvalidTicket, match="signature"):
        verify(other_show, code)
    version, payload, signature = code.split(".")
    forged = base64.urlsafe_b64encode(b"sh_1\nbk_1\nA-1-3").rstrip(b"=").decode()  # another seat, same signature
    with pytest.raises(InvalidTicket, match="signature"):
        KEYS.verify(f"{version}.{forged}.{signature}")
    with pytest.raises(InvalidTicket, match="signature"):
        KEYS.verify(f"{version}.{payload}.{signature[:-2]}AA")
    other_master = TicketKeys(Ed25519PrivateKey.from_private_bytes(bytes(32)))
    with pytest.raises(InvalidTicket, match="signature"):
        other_master.verify(code)  # a code of another stack


@pytest.mark.parametrize(
    "code",
    ["", "BX1", "BX2.a.b", "BX1.a.b.c", "BX1.!!!.sig", "BX1." + "A" * 600, "BX1.c2hfMQ.sig"],  # the last: one field
)
def test_malformed_codes_are_invalid_with_a_reason(code):
    with pytest.raises(InvalidTicket):
        parse(code)


def test_each_show_has_its_own_public_key():
    assert KEYS.public_key("sh_1") != KEYS.public_key("sh_2")
    assert KEYS.public_key("sh_1") == KEYS.public_key("sh_1")


def _confirmed_booking():
    batch = _batch()
    _create(batch)
    batch.decide(_request(1, seats=["A-1-1", "A-1-2"]))
    batch.decide(
        ConfirmBooking(
            command_id="cf", show_id="s", issued_at=T0, booking_id="b1", customer_id="cust1", payment_reference="p"
        )
    )
    return batch


def _scan(n: int, seat: str = "A-1-1", booking: str = "b1", gate: str = "north", ticket: str | None = None) -> CheckIn:
    return CheckIn(
        command_id=f"ci_{n}",
        show_id="s",
        issued_at=T0,
        ticket_id=ticket or ticket_id(booking, seat),
        booking_id=booking,
        seat=seat,
        gate=gate,
        scanner_id="gatekeeper",
    )


def _answers(batch) -> list[ev.TicketCheckedIn]:
    return [e for e in batch.events if isinstance(e, ev.TicketCheckedIn)]


def test_the_first_scan_admits_and_every_later_one_is_already_used_with_when_and_where():
    batch = _confirmed_booking()
    for n in range(20):
        batch.decide(_scan(n, gate="north" if n % 2 else "south"))
    answers = _answers(batch)
    assert [a.result for a in answers] == ["admitted"] + ["already_used"] * 19
    assert {(a.checked_in_at, a.checked_in_gate) for a in answers} == {(T0, "south")}
    assert len(batch.new_checkins) == 1
    # the other seat of the booking is a ticket of its own
    batch.decide(_scan(99, seat="A-1-2"))
    assert _answers(batch)[-1].result == "admitted"
    versions = [e.show_version for e in batch.events]
    assert versions == list(range(1, len(versions) + 1))  # each answer is a version of the show


def test_a_redelivered_admitting_scan_gets_the_same_answer():
    batch = _confirmed_booking()
    batch.decide(_scan(1))
    batch.decide(_scan(1))
    assert [a.result for a in _answers(batch)] == ["admitted", "admitted"]
    assert [a.admits for a in _answers(batch)] == [True, False]  # the door counts the ticket once
    assert len(batch.new_checkins) == 1


def test_a_cancelled_booking_s_tickets_are_revoked_and_unknown_ones_invalid():
    batch = _confirmed_booking()
    batch.decide(CancelBooking(command_id="cx", show_id="s", issued_at=T0, booking_id="b1", customer_id="cust1"))
    batch.decide(_scan(1))
    batch.decide(_scan(2, seat="A-2-1"))  # a seat not in the booking
    batch.decide(_scan(3, booking="b9"))  # no such booking
    batch.decide(_scan(4, ticket="tk_" + "0" * 24))  # a ticket id that is not the seat's
    results = [(a.result, a.booking_status) for a in _answers(batch)]
    assert results == [("revoked", "CANCELLED"), ("invalid", None), ("invalid", None), ("invalid", None)]
    assert not batch.new_checkins


def test_a_pending_hold_is_no_ticket():
    batch = _batch()
    _create(batch)
    batch.decide(_request(1, seats=["A-1-1"]))
    batch.decide(_scan(1))
    assert _answers(batch)[-1].result == "revoked"


def test_an_admission_loaded_from_the_database_counts():
    batch = _confirmed_booking()
    batch.decide(_scan(1))
    later = _batch(T0 + timedelta(minutes=5))
    later.shows, later.bookings, later.checkins = batch.shows, batch.bookings, dict(batch.checkins)
    later.decide(_scan(2, gate="east"))
    (answer,) = _answers(later)
    assert (answer.result, answer.checked_in_gate, answer.checked_in_at) == ("already_used", "north", T0)
    assert not later.new_checkins


def test_an_undecidable_scan_is_answered_invalid():
    batch = _confirmed_booking()
    batch.decide(Undecidable.from_command(_scan(7), "DataError"))
    (answer,) = _answers(batch)
    assert (answer.checkin_id, answer.result) == ("ci_7", "invalid")


def test_a_scan_command_survives_its_own_encoding():
    assert checked_encoding(_scan(1))
