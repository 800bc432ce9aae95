"""python -m ops.nginx_exporter: NGINX's own figures for Prometheus, on this process's metrics port.

NGINX serves its counters on `/nginx-status` (the stub_status module, loopback and private networks only);
this reads them every second and exports them as `boxoffice_nginx_*` beside `boxoffice_nginx_up` (0 while
NGINX does not answer, as the official exporter's `nginx_up`). The exporter itself is ready as soon as it
runs: whether NGINX is up is a figure, not its readiness. The official nginx-prometheus-exporter would do
the same, but it is a Go binary and this machine's registries give no way to install one without a Go
toolchain; this is the same handful of numbers through prometheus_client.
"""

from __future__ import annotations

import re

import httpx
from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from runtime.service import Service, run_service

SCRAPE_EVERY_S = 1.0
_STATUS = re.compile(
    rb"Active connections:\s*(?P<active>\d+)\s*"
    rb"server accepts handled requests\s*(?P<accepted>\d+)\s+(?P<handled>\d+)\s+(?P<requests>\d+)\s*"
    rb"Reading:\s*(?P<reading>\d+)\s+Writing:\s*(?P<writing>\d+)\s+Waiting:\s*(?P<waiting>\d+)"
)


def parse_stub_status(body: bytes) -> dict[str, int]:
    match = _STATUS.search(body)
    if match is None:
        raise ValueError("not a stub_status page")
    return {name: int(value) for name, value in match.groupdict().items()}


class NginxCollector:
    """The last figures read (None while NGINX does not answer), as Prometheus metrics."""

    def __init__(self) -> None:
        self.last: dict[str, int] | None = None

    def collect(self):
        yield GaugeMetricFamily(
            "boxoffice_nginx_up", "1 when NGINX answered its last status read", value=1 if self.last else 0
        )
        if not self.last:
            return
        for name, help_text in (
            ("accepted", "Client connections accepted"),
            ("handled", "Client connections handled"),
            ("requests", "Client requests"),
        ):
            yield CounterMetricFamily(f"boxoffice_nginx_{name}", help_text, value=self.last[name])
        connections = GaugeMetricFamily("boxoffice_nginx_connections", "Client connections by state", labels=["state"])
        for state in ("active", "reading", "writing", "waiting"):
            connections.add_metric([state], self.last[state])
        yield connections


async def main(service: Service) -> None:
    url = service.settings.nginx_status_url
    client = service.http_client(timeout_s=2.0)
    collector = NginxCollector()
    REGISTRY.register(collector)
    service.defer(_unregister, collector)
    service.log.info("nginx exporter started", status_url=url)
    while not service.lifecycle.stopping.is_set():
        try:
            response = await client.get(url)
            collector.last = parse_stub_status(response.content) if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError) as exc:
            if collector.last is not None:
                service.log.warning("nginx status not readable", error=repr(exc))
            collector.last = None
        await service.lifecycle.sleep(SCRAPE_EVERY_S)


async def _unregister(collector: NginxCollector) -> None:
    REGISTRY.unregister(collector)


if __name__ == "__main__":
    run_service("nginx_exporter", main)
