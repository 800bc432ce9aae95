"""PostgreSQL at least privilege (stack/lib/postgres.sh): every TCP connection proves a password (SCRAM), the
services' role reads and writes rows and can change nothing else, the schema belongs to the owner role the
migrations run as, and the passwords live in per-stack files only their owner can read."""

from __future__ import annotations

import stat
from urllib.parse import urlsplit

import asyncpg
import pytest

from runtime.clients import owner_dsn, pg_connect


@pytest.fixture
async def app(settings):
    conn = await pg_connect(settings)  # as the services connect
    yield conn
    await conn.close()


async def test_a_connection_without_the_password_is_refused(settings):
    with pytest.raises((asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError)):
        await asyncpg.connect(settings.pg_dsn, passfile="/nonexistent", password=None)
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(settings.pg_dsn, password="guessed")


async def test_the_services_role_is_no_superuser_and_owns_nothing(app, settings):
    role = await app.fetchrow(
        "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls FROM pg_roles"
        " WHERE rolname = current_user"
    )
    assert role["rolname"] == "boxoffice"
    assert not any(role[k] for k in ("rolsuper", "rolcreaterole", "rolcreatedb", "rolreplication", "rolbypassrls"))
    owned = await app.fetchval(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = current_user"
    )
    assert owned == 0
    assert await app.fetchval("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()") == (
        settings.pg_owner_user
    )


async def test_the_services_role_reads_and_writes_rows_and_nothing_more(app):
    assert await app.fetchval("SELECT has_table_privilege('bookings', 'SELECT, INSERT, UPDATE, DELETE')") is True
    for ddl in (
        "CREATE TABLE intruder (id int)",
        "ALTER TABLE bookings ADD COLUMN intruder int",
        "DROP TABLE outbox",
        "TRUNCATE bookings",
        "CREATE ROLE intruder",
        "CREATE DATABASE intruder",
        "ALTER ROLE boxoffice SUPERUSER",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app.execute(ddl)


async def test_the_owner_runs_migrations_and_is_no_superuser(settings):
    conn = await pg_connect(settings, owner_dsn(settings))
    try:
        assert await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user") is False
        assert await conn.fetchval("SELECT tableowner FROM pg_tables WHERE tablename = 'bookings'") == (
            settings.pg_owner_user
        )
    finally:
        await conn.close()


def test_the_passwords_are_files_only_their_owner_reads(settings):
    assert settings.pg_passfile is not None, "the stack writes <stack dir>/secrets/pgpass"
    directory = settings.pg_passfile.parent
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for path in directory.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert all(urlsplit(dsn).password is None for dsn in settings.pg_shard_dsns)  # never in a DSN
