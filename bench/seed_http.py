"""The seed's synchronous design over HTTP, as a fair baseline for the front door (not part of the product):
starlette + asyncpg, the same JWT check as the intake (EdDSA against the stack's JWKS, PyJWT), and per booking
one transaction that locks the show row (`SELECT … FOR UPDATE`), checks, decrements, inserts the booking and
commits — answering 201 once it is committed. Run by `boxoffice bench --only frontdoor` with two uvicorn
workers on the same machine as the stack, on the same PostgreSQL (database `<db>_bench`, tables of
bench/baseline.py).

    python -m bench.seed_http  (BOXOFFICE_SEED_HTTP_PORT, BOXOFFICE_SEED_HTTP_DSN; token keys as the intake's)
"""

from __future__ import annotations

import contextlib
import os

import asyncpg
import msgspec
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from intake.credentials import token_verifier
from runtime.settings import Settings


class _Body(msgspec.Struct, forbid_unknown_fields=True):
    quantity: int


def app() -> Starlette:
    verifier = token_verifier(Settings.from_env(), capacity=1)  # no cache: a token per request
    decode = msgspec.json.Decoder(_Body)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        app.state.pool = await asyncpg.create_pool(os.environ["BOXOFFICE_SEED_HTTP_DSN"], min_size=8, max_size=16)
        yield
        await app.state.pool.close()

    async def book(request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        try:
            principal = verifier.verify(auth.removeprefix("Bearer "))
        except Exception:
            return Response(b'{"error":{"code":"unauthorized"}}', 401, media_type="application/json")
        try:
            body = decode.decode(await request.body())
        except msgspec.DecodeError:
            return Response(b'{"error":{"code":"validation_error"}}', 422, media_type="application/json")
        async with request.app.state.pool.acquire() as conn, conn.transaction():
            available = await conn.fetchval("SELECT available FROM seed_shows WHERE id = 1 FOR UPDATE")
            if available < body.quantity:
                return Response(b'{"status":"REJECTED"}', 200, media_type="application/json")
            await conn.execute("UPDATE seed_shows SET available = available - $1 WHERE id = 1", body.quantity)
            booking = await conn.fetchval(
                "INSERT INTO seed_bookings (show_id, customer, seats) VALUES (1, $1, $2) RETURNING id",
                principal.sub,
                body.quantity,
            )
        return Response(
            msgspec.json.encode({"booking_id": booking, "status": "CONFIRMED"}), 201, media_type="application/json"
        )

    return Starlette(routes=[Route("/book", book, methods=["POST"])], lifespan=lifespan)


if __name__ == "__main__":
    uvicorn.run(
        "bench.seed_http:app",
        factory=True,
        host="127.0.0.1",
        port=int(os.environ.get("BOXOFFICE_SEED_HTTP_PORT", "8090")),
        workers=2,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )
