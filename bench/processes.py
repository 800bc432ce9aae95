"""The bench's own processes: a drain's processors (on the drain's own topic), py-spy profilers of those
and of the stack's managed workers."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
from pathlib import Path

from runtime.settings import PROJECT_ROOT, Settings


def alive(pid: int) -> bool:
    """Running (a killed process not yet reaped by its parent, a zombie, is not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


FLAME_GRAPHS = PROJECT_ROOT / "docs" / "flamegraphs"


def managed_pid(settings: Settings, name: str) -> int | None:
    """The pid of the live process `stack/services.sh` started under this name."""
    pidfile = settings.stack_dir / "run" / f"{name}.pid"
    if not pidfile.exists():
        return None
    pid = int(pidfile.read_text().strip())
    return pid if alive(pid) else None


def free_port() -> int:
    """A free loopback port below the kernel's ephemeral range (32768+). A port the kernel hands out with
    bind(0) comes from that range, where any outgoing connection (a Kafka or PostgreSQL client starting up)
    may take it again before the server that was meant to listen on it binds."""
    return free_ports(1)


def free_ports(n: int) -> int:
    """The first of `n` consecutive free loopback ports (an engine's nodes, a server and its neighbours),
    none of them the test stack's."""
    while True:
        port = random.randrange(20_000, 32_000 - n)
        if any(_test_stack_port(p) for p in range(port, port + n)):
            continue
        try:
            for p in range(port, port + n):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
        except OSError:
            continue
        return port


# The test stack's ports (stack/test-env.sh): Kafka, PostgreSQL, Patroni, etcd (and its metrics), Redis and the
# sentinels, Prometheus and its exporters, the services' metrics.
_STACK_RANGES = (
    (29092, 29098),
    (25432, 25440),
    (28008, 28016),
    (22379, 22390),
    (22419, 22425),
    (26379, 26385),
    (29190, 29197),
    (29101, 29108),
)


def _test_stack_port(port: int) -> bool:
    return any(low <= port < high for low, high in _STACK_RANGES)


def start_processor(log_path: Path, **env: str) -> subprocess.Popen:
    log = open(log_path, "ab")
    return subprocess.Popen(
        [sys.executable, "-m", "booking_processor"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "BOXOFFICE_METRICS_PORT": str(free_port()), **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def start_profiler(
    proc: subprocess.Popen | int, out: Path, force: bool = False, fmt: str = "raw"
) -> subprocess.Popen | None:
    """With BOXOFFICE_BENCH_PROFILE=1 (or `force`), sample a process with py-spy: collapsed stacks (`raw`)
    or a flame graph (`flamegraph`, an SVG) written to `out`."""
    if not force and os.environ.get("BOXOFFICE_BENCH_PROFILE") != "1":
        return None
    pid = proc if isinstance(proc, int) else proc.pid
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        ["py-spy", "record", "--pid", str(pid), "-r", "200", "-f", fmt, "-o", str(out), "--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
    )


def stop_profiler(profiler: subprocess.Popen | None) -> None:
    if profiler is not None and profiler.poll() is None:
        profiler.send_signal(signal.SIGINT)
        profiler.wait(30)
