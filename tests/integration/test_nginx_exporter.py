"""NGINX's own metrics through the maintained exporter (Debian's prometheus-nginx-exporter, started by
stack/services.sh beside NGINX): the real NGINX with the stack's config serves stub_status, the exporter turns
it into Prometheus metrics and says when NGINX is down."""

from __future__ import annotations

import re
import signal
import subprocess

import httpx

from bench.processes import free_port
from tests.support.front_door import NamedUpstream, Nginx, _wait_port
from tests.support.waiting import eventually


def _metric(text: str, name: str) -> float | None:
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else None


async def test_the_exporter_exports_nginx_figures_and_says_when_it_is_down(tmp_path):
    upstream = NamedUpstream("a", tmp_path)
    nginx = Nginx(tmp_path / "nginx", [upstream.port]).start()
    port = free_port()
    exporter = subprocess.Popen(  # noqa: ASYNC220 - started once, before anything is awaited
        [
            "prometheus-nginx-exporter",
            "-nginx.scrape-uri",
            f"{nginx.ops_url}/nginx-status",  # the ops listener: the public port has no stub_status
            "-web.listen-address",
            f"127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_port(port, exporter)
        async with httpx.AsyncClient(timeout=10) as http:
            for _ in range(5):
                assert (await http.get(f"{nginx.url}/v1/anything")).status_code == 200

            async def scrape() -> str:
                return (await http.get(f"http://127.0.0.1:{port}/metrics")).text

            text = await eventually(
                scrape,
                lambda t: (_metric(t, "nginx_http_requests_total") or 0) >= 5,
                what="NGINX's request count exported",
            )
            assert _metric(text, "nginx_up") == 1
            assert _metric(text, "nginx_connections_accepted") >= 1
            assert _metric(text, "nginx_connections_active") >= 1  # the scrape's own
            nginx.stop()
            text = await eventually(scrape, lambda t: _metric(t, "nginx_up") == 0, what="nginx_up 0 once it is down")
            assert _metric(text, "nginx_http_requests_total") is None  # no stale figures
    finally:
        exporter.send_signal(signal.SIGTERM)
        exporter.wait(10)
        nginx.stop()
        upstream.kill()
