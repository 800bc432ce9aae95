"""The test stack's PostgreSQL nodes as a fault sees them (stack/lib/postgres.sh's layout: shard s, node n in
$BOXOFFICE_STACK_DIR/pg-shard<s>-<n>, Patroni's REST API on $BOXOFFICE_PATRONI_PORT + 2s + n)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests.support.processes import ROOT


def nodes_per_shard() -> int:
    return 1 if os.environ.get("BOXOFFICE_TOPOLOGY", "ha") == "single" else 2


def node_dir(stack_dir: Path, shard: int, node: int) -> Path:
    return stack_dir / f"pg-shard{shard}-{node}"


def node_role(shard: int, node: int) -> str | None:
    """'primary', 'replica', or None when its Patroni does not answer (or its PostgreSQL is not running)."""
    port = int(os.environ["BOXOFFICE_PATRONI_PORT"]) + 2 * shard + node
    try:
        state = httpx.get(f"http://127.0.0.1:{port}/patroni", timeout=2).json()
    except (httpx.HTTPError, ValueError):
        return None
    if state.get("state") != "running":
        return None
    return {"master": "primary"}.get(state.get("role"), state.get("role"))


def primary_node(shard: int) -> int | None:
    return next((n for n in range(nodes_per_shard()) if node_role(shard, n) == "primary"), None)


def kill_node(stack_dir: Path, shard: int, node: int) -> None:
    """The node is lost: SIGKILL its Patroni and its PostgreSQL (the postmaster; its backends follow)."""
    directory = node_dir(stack_dir, shard, node)
    pids = [int((directory / "patroni.pid").read_text())]
    postmaster = directory / "data" / "postmaster.pid"
    if postmaster.exists():
        pids.append(int(postmaster.read_text().splitlines()[0]))
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def kill_primary(stack_dir: Path, shard: int) -> int:
    """SIGKILL the node that is the shard's primary now; returns which node it was."""
    node = primary_node(shard)
    assert node is not None, f"shard {shard} has no primary to kill"
    kill_node(stack_dir, shard, node)
    return node


def start_nodes() -> None:
    """Every node of every shard, as `make up` starts them (running ones are left alone; a lost one rejoins)."""
    done = subprocess.run(
        [str(ROOT / "stack" / "stack.sh"), "up", "postgres"], capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-3000:]


def stop_standbys(stack_dir: Path) -> list[tuple[int, int]]:
    """Stop every shard's standby as an operator would (SIGTERM to its Patroni, which stops its PostgreSQL);
    returns which nodes were stopped. The primaries go on alone (synchronous_mode is not strict)."""
    stopped = []
    for shard in range(int(os.environ.get("BOXOFFICE_PG_SHARDS", "2"))):
        for node in range(nodes_per_shard()):
            if node_role(shard, node) == "replica":
                pid = int((node_dir(stack_dir, shard, node) / "patroni.pid").read_text())
                os.kill(pid, signal.SIGTERM)
                stopped.append((shard, node, pid))
    for _, _, pid in stopped:
        for _ in range(300):
            if not Path(f"/proc/{pid}").exists() or Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] == "Z":
                break
            time.sleep(0.1)
    return [(shard, node) for shard, node, _ in stopped]
