"""A backing service down is a 503 with Retry-After, never a 500; SIGTERM is a clean exit."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.support import ids
from tests.support.processes import Service, free_port


async def _alive(http: httpx.AsyncClient) -> None:
    """Wait until the process answers /healthz (alive, though not ready)."""
    for _ in range(150):
        try:
            if (await http.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError("the intake never answered /healthz")


async def test_kafka_down_is_503_with_retry_after(api, system):
    show_id = await api.create_show()  # exists in Redis, so the request gets as far as publishing
    intake = Service(
        "intake-no-kafka", "intake", {"BOXOFFICE_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}"}, system.log_dir
    )
    intake.start(wait=False)
    try:
        async with httpx.AsyncClient(base_url=intake.url, timeout=30) as http:
            await _alive(http)
            ready = await http.get("/readyz")
            assert ready.status_code == 503 and ready.json()["checks"]["kafka"] is False
            r = await http.post(
                f"/v1/shows/{show_id}/bookings",
                json={"quantity": 1},
                headers={**api.auth(ids.customer()), "Idempotency-Key": ids.key()},
            )
            assert r.status_code == 503
            assert r.json()["error"]["code"] == "unavailable"
            assert int(r.headers["retry-after"]) > 0
    finally:
        intake.stop()


async def test_redis_down_is_503(api, system):
    intake = Service(
        "intake-no-redis",
        "intake",
        {"BOXOFFICE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0", "BOXOFFICE_REDIS_SENTINELS": ""},
        system.log_dir,
    )
    intake.start(wait=False)
    try:
        async with httpx.AsyncClient(base_url=intake.url, timeout=30) as http:
            await _alive(http)
            assert (await http.get("/readyz")).json()["checks"]["redis"] is False
            r = await http.get("/v1/shows/sh_anything/seats")
            assert r.status_code == 503 and r.json()["error"]["code"] == "unavailable"
            assert "retry-after" in r.headers
    finally:
        intake.stop()


@pytest.mark.parametrize("name", ["processor", "relay", "projections", "expiry"])
def test_sigterm_is_a_clean_exit(system, name):
    service = getattr(system, name)
    assert service.stop(timeout=30) == 0
    service.start()


def test_intake_shuts_down_gracefully_on_sigterm(system):
    """uvicorn finishes in-flight requests and the lifespan (producer flush), then re-raises the signal so
    a supervisor sees why it ended: the exit status is -SIGTERM, after the shutdown ran."""
    log = system.log_dir / f"{system.intake.name}.log"
    before = log.read_text().count('"intake stopped"')
    assert system.intake.stop(timeout=30) in (0, -15)
    assert log.read_text().count('"intake stopped"') == before + 1
    system.intake.start()
