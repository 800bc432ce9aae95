"""The webhook channel (the seed's SMS): a signed JSON POST per booking event, verifiable by the receiver."""

from __future__ import annotations

import asyncio
import secrets

import msgspec

from notifier.channels import SIGNATURE_HEADER, verify_signature
from tests.support import ids
from tests.support.processes import Service, free_port
from tests.support.waiting import eventually


class Receiver:
    """A real HTTP endpoint on loopback that records what it is sent."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[tuple[dict[str, str], bytes]] = []

    async def __aenter__(self) -> Receiver:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        headers = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.received.append((headers, body))
        writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()


async def test_signed_webhook_per_event(api, system):
    secret = secrets.token_urlsafe(24)
    async with Receiver() as receiver:
        notifier = Service(
            "notifier-webhook",
            "notifier",
            {
                "BOXOFFICE_WEBHOOK_URL": f"http://127.0.0.1:{receiver.port}/sms",
                "BOXOFFICE_WEBHOOK_SECRET": secret,
                "BOXOFFICE_SMTP_PORT": str(free_port()),
                "BOXOFFICE_NOTIFIER_GROUP": f"notifier-webhook-{secrets.token_hex(3)}",
            },
            system.log_dir,
        ).start()
        try:
            show_id = await api.create_show()
            customer = ids.customer("sms")
            booking_id = (await api.book(customer, show_id, quantity=1, phone="+15550100")).json()["booking_id"]
            await api.wait_status(customer, booking_id)

            def mine():
                return [
                    msgspec.json.decode(b)
                    for _, b in receiver.received
                    if msgspec.json.decode(b)["booking_id"] == booking_id
                ]

            await eventually(
                lambda: asyncio.sleep(0, mine()), lambda m: len(m) == 1, timeout=60, what="the webhook of the hold"
            )
        finally:
            notifier.stop()
        headers, body = next((h, b) for h, b in receiver.received if msgspec.json.decode(b)["booking_id"] == booking_id)
        assert verify_signature(secret, body, headers[SIGNATURE_HEADER.lower()])
        assert not verify_signature("another-secret", body, headers[SIGNATURE_HEADER.lower()])
        payload = msgspec.json.decode(body)
        assert (payload["type"], payload["status"], payload["phone"]) == ("BookingPending", "PENDING", "+15550100")
        # Derived from the event, the same for every attempt: a receiver drops a repeat by it.
        assert headers["idempotency-key"] == f"{payload['event_id']}/webhook"
