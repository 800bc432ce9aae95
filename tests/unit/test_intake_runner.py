"""The intake on the runner every worker uses: its clients built through runtime.service.Service, the
producer started in the background, so the intake comes up (not ready, writes 503) while Kafka, Redis and
PostgreSQL are all down, and everything it built is closed when it stops. Nothing listens on the ports used."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from intake.app import adapters
from intake.command_bus import CommandBus
from intake.credentials import token_verifier
from intake.errors import ApiError
from runtime.lifecycle import Lifecycle
from runtime.service import Service, Stopping
from runtime.settings import Settings
from schemas.commands import CreateShow
from schemas.layout import Section
from tests.support.keys import key_env

NOWHERE = "127.0.0.1:1"  # connections are refused at once


def _settings(tmp_path) -> Settings:
    dsn = f"postgresql://x@{NOWHERE}/x"
    return Settings.from_env(
        {
            **key_env(),
            "BOXOFFICE_STACK_DIR": str(tmp_path),
            "BOXOFFICE_KAFKA_BOOTSTRAP": NOWHERE,
            "BOXOFFICE_REDIS_URL": f"redis://{NOWHERE}/0",
            "BOXOFFICE_PG_DSN": dsn,
            "BOXOFFICE_PG_SHARD_DSNS": dsn,
            "BOXOFFICE_PAYMENT_API_KEY": "sk_test",
            "BOXOFFICE_PAYMENT_WEBHOOK_SECRET": "whsec_test",
        }
    )


def _command() -> CreateShow:
    now = datetime(2027, 1, 1, tzinfo=UTC)
    return CreateShow(
        command_id="c1",
        show_id="sh_1",
        issued_at=now,
        title="t",
        venue="v",
        starts_at=now + timedelta(days=30),
        hold_seconds=120,
        sections=[Section("A", 1, 1, 1)],
    )


async def test_the_intake_comes_up_not_ready_with_every_store_down_and_stops_at_once(tmp_path):
    lifecycle = Lifecycle()
    async with asyncio.timeout(10):
        async with contextlib.AsyncExitStack() as stack:
            service = Service("intake", _settings(tmp_path), lifecycle, stack)
            async with asyncio.timeout(2):  # no waiting for Kafka (or anything else) to come up
                state = await adapters(service, token_verifier(service.settings))
            assert state.service is service
            assert await state.readiness() == {"kafka": False, "redis": False}
            with pytest.raises(ApiError) as refused:
                await state.bus.send(_command())
            assert refused.value.status == 503 and refused.value.headers == {"Retry-After": "2"}
            await asyncio.sleep(0.3)  # the producer's start is being retried meanwhile
            assert await state.readiness() == {"kafka": False, "redis": False}
            lifecycle.stop()
        assert state.bus._starting is not None and state.bus._starting.done()


async def test_the_bus_sends_once_its_producer_started_in_the_background():
    release = asyncio.Event()

    class Client:
        async def fetch_all_metadata(self):
            return object()

    class Producer:
        client = Client()

        async def send_and_wait(self, topic, raw, key, headers):
            return SimpleNamespace(partition=3, offset=7)

    async def started() -> Producer:
        await release.wait()
        return Producer()

    bus = CommandBus()
    bus.start(started)  # type: ignore[arg-type]
    await asyncio.sleep(0)
    assert not await bus.ready()
    with pytest.raises(ApiError):
        await bus.send(_command())
    release.set()
    await asyncio.sleep(0.01)
    assert await bus.ready()
    assert tuple(await bus.send(_command())) == (3, 7)
    await bus.stop()


async def test_a_stop_while_the_producer_starts_ends_the_start():
    cancelled = asyncio.Event()

    async def never_started():
        try:
            await asyncio.sleep(3600)
        finally:
            cancelled.set()

    bus = CommandBus()
    bus.start(never_started)  # type: ignore[arg-type]
    await asyncio.sleep(0)
    async with asyncio.timeout(1):
        await bus.stop()
    assert cancelled.is_set() and not await bus.ready()

    async def stopping():
        raise Stopping("kafka producer")

    quiet = CommandBus()
    quiet.start(stopping)  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    assert quiet._starting is not None and quiet._starting.done() and quiet._starting.exception() is None
    await quiet.stop()
