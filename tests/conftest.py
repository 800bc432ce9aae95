"""Fixtures over the real test stack (make test starts it: Kafka, PostgreSQL, Redis on test ports)."""

from __future__ import annotations

import os
import secrets

import pytest

# One signing secret for the whole session, inherited by every process the tests start.
os.environ.setdefault("BOXOFFICE_AUTH_SECRET", secrets.token_urlsafe(32))
os.environ.setdefault("BOXOFFICE_LOG_LEVEL", "info")

from runtime.clients import pg_pool, redis_client
from runtime.settings import Settings
from tests.support.shards import AllShards


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings.from_env()


@pytest.fixture(scope="session")
async def pg(settings):
    """Every shard's primary at once (tests/support/shards.py), with the shard map as the stack has it."""
    shards = AllShards([await pg_pool(settings, dsn=dsn, size=10, min_size=0) for dsn in settings.pg_shard_dsns])
    await shards.refresh()
    shards.watch()
    yield shards
    await shards.close()


@pytest.fixture(scope="session")
async def redis(settings):
    client = redis_client(settings)
    yield client
    await client.aclose()
