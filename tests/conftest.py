"""Fixtures over the real test stack (make test starts it: Kafka, PostgreSQL, Redis on test ports)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from runtime.auth_keys import ensure_stack_keys
from runtime.clients import pg_pool, redis_client
from runtime.settings import STACK_AUTH_FILES, Settings, env_name
from tests.support import service_errors
from tests.support.shards import AllShards

_LOG_SIZES = pytest.StashKey[dict]()


def _session_keys() -> None:
    """One set of token keys for the whole session (a signing key, the dev sign-in's key, their JWKS), made
    as the local stack makes its own and inherited by every process the tests start, as the stack's are."""
    if any(env_name(name) in os.environ for name in STACK_AUTH_FILES):
        return  # the caller named its keys (a test stack's): use those
    directory = Path(tempfile.mkdtemp(prefix="boxoffice-test-keys-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    ensure_stack_keys(directory)
    for name, file in STACK_AUTH_FILES.items():
        os.environ[env_name(name)] = str(directory / file)


_session_keys()
os.environ.setdefault("BOXOFFICE_LOG_LEVEL", "info")


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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    item.stash[_LOG_SIZES] = service_errors.sizes(service_errors.log_dir())
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    before = item.stash.get(_LOG_SIZES, None)
    if report.failed and call.when == "call" and before is not None:
        found = service_errors.errors_since(before, service_errors.log_dir())
        if found:
            report.sections.append(("errors the services logged during the test", "\n".join(found)))
