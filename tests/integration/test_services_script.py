"""`make up` starts every boxoffice process through stack/services.sh, NGINX in front of the intake instances;
`make down` leaves none running. Exercised here on free ports against the test stack, with a stack dir of its
own."""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from bench.processes import alive as running
from bench.processes import free_ports
from tests.support.processes import ROOT, free_port, uid_of

ACCOUNTS = ("intake", "booking_processor", "outbox_relay", "projections", "expiry", "notifier", "mailsink", "devpay")


def _as(account: str, *command: str) -> subprocess.CompletedProcess[bytes]:
    user = f"boxoffice-{account}"
    setpriv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--"]
    return subprocess.run([*setpriv, *command], capture_output=True)


def _may_read(account: str, path: Path) -> bool:
    return _as(account, "test", "-r", str(path)).returncode == 0


def _service_user_runs(interpreter: Path) -> bool:
    return _as("intake", str(interpreter), "-c", "").returncode == 0


def _account(process: str) -> str:
    return "intake" if process.startswith("intake-") else process


@pytest.fixture
def stack_dir(settings):
    """A stack dir of its own, under the test stack's (which the services' user may enter; pytest's own temp
    dirs are root's alone)."""
    directory = settings.stack_dir / f"services-test-{secrets.token_hex(3)}"
    directory.mkdir()
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.slow
def test_services_up_then_down_leaves_no_process(stack_dir, settings):
    http_port, intake_base, metrics_base = free_port(), free_ports(2), free_ports(7)
    env = {
        **os.environ,
        "BOXOFFICE_STACK_DIR": str(stack_dir),
        "BOXOFFICE_HTTP_PORT": str(http_port),
        "BOXOFFICE_INTAKE_INSTANCES": "2",
        "BOXOFFICE_INTAKE_BASE_PORT": str(intake_base),
        "BOXOFFICE_METRICS_BASE": str(metrics_base),
        "BOXOFFICE_SMTP_PORT": str(free_port()),
        # The session's token keys come with os.environ (tests/conftest.py); services.sh gives the services'
        # user the stack's copies instead when it may not read them.
    }
    script = str(ROOT / "stack" / "services.sh")
    pids: dict[str, int] = {}
    nginx_pids: list[int] = []
    try:
        listed = subprocess.run([script, "list"], env=env, capture_output=True, text=True, timeout=30).stdout
        listed_names = [line.split()[:2] for line in listed.splitlines()]
        assert listed_names[:2] == [["intake-1", "intake"], ["intake-2", "intake"]]
        up = subprocess.run([script, "up"], env=env, capture_output=True, text=True, timeout=180)
        assert up.returncode == 0, up.stderr
        pids = {p.stem: int(p.read_text()) for p in (stack_dir / "run").glob("*.pid")}
        assert set(pids) == {
            "intake-1",
            "intake-2",
            "booking_processor",
            "outbox_relay",
            "projections",
            "expiry",
            "notifier",
            "mailsink",
            "devpay",
            "nginx_exporter",
        }
        assert all(running(pid) for pid in pids.values())
        master = int((stack_dir / "nginx" / "nginx.pid").read_text())
        nginx_pids = [master, *map(int, Path(f"/proc/{master}/task/{master}/children").read_text().split())]
        assert all(running(pid) for pid in nginx_pids) and len(nginx_pids) >= 2
        if os.geteuid() == 0:  # started as root: NGINX's workers drop to www-data, each service to its own user
            users = {u.pw_name: u.pw_uid for u in pwd.getpwall()}
            accounts = (*ACCOUNTS, "nginx_exporter")
            assert all(f"boxoffice-{a}" in users for a in accounts), "make install adds the services' system users"
            assert uid_of(master) == 0 and 0 not in {uid_of(pid) for pid in nginx_pids[1:]}
            uids = {name: uid_of(pid) for name, pid in pids.items()}
            if _service_user_runs(ROOT / ".venv" / "bin" / "python"):
                assert uids == {name: users[f"boxoffice-{_account(name)}"] for name in pids}
                assert len(set(uids.values())) == len(accounts) and "run as root" not in up.stderr
                # Each reads its own credentials and no other's: the intake not the relay's Kafka password
                # (which writes booking.events), the relay not the intake's, none an operator's.
                own = settings.secrets_dir.parent / "service-secrets"
                assert _may_read("intake", own / "intake" / "kafka-intake.password")
                assert _may_read("outbox_relay", own / "outbox_relay" / "kafka-outbox_relay.password")
                assert not _may_read("intake", own / "outbox_relay" / "kafka-outbox_relay.password")
                assert not _may_read("outbox_relay", own / "intake" / "kafka-intake.password")
                assert not _may_read("projections", settings.secrets_dir / "kafka-admin.password")
                assert not (own / "intake" / "kafka-outbox_relay.password").exists()
                assert not (own / "projections" / "pgpass").exists()
            else:  # an interpreter under a home only root may enter (pyenv in /root): root, and it says so
                print("the services' user cannot run this interpreter: the services ran as root")
                assert uids == dict.fromkeys(pids, 0) and "the services run as root" in up.stderr

        # The public port is NGINX's, balancing over both instances, each on its own port.
        for port in (intake_base, intake_base + 1):
            assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
        with httpx.Client(base_url=f"http://127.0.0.1:{http_port}") as client:
            answers = [client.get("/readyz") for _ in range(6)]
            assert {r.status_code for r in answers} == {200}
            assert all(r.headers["x-request-id"] for r in answers)
            missing = client.get("/v1/shows/sh_does_not_exist")
            assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        upstreams = {
            line.split('"upstream_addr":"')[1].split('"')[0]
            for line in (stack_dir / "nginx" / "logs" / "access.log").read_text().splitlines()
        }
        assert {f"127.0.0.1:{intake_base}", f"127.0.0.1:{intake_base + 1}"} <= upstreams

        # NGINX's own figures, through the exporter on the sixth metrics port.
        exported = ""
        deadline = time.monotonic() + 30
        while "\nnginx_up 1\n" not in exported and time.monotonic() < deadline:
            try:
                exported = httpx.get(f"http://127.0.0.1:{metrics_base + 5}/metrics").text
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        assert "\nnginx_up 1\n" in exported and "\nnginx_http_requests_total " in exported, exported[-500:]

        status = subprocess.run([script, "status"], env=env, capture_output=True, text=True, timeout=30).stdout
        assert f"intake-2: running (port {intake_base + 1})" in status and "nginx: running" in status
        again = subprocess.run([script, "up"], env=env, capture_output=True, text=True, timeout=60)
        assert again.returncode == 0 and "intake-1 already running" in again.stderr
        assert "nginx already running" in again.stderr

        # NGINX's master SIGKILLed under load: its orphaned workers keep the public port, and `up` must end
        # them and serve again within seconds, with nobody acting by hand.
        answers: list[int] = []
        stop_load = threading.Event()

        def load() -> None:
            with httpx.Client(base_url=f"http://127.0.0.1:{http_port}", timeout=5) as client:
                while not stop_load.is_set():
                    try:
                        answers.append(client.get("/readyz").status_code)
                    except httpx.TransportError:
                        answers.append(0)

        loader = threading.Thread(target=load)
        loader.start()
        try:
            time.sleep(0.5)
            master = int((stack_dir / "nginx" / "nginx.pid").read_text())
            workers = [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
            os.kill(master, signal.SIGKILL)
            time.sleep(0.5)
            assert any(running(w) for w in workers)  # the orphans live on, holding the port
            killed = time.monotonic()
            restarted = subprocess.run([script, "up"], env=env, capture_output=True, text=True, timeout=60)
            assert restarted.returncode == 0, restarted.stderr
            assert "ending orphaned nginx processes" in restarted.stderr
            served_again = None
            while served_again is None and time.monotonic() - killed < 10:
                try:
                    if httpx.get(f"http://127.0.0.1:{http_port}/readyz", timeout=2).status_code == 200:
                        served_again = time.monotonic() - killed
                except httpx.TransportError:
                    time.sleep(0.1)
            assert served_again is not None, "NGINX not serving again within 10 s of its master's SIGKILL"
            print(f"NGINX serving again {served_again:.1f} s after its master was SIGKILLed")
            assert not any(running(w) for w in workers)
            nginx_pids = [int((stack_dir / "nginx" / "nginx.pid").read_text())]
            time.sleep(0.5)
        finally:
            stop_load.set()
            loader.join()
        assert answers[-1] == 200 and 200 in answers[:10]
    finally:
        down = subprocess.run([script, "down"], env=env, capture_output=True, text=True, timeout=180)
    assert down.returncode == 0, down.stderr
    assert down.stderr.index("nginx stopped") < down.stderr.index("intake-1 stopped")
    assert not any(running(pid) for pid in [*pids.values(), *nginx_pids])
    assert list((stack_dir / "run").glob("*.pid")) == []
    assert not (stack_dir / "nginx" / "nginx.pid").exists()
