"""Booking history is read from a streaming standby (each shard's synchronous standby under Patroni; the server
that answered says it is a standby), a decided booking shows up there (the replica's lag gauge within the
documented bound), and with the standbys stopped history falls back to the primary: the customer still sees
every booking."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.support import ids
from tests.support.pg_servers import start_nodes, stop_standbys
from tests.support.waiting import eventually

DOCUMENTED_LAG_S = 5.0  # BOXOFFICE_REPLICA_MAX_LAG_S: beyond it, history reads the primary


def _replicas(system) -> int:
    """Replica gauges summed over every intake: one per shard per intake."""
    return len(system.intakes) * len(system.settings.pg_shard_dsns)


async def _metric(system, name: str) -> float:
    """The sum of one sample over every intake instance."""
    total = 0.0
    async with httpx.AsyncClient(timeout=5) as http:
        for intake in system.intakes:
            for line in (await http.get(f"{intake.url}/metrics")).text.splitlines():
                if line.startswith(name + " ") or line.startswith(name + "{"):
                    total += float(line.rsplit(" ", 1)[1])
    return total


async def _history(api, customer: str) -> list[str]:
    r = await api.http.get("/v1/me/bookings", headers=api.auth(customer))
    assert r.status_code == 200, r.text
    return [b["booking_id"] for b in r.json()["bookings"]]


async def test_history_reads_the_replica_and_its_lag_stays_within_the_bound(api, system):
    replica_reads = 'boxoffice_history_reads_total{server="replica"}'
    await eventually(
        lambda: _metric(system, "boxoffice_replica_usable"),
        lambda n: n == _replicas(system),
        what="every intake sees every shard's replica usable",
    )
    show_id = await api.create_show()
    customer = ids.customer("history")
    booking_id = (await api.book(customer, show_id, quantity=1)).json()["booking_id"]
    await api.wait_status(customer, booking_id)
    before = await _metric(system, replica_reads)
    await eventually(
        lambda: _history(api, customer),
        lambda ids_: booking_id in ids_,
        timeout=30,
        interval=0.05,
        what="the decided booking in history",
    )
    assert await _metric(system, replica_reads) > before  # a standby answered
    assert await _metric(system, "boxoffice_replica_lag_seconds") <= DOCUMENTED_LAG_S * _replicas(system)


@pytest.mark.slow
async def test_with_the_replica_stopped_history_falls_back_to_the_primary(api, system):
    primary_reads = 'boxoffice_history_reads_total{server="primary"}'
    show_id = await api.create_show()
    customer = ids.customer("fallback")
    first = (await api.book(customer, show_id, quantity=1)).json()["booking_id"]
    await api.wait_status(customer, first)
    assert await asyncio.to_thread(stop_standbys, system.settings.stack_dir)  # every shard's standby
    try:
        second = (await api.book(customer, show_id, quantity=1)).json()["booking_id"]
        await api.wait_status(customer, second)
        before = await _metric(system, primary_reads)
        assert set(await _history(api, customer)) == {first, second}  # no error, nothing missing
        assert await _metric(system, primary_reads) > before
        await eventually(
            lambda: _metric(system, "boxoffice_replica_usable"),
            lambda n: n == 0,
            what="every intake noticed the replica is gone",
        )
    finally:
        await asyncio.to_thread(start_nodes)
    await eventually(
        lambda: _metric(system, "boxoffice_replica_usable"),
        lambda n: n == _replicas(system),
        timeout=30,
        what="history back on the replicas",
    )
    assert set(await _history(api, customer)) == {first, second}
