"""Operators see it: the test stack's Prometheus (stack/lib/monitoring.sh) scrapes every engine through its
maintained exporter (Kafka's JMX agent, Patroni's own /metrics, prometheus-postgres-exporter, etcd,
prometheus-redis-exporter over the servers and sentinels), with boxoffice's alerting rules loaded."""

from __future__ import annotations

import os

import httpx
import pytest

from tests.support.waiting import eventually

ENGINES = {"kafka", "patroni", "postgres", "etcd", "redis", "prometheus"}


@pytest.fixture
def prometheus() -> str:
    return f"http://127.0.0.1:{os.environ['BOXOFFICE_PROMETHEUS_PORT']}"


async def _targets(prometheus: str) -> dict[str, list[str]]:
    async with httpx.AsyncClient(timeout=5) as http:
        active = (await http.get(f"{prometheus}/api/v1/targets")).json()["data"]["activeTargets"]
    by_job: dict[str, list[str]] = {}
    for target in active:
        by_job.setdefault(target["labels"]["job"], []).append(target["health"])
    return by_job


async def test_every_engine_is_scraped_through_its_exporter(prometheus):
    targets = await eventually(
        lambda: _targets(prometheus),
        lambda t: all(t.get(job) and set(t[job]) == {"up"} for job in ENGINES),
        timeout=60,
        interval=1,
        what="every engine's targets up",
    )
    ha = os.environ.get("BOXOFFICE_TOPOLOGY", "ha") == "ha"
    assert len(targets["kafka"]) == (3 if ha else 1) and len(targets["etcd"]) == (3 if ha else 1)
    assert len(targets["redis"]) == (5 if ha else 1)  # two servers and three sentinels
    assert "nginx" in targets and "boxoffice" in targets  # the services' own (up when `make up` runs them)


async def test_the_alerting_rules_are_loaded_and_the_engines_report_what_they_watch(prometheus):
    async with httpx.AsyncClient(timeout=5) as http:
        groups = (await http.get(f"{prometheus}/api/v1/rules")).json()["data"]["groups"]
        assert {g["name"] for g in groups} == {"boxoffice-pipeline", "boxoffice-engines"}

        async def value(query: str) -> list:
            return (await http.get(f"{prometheus}/api/v1/query", params={"query": query})).json()["data"]["result"]

        # Each of the figures the rules read is there (an empty result would make its alert silent forever).
        for query in (
            "kafka_server_replicamanager_underreplicatedpartitions",
            "patroni_sync_standby",
            "patroni_xlog_location",
            "redis_connected_slaves",
            "pg_node_sync_standbys",
            "up{job='etcd'}",
        ):
            assert await eventually(lambda q=query: value(q), lambda r: r != [], timeout=60, interval=1, what=query)
        under = await value("sum(kafka_server_replicamanager_underreplicatedpartitions)")
        assert float(under[0]["value"][1]) == 0
