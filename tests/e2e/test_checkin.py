"""Tickets and check-in end to end: a CONFIRMED booking's signed codes, admitted once at the door however many
gates scan them at the same moment, revoked once cancelled, refused when forged."""

from __future__ import annotations

import asyncio
import base64

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from schemas.tickets import verify
from tests.support import ids


async def _confirmed(api, customer: str, seats: list[str]) -> tuple[str, str]:
    show_id = await api.create_show(
        [
            {"name": "A", "rows": 2, "seats_per_row": 5, "price_cents": 2500},
            {"name": "B", "rows": 1, "seats_per_row": 2, "price_cents": 1000},
        ]
    )
    booking_id = (await api.book(customer, show_id, seats=seats)).json()["booking_id"]
    assert (await api.wait_status(customer, booking_id))["status"] == "PENDING"
    r = await api.http.post(
        f"/v1/bookings/{booking_id}/confirm", json={"payment_reference": "p"}, headers=api.auth(customer)
    )
    assert r.status_code == 202, r.text
    await api.wait_status(customer, booking_id, {"CONFIRMED"})
    return show_id, booking_id


async def _tickets(api, customer: str, booking_id: str) -> dict:
    r = await api.http.get(f"/v1/bookings/{booking_id}/tickets", headers=api.auth(customer))
    assert r.status_code == 200, r.text
    return r.json()


async def _scan(api, code: str, gate: str, scanner: str = "gate-keeper") -> dict:
    r = await api.http.post("/v1/checkins", json={"code": code, "gate": gate}, headers=api.auth(scanner, "scanner"))
    assert r.status_code == 200, r.text
    return r.json()


async def test_twenty_concurrent_scans_at_two_gates_admit_a_ticket_exactly_once(api):
    alice = ids.customer("alice")
    show_id, booking_id = await _confirmed(api, alice, ["A-1-1", "A-1-2"])
    tickets = await _tickets(api, alice, booking_id)
    assert [t["seat"] for t in tickets["tickets"]] == ["A-1-1", "A-1-2"] and tickets["status"] == "CONFIRMED"
    code = tickets["tickets"][0]["code"]

    # A scanner offline verifies the code with the show's published key.
    key = (await api.http.get(f"/v1/shows/{show_id}/ticket-key")).json()
    raw = base64.urlsafe_b64decode(key["public_key"] + "=" * (-len(key["public_key"]) % 4))
    assert verify(Ed25519PublicKey.from_public_bytes(raw), code).seat == "A-1-1"

    answers = await asyncio.gather(
        *(_scan(api, code, "north" if n % 2 else "south", scanner=f"scanner-{n % 2}") for n in range(20))
    )
    assert all(a["status"] == "DECIDED" for a in answers), answers
    results = sorted(a["result"] for a in answers)
    assert results == ["admitted"] + ["already_used"] * 19, results
    (admitted,) = [a for a in answers if a["result"] == "admitted"]
    for used in (a for a in answers if a["result"] == "already_used"):
        assert (used["checked_in_at"], used["checked_in_gate"]) == (admitted["checked_in_at"], admitted["gate"])
    # a second scan later still says when and where; the other seat is its own ticket
    again = await _scan(api, code, "east")
    assert (again["result"], again["checked_in_gate"]) == ("already_used", admitted["gate"])
    assert (await _scan(api, tickets["tickets"][1]["code"], "east"))["result"] == "admitted"
    follow = await api.http.get(f"/v1/checkins/{again['checkin_id']}", headers=api.auth("gate-keeper", "scanner"))
    assert follow.status_code == 200 and follow.json()["result"] == "already_used"

    # the admin's show page counts the door
    r = await api.http.get("/v1/admin/shows", params={"limit": 500}, headers=api.auth("ops", "admin"))
    (mine,) = [s for s in r.json()["shows"] if s["show"]["show_id"] == show_id]
    assert mine["checked_in"] == 2 and mine["sold"] == 2
    assert {s["name"]: s.get("checked_in", 0) for s in mine["sections"]} == {"A": 2, "B": 0}  # and per section


async def test_a_cancelled_booking_s_tickets_are_revoked_and_forged_codes_invalid(api):
    bob = ids.customer("bob")
    _, booking_id = await _confirmed(api, bob, ["A-2-1"])
    (ticket,) = (await _tickets(api, bob, booking_id))["tickets"]
    r = await api.http.post(f"/v1/bookings/{booking_id}/cancel", headers=api.auth(bob))
    assert r.status_code == 202
    await api.wait_status(bob, booking_id, {"CANCELLED"})
    assert (await _tickets(api, bob, booking_id))["tickets"] == []
    answer = await _scan(api, ticket["code"], "north")
    assert (answer["result"], answer["booking_status"]) == ("revoked", "CANCELLED")

    version, payload, signature = ticket["code"].split(".")
    other_seat = base64.urlsafe_b64encode(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).replace(b"A-2-1", b"A-2-2")
    )
    forged = await _scan(api, f"{version}.{other_seat.rstrip(b'=').decode()}.{signature}", "north")
    assert forged["result"] == "invalid" and "signature" in forged["reason"]
    assert (await _scan(api, "not a ticket", "north"))["result"] == "invalid"


async def test_only_scanners_and_admins_check_in_and_only_owners_see_tickets(api):
    carol = ids.customer("carol")
    _, booking_id = await _confirmed(api, carol, ["A-1-5"])
    (ticket,) = (await _tickets(api, carol, booking_id))["tickets"]
    r = await api.http.post("/v1/checkins", json={"code": ticket["code"]}, headers=api.auth(carol))
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    r = await api.http.get(f"/v1/bookings/{booking_id}/tickets", headers=api.auth(ids.customer("mallory")))
    assert r.status_code == 404
    r = await api.http.post("/v1/checkins", json={"code": ticket["code"]}, headers=api.auth("ops", "admin"))
    assert r.status_code == 200 and r.json()["result"] == "admitted" and r.json()["gate"] == "main"
