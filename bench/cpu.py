"""Where the CPU goes during a measurement: CPU seconds (user + system, from /proc) per component, between
two snapshots. On a 2-core machine every component shares the same cores, so a throughput figure means
little without this: it is what the capacity model (docs/SCALING.md) divides by."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")
# component -> substrings of its command line (first match wins; order matters)
COMPONENTS = (
    ("processor", ("-m booking_processor ",)),
    ("relay", ("booking_processor.relay_main",)),
    ("projections", ("-m projections",)),
    ("notifier", ("-m notifier ",)),
    ("expiry", ("-m expiry",)),
    ("intake", ("-m intake",)),
    # The HA topology's own processes (before postgres: an exporter's command line names postgres too).
    ("kafka", ("kafka.Kafka",)),  # before the exporters: a broker's command line names its JMX agent
    (
        "prometheus and exporters",
        (
            "prometheus --config",
            "prometheus-postgres-exporter",
            "prometheus-redis-exporter",
            "prometheus-nginx-exporter",
        ),
    ),
    ("patroni", ("bin/patroni",)),
    ("etcd", ("etcd --name",)),
    ("redis sentinels", ("redis-sentinel", "[sentinel]")),
    ("nginx", ("nginx",)),
    # PostgreSQL's processes by role: the sessions doing the work, the replicas replaying it, the WAL
    # writer and senders shipping it, and the rest (checkpointer, background writer, autovacuum).
    ("postgres: replica replay", ("postgres: startup", "postgres: walreceiver")),
    ("postgres: wal", ("postgres: walwriter", "postgres: walsender")),
    ("postgres: sessions", ("postgres: boxoffice", "postgres: postgres")),
    ("postgres: other", ("postgres",)),
    ("redis", ("redis-server",)),
    ("seed over HTTP", ("-m bench.seed_http",)),
    ("load generator", ("boxoffice bench", "ops.cli bench", "wrk ")),
)


def _component(cmdline: str) -> str | None:
    for name, needles in COMPONENTS:
        if any(n in cmdline for n in needles):
            return name
    return None


def snapshot(root: str | None = None) -> dict[int, tuple[str, float]]:
    """pid -> (component, CPU seconds so far), for the stack's processes (those under `root` when given,
    for the Python ones: the project's own venv). A worker uvicorn spawned (multiprocessing, a command line of
    its own) counts as the process that spawned it: the seed's two HTTP workers are the seed."""
    seen: dict[int, tuple[str | None, int, float, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace").replace("\0", " ") + " "
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if root is not None and "python" in cmdline and root not in cmdline:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        seen[int(entry.name)] = (
            _component(cmdline),
            int(fields[1]),
            (int(fields[11]) + int(fields[12])) / _TICK,
            cmdline,
        )
    out: dict[int, tuple[str, float]] = {}
    for pid, (name, parent, seconds, cmdline) in seen.items():
        if name is None and "multiprocessing" in cmdline and parent in seen:
            name = seen[parent][0]
        if name is not None:
            out[pid] = (name, seconds)
    return out


def used(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]) -> dict[str, float]:
    """CPU seconds per component between two snapshots (processes that started meanwhile count from 0)."""
    totals: dict[str, float] = {}
    for pid, (name, seconds) in after.items():
        start = before.get(pid, (name, 0.0))[1]
        totals[name] = totals.get(name, 0.0) + max(0.0, seconds - start)
    return {k: round(v, 2) for k, v in sorted(totals.items(), key=lambda kv: -kv[1])}


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler:
    """Resident memory per component (its processes summed), sampled every half second; `peaks()` is the
    highest seen, in MiB."""

    def __init__(self, root: str | None = None, every_s: float = 0.5) -> None:
        self._root, self._every = root, every_s
        self._peaks: dict[str, float] = {}

    def sample(self) -> None:
        totals: dict[str, int] = {}
        for pid, (name, _) in snapshot(self._root).items():
            totals[name] = totals.get(name, 0) + _rss_kib(pid)
        for name, kib in totals.items():
            self._peaks[name] = max(self._peaks.get(name, 0.0), kib / 1024)

    async def run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self._every)

    def peaks(self) -> dict[str, float]:
        self.sample()
        return {k: round(v, 1) for k, v in sorted(self._peaks.items(), key=lambda kv: -kv[1])}
