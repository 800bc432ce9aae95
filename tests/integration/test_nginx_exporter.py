"""NGINX's own metrics: the real NGINX with the stack's config serves stub_status, the exporter process
turns it into Prometheus metrics, says when NGINX is down, and stops cleanly on SIGTERM."""

from __future__ import annotations

import re

import httpx
import pytest

from ops.nginx_exporter import parse_stub_status
from tests.support.front_door import NamedUpstream, Nginx
from tests.support.processes import Service
from tests.support.waiting import eventually


def _metric(text: str, name: str) -> float | None:
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else None


def test_stub_status_is_parsed_and_anything_else_refused():
    page = b"Active connections: 3 \nserver accepts handled requests\n 17 17 42 \nReading: 0 Writing: 1 Waiting: 2 \n"
    assert parse_stub_status(page) == {
        "active": 3,
        "accepted": 17,
        "handled": 17,
        "requests": 42,
        "reading": 0,
        "writing": 1,
        "waiting": 2,
    }
    with pytest.raises(ValueError):
        parse_stub_status(b"<html>not it</html>")


async def test_the_exporter_exports_nginx_figures_and_says_when_it_is_down(tmp_path):
    upstream = NamedUpstream("a", tmp_path)
    nginx = Nginx(tmp_path / "nginx", [upstream.port]).start()
    exporter = Service(
        "nginx-exporter", "ops.nginx_exporter", {"BOXOFFICE_NGINX_STATUS_URL": f"{nginx.url}/nginx-status"}, tmp_path
    ).start()
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            for _ in range(5):
                assert (await http.get(f"{nginx.url}/v1/anything")).status_code == 200

            async def scrape() -> str:
                return (await http.get(f"{exporter.url}/metrics")).text

            text = await eventually(
                scrape,
                lambda t: (_metric(t, "boxoffice_nginx_requests_total") or 0) >= 5,
                what="NGINX's request count exported",
            )
            assert _metric(text, "boxoffice_nginx_up") == 1
            assert _metric(text, "boxoffice_nginx_accepted_total") >= 1
            assert _metric(text, 'boxoffice_nginx_connections{state="active"}') >= 1  # the scrape's own
            stopped = nginx.stop()
            assert stopped.returncode == 0, stopped.stderr
            text = await eventually(scrape, lambda t: _metric(t, "boxoffice_nginx_up") == 0, what="NGINX down reported")
            assert _metric(text, "boxoffice_nginx_requests_total") is None  # no stale figures
            assert (await http.get(f"{exporter.url}/readyz")).status_code == 200  # its readiness is its own
        assert exporter.stop() == 0  # SIGTERM: a clean exit
    finally:
        exporter.kill()
        nginx.stop()
        upstream.kill()
