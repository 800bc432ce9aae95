"""Migrations on an empty database, re-runs, and the constraints that make overbooking impossible."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import asyncpg
import pytest

from runtime.clients import owner_dsn, pg_connect
from runtime.migrate import load_migrations, migrate


async def _dsn_of(admin: asyncpg.Connection, database: str) -> str:
    """`database` on the very server `admin` is connected to (the shard's primary). Not the shard's multi-host
    DSN: asyncpg tries its hosts in order, and a standby that has not replayed the CREATE DATABASE yet
    answers "does not exist" before the read-write check could send it on to the next host."""
    host, port, user = await admin.fetchrow("SELECT host(inet_server_addr()), inet_server_port(), current_user")
    return f"postgresql://{user}@{host}:{port}/{database}"


@pytest.fixture
async def empty_db(settings):
    name = f"mig_{secrets.token_hex(4)}"
    admin = await pg_connect(settings, owner_dsn(settings))  # the services' role cannot make a database
    await admin.execute(f'CREATE DATABASE "{name}"')
    conn = await asyncpg.connect(await _dsn_of(admin, name))
    yield conn
    await conn.close()
    await admin.execute(f'DROP DATABASE "{name}"')
    await admin.close()


async def test_migrations_apply_to_an_empty_database_and_rerun_is_a_noop(empty_db):
    versions = [m.version for m in load_migrations()]
    assert await migrate(empty_db) == versions
    rows = await empty_db.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    tables = {r["tablename"] for r in rows}
    assert {"shows", "seats", "bookings", "outbox", "consumer_positions", "schema_migrations"} <= tables
    schema_before = await empty_db.fetch(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'public' ORDER BY 1, 2"
    )
    assert await migrate(empty_db) == []
    assert (
        await empty_db.fetch(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' ORDER BY 1, 2"
        )
        == schema_before
    )
    assert [r["version"] for r in await empty_db.fetch("SELECT version FROM schema_migrations ORDER BY 1")] == versions


async def _show(conn, show_id: str, total: int = 2) -> None:
    await conn.execute(
        """INSERT INTO shows (show_id, title, venue, starts_at, hold_seconds, sections, seats_total,
                              seats_available, version, created_at)
           VALUES ($1, 't', 'v', now(), 120, '[]', $2, $2, 1, now())""",
        show_id,
        total,
    )


async def _booking(conn, booking_id: str, show_id: str, request_id: str | None = None) -> None:
    now = datetime.now(UTC)
    await conn.execute(
        """INSERT INTO bookings (booking_id, request_id, show_id, customer_id, status, seats, expires_at,
                                 created_at, updated_at)
           VALUES ($1, $2, $3, 'c', 'PENDING', '{A-1-1}', $4, $4, $4)""",
        booking_id,
        request_id or booking_id,
        show_id,
        now,
    )


async def test_a_seat_cannot_be_in_two_live_bookings(empty_db):
    await migrate(empty_db)
    await _show(empty_db, "s1")
    await _booking(empty_db, "b1", "s1")
    await _booking(empty_db, "b2", "s1")
    await empty_db.execute("INSERT INTO seats VALUES ('s1', 'A-1-1', 'b1', 'HELD')")
    with pytest.raises(asyncpg.UniqueViolationError):
        await empty_db.execute("INSERT INTO seats VALUES ('s1', 'A-1-1', 'b2', 'HELD')")


async def test_availability_never_below_zero(empty_db):
    await migrate(empty_db)
    await _show(empty_db, "s1", total=1)
    await empty_db.execute("UPDATE shows SET seats_available = 0 WHERE show_id = 's1'")
    with pytest.raises(asyncpg.CheckViolationError):
        await empty_db.execute("UPDATE shows SET seats_available = seats_available - 1 WHERE show_id = 's1'")


async def test_a_show_s_currency_defaults_to_eur_and_is_three_capitals(empty_db):
    await migrate(empty_db)
    await _show(empty_db, "s1")
    assert await empty_db.fetchval("SELECT currency FROM shows WHERE show_id = 's1'") == "EUR"
    with pytest.raises(asyncpg.CheckViolationError):
        await empty_db.execute("UPDATE shows SET currency = 'eur' WHERE show_id = 's1'")


async def test_a_show_s_sale_defaults_to_no_window_and_its_fair_start_entries_are_kept_once(empty_db):
    await migrate(empty_db)
    await _show(empty_db, "s1")
    row = await empty_db.fetchrow(
        """SELECT sale_opens_at, sale_closes_at, fair_start_window_s, fair_start_seed, fair_start_drawn
           FROM shows WHERE show_id = 's1'"""
    )
    assert tuple(row) == (None, None, 0, "", False)  # shows of before: on sale from creation to start
    with pytest.raises(asyncpg.CheckViolationError):
        await empty_db.execute("UPDATE shows SET fair_start_window_s = 301 WHERE show_id = 's1'")
    insert = """INSERT INTO fair_start_entries (show_id, booking_id, customer_id, issued_at, command, partition)
                VALUES ($1, 'b1', 'c1', now(), '\\x7b7d', 0) ON CONFLICT DO NOTHING"""
    await empty_db.execute(insert, "s1")
    await empty_db.execute(insert, "s1")  # a redelivered entry: once
    assert await empty_db.fetchval("SELECT count(*) FROM fair_start_entries") == 1
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await empty_db.execute(insert, "no-such-show")


async def test_a_waiting_place_is_one_per_customer_and_show_in_a_line_without_ties(empty_db):
    await migrate(empty_db)
    await _show(empty_db, "s1")
    assert await empty_db.fetchval("SELECT waitlist_offer_seconds FROM shows WHERE show_id = 's1'") == 300
    insert = """INSERT INTO waitlist (show_id, customer_id, seq, quantity, joined_at, partition)
                VALUES ('s1', $1, $2, $3, now(), 0)"""
    await empty_db.execute(insert, "ann", 0, 2)
    with pytest.raises(asyncpg.UniqueViolationError):
        await empty_db.execute(insert, "ann", 1, 2)  # one place per customer
    with pytest.raises(asyncpg.UniqueViolationError):
        await empty_db.execute(insert, "bob", 0, 2)  # one customer per place
    with pytest.raises(asyncpg.CheckViolationError):
        await empty_db.execute(insert, "cat", 2, 11)


async def test_request_id_is_unique(empty_db):
    await migrate(empty_db)
    await _show(empty_db, "s1")
    await _booking(empty_db, "b1", "s1", request_id="r1")
    with pytest.raises(asyncpg.UniqueViolationError):
        await _booking(empty_db, "b2", "s1", request_id="r1")


async def test_concurrent_migrations_wait_for_each_other(empty_db, settings):
    import asyncio

    dsn = await _dsn_of(empty_db, await empty_db.fetchval("SELECT current_database()"))
    conns = [await asyncpg.connect(dsn) for _ in range(3)]
    try:
        results = await asyncio.gather(*[migrate(c) for c in conns])
    finally:
        for c in conns:
            await c.close()
    assert sorted(len(r) for r in results) == [0, 0, len(load_migrations())]
