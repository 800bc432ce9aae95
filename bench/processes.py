"""Stopping the stack's managed processor and running one of our own, so a drain starts from a preloaded
topic with no processor consuming it (and the stack is restored afterwards)."""
from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from runtime.settings import PROJECT_ROOT, Settings


def alive(pid: int) -> bool:
    """Running (a killed process not yet reaped by its parent, a zombie, is not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def stop_managed(settings: Settings, name: str, timeout: float = 30) -> bool:
    """SIGTERM the process `stack/services.sh` started under this name; True if one was running."""
    pidfile = settings.stack_dir / "run" / f"{name}.pid"
    if not pidfile.exists():
        return False
    pid = int(pidfile.read_text().strip())
    if not alive(pid):
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.1)
    return True


def restore_managed(settings: Settings) -> None:
    subprocess.run([str(PROJECT_ROOT / "stack" / "services.sh"), "up"], check=True, capture_output=True,
                   env={**os.environ, "BOXOFFICE_STACK_DIR": str(settings.stack_dir)})


def free_port() -> int:
    """A free loopback port below the kernel's ephemeral range (32768+). A port the kernel hands out with
    bind(0) comes from that range, where any outgoing connection (a Kafka or PostgreSQL client starting up)
    may take it again before the server that was meant to listen on it binds."""
    while True:
        port = random.randrange(20_000, 32_000)
        if port in _STACK_PORTS:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


_STACK_PORTS = frozenset({25432, 26379, 29092, 29093})  # the test stack's


def start_processor(log_path: Path, **env: str) -> subprocess.Popen:
    log = open(log_path, "ab")
    return subprocess.Popen([sys.executable, "-m", "booking_processor"], cwd=PROJECT_ROOT,
                            env={**os.environ, "BOXOFFICE_METRICS_PORT": str(free_port()), **env},
                            stdout=log, stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def start_profiler(proc: subprocess.Popen | int, out: Path, force: bool = False,
                   fmt: str = "raw") -> subprocess.Popen | None:
    """With BOXOFFICE_BENCH_PROFILE=1 (or `force`), sample a process with py-spy: collapsed stacks (`raw`)
    or a flame graph (`flamegraph`, an SVG) written to `out`."""
    if not force and os.environ.get("BOXOFFICE_BENCH_PROFILE") != "1":
        return None
    pid = proc if isinstance(proc, int) else proc.pid
    return subprocess.Popen(["py-spy", "record", "--pid", str(pid), "-r", "200", "-f", fmt, "-o", str(out),
                             "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"})


def stop_profiler(profiler: subprocess.Popen | None) -> None:
    if profiler is not None and profiler.poll() is None:
        profiler.send_signal(signal.SIGINT)
        profiler.wait(30)
