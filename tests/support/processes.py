"""Real boxoffice processes for end-to-end tests: start, wait until ready, SIGTERM or SIGKILL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.processes import free_port

ROOT = Path(__file__).resolve().parents[2]


class Service:
    def __init__(
        self,
        name: str,
        module: str,
        env: dict[str, str],
        log_dir: Path,
        port: int | None = None,
        http_ready: bool = True,
    ) -> None:
        self.name, self.module, self.log_dir = name, module, log_dir
        self.port = port or free_port()
        self.http_ready = http_ready
        self.env = {**os.environ, **env}
        if module == "intake":
            self.env["BOXOFFICE_HTTP_PORT"] = str(self.port)
        elif not http_ready:
            self.env["BOXOFFICE_SMTP_PORT"] = str(self.port)
        else:
            self.env["BOXOFFICE_METRICS_PORT"] = str(self.port)
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: bool = True) -> Service:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{self.name}.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.module], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log_dir}")
            try:
                if self.http_ready:
                    if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                        return
                else:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                        return
            except (httpx.HTTPError, OSError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready within {timeout}s; see {self.log_dir}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM and wait for the graceful exit; returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise

    def restart(self) -> None:
        self.stop()
        self.start()


def uid_of(pid: int) -> int:
    """The real user id a process runs as (/proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError(f"no Uid in /proc/{pid}/status")
