"""`make up` starts every boxoffice process through stack/services.sh; `make down` leaves none running.
Exercised here on free ports against the test stack, with a stack dir of its own."""
from __future__ import annotations

import os
import subprocess

import httpx
import pytest

from bench.processes import alive
from tests.support.processes import ROOT, free_port


@pytest.mark.slow
def test_services_up_then_down_leaves_no_process(tmp_path, settings):
    http_port = free_port()
    env = {**os.environ, "BOXOFFICE_STACK_DIR": str(tmp_path), "BOXOFFICE_HTTP_PORT": str(http_port),
           "BOXOFFICE_METRICS_BASE": str(free_port()), "BOXOFFICE_SMTP_PORT": str(free_port()),
           "BOXOFFICE_AUTH_SECRET": settings.require_auth_secret()}
    script = str(ROOT / "stack" / "services.sh")
    try:
        up = subprocess.run([script, "up"], env=env, capture_output=True, text=True, timeout=120)
        assert up.returncode == 0, up.stderr
        pids = {p.stem: int(p.read_text()) for p in (tmp_path / "run").glob("*.pid")}
        assert set(pids) == {"intake", "booking_processor", "outbox_relay", "projections", "expiry", "notifier",
                             "mailsink"}
        assert all(alive(pid) for pid in pids.values())
        assert httpx.get(f"http://127.0.0.1:{http_port}/readyz").status_code == 200
        again = subprocess.run([script, "up"], env=env, capture_output=True, text=True, timeout=60)
        assert again.returncode == 0 and "already running" in again.stderr
    finally:
        down = subprocess.run([script, "down"], env=env, capture_output=True, text=True, timeout=120)
    assert down.returncode == 0, down.stderr
    assert not any(alive(pid) for pid in pids.values())
    assert list((tmp_path / "run").glob("*.pid")) == []
