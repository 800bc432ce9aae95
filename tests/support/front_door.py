"""NGINX in front of stand-in upstreams, for the front-door tests: `stack/nginx.sh` drives the real NGINX,
and each upstream is a separate process (so it can be SIGKILLed) that answers every request with its own
name, the path, and the X-Request-Id it received. One named `drop…` reads each request and closes the
connection without answering a byte, as an instance that dies in the middle of a request; one named `busy…`
answers every request 503 with the API's error body, as an intake whose Kafka is down; one named `blip…`
answers every fourth request so (an intake whose Kafka missed one acknowledgement) and the others normally.
Every answer carries `ETag: "<name>"` and a `Server` header, and a request whose If-None-Match is that ETag
gets a 304 (as the intake's reads do); `?private` adds `Cache-Control: private`, `?cookie` a Set-Cookie.

Run as a module it is that upstream:  python -m tests.support.front_door NAME PORT
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
NGINX_SH = ROOT / "stack" / "nginx.sh"


def _wait_port(port: int, proc: subprocess.Popen | None = None, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port} within {timeout}s")


class NamedUpstream:
    """A stand-in intake instance on a free port."""

    def __init__(self, name: str, log_dir: Path) -> None:
        self.name, self.port = name, free_port()
        log_dir.mkdir(parents=True, exist_ok=True)
        with open(log_dir / f"upstream-{name}.log", "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.support.front_door", name, str(self.port)],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _wait_port(self.port, self.proc)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


class Nginx:
    """The real NGINX, started and stopped by stack/nginx.sh with a prefix dir of its own."""

    def __init__(
        self,
        prefix: Path,
        upstream_ports: list[int],
        web_root: Path | None = None,
        *,
        trusted: list[str] | None = None,
        uncached: list[str] | None = None,
    ) -> None:
        """`trusted`: the addresses exempt from the per-address limits (None: nginx.sh's default, 127.0.0.1,
        where every test runs; [] for none); `uncached`: the addresses whose reads skip the micro-cache
        (None: 127.0.0.1, as tests read what they just wrote and count the answers of each instance; [] for
        none: a client of the cache binds another loopback address or passes [])."""
        self.prefix, self.port, self.ops_port = prefix, free_port(), free_port()
        self.args = ["--prefix", str(prefix), "--listen", str(self.port), "--ops-listen", str(self.ops_port)]
        for port in upstream_ports:
            self.args += ["--upstream", f"127.0.0.1:{port}"]
        if web_root is not None:
            self.args += ["--root", str(web_root)]
        uncached = ["127.0.0.1"] if uncached is None else uncached
        for option, addresses in (("--trusted", trusted), ("--uncached", uncached)):
            if addresses is not None:
                for address in addresses or ["none"]:
                    self.args += [option, address]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ops_url(self) -> str:
        """The operators' listener: stub_status at /nginx-status (never on the public port)."""
        return f"http://127.0.0.1:{self.ops_port}"

    @property
    def access_log(self) -> Path:
        return self.prefix / "logs" / "access.log"

    def run(self, command: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "BOXOFFICE_STACK_DIR": str(self.prefix.parent)}
        return subprocess.run([str(NGINX_SH), command, *self.args], env=env, capture_output=True, text=True, timeout=60)

    def start(self) -> Nginx:
        result = self.run("start")
        if result.returncode != 0:
            raise RuntimeError(f"nginx.sh start failed: {result.stderr}")
        return self

    def stop(self) -> subprocess.CompletedProcess:
        return self.run("stop")

    def pid(self) -> int | None:
        pidfile = self.prefix / "nginx.pid"
        return int(pidfile.read_text()) if pidfile.exists() else None

    def access_entries(self) -> list[dict]:
        """The JSON access log, one dict per request (NGINX writes each line when the request ends)."""
        return self.access_entries_after(0)[0]

    def access_log_end(self) -> int:
        return self.access_log.stat().st_size if self.access_log.exists() else 0

    def access_entries_after(self, offset: int) -> tuple[list[dict], int]:
        """The complete lines written after byte `offset`, and the offset after the last of them (a line being
        written is left for the next read)."""
        if not self.access_log.exists():
            return [], offset
        with self.access_log.open("rb") as log:
            log.seek(offset)
            data = log.read()
        complete = data[: data.rfind(b"\n") + 1]
        return [json.loads(line) for line in complete.splitlines() if line.strip()], offset + len(complete)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as NGINX's upstream connections expect

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.server.name.startswith("drop"):  # type: ignore[attr-defined]
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if self.server.name.startswith("blip"):  # type: ignore[attr-defined]
            with self.server.lock:  # type: ignore[attr-defined]
                self.server.served += 1  # type: ignore[attr-defined]
                refuse = self.server.served % 4 == 0  # type: ignore[attr-defined]
        else:
            refuse = self.server.name.startswith("busy")  # type: ignore[attr-defined]
        if refuse:
            error = {"error": {"code": "unavailable", "message": f"{self.server.name}: kafka is down"}}  # type: ignore[attr-defined]
            self._send(503, json.dumps(error).encode(), {"Retry-After": "1"})
            return
        etag = f'"{self.server.name}"'  # type: ignore[attr-defined]
        headers = {"ETag": etag, "Server": "uvicorn"}
        if "?private" in self.path:
            headers["Cache-Control"] = "private"
        if "?cookie" in self.path:
            headers["Set-Cookie"] = "session=1"
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            return
        payload = json.dumps(
            {
                "name": self.server.name,
                "method": self.command,
                "path": self.path,  # type: ignore[attr-defined]
                "request_id": self.headers.get("X-Request-Id"),
                "if_none_match": self.headers.get("If-None-Match"),
                "authorization": self.headers.get("Authorization"),
                "body_bytes": len(body),
                "at": time.time(),
            }
        ).encode()
        self._send(200, payload, headers)

    def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_FOO = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


def _serve(name: str, port: int) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
    server.name = name  # type: ignore[attr-defined]
    server.lock, server.served = threading.Lock(), 0  # type: ignore[attr-defined]
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    _serve(sys.argv[1], int(sys.argv[2]))
