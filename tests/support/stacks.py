"""Stacks of a test's own (own data dir and ports), laid out exactly as stack/env.sh lays out the local one:
the base ports are free ones, everything derived from them (DSNs, bootstrap servers, sentinels) is what
env.sh computes, so a test never restates the layout."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bench.processes import free_ports
from tests.support.processes import ROOT

DERIVED = (
    "PGPASSFILE",  # a stack of its own has passwords of its own
    "BOXOFFICE_SECRETS_DIR",
    "BOXOFFICE_KAFKA_BOOTSTRAP",
    "BOXOFFICE_PG_DSN",
    "BOXOFFICE_PG_READ_DSN",
    "BOXOFFICE_PG_SHARD_DSNS",
    "BOXOFFICE_PG_SHARD_READ_DSNS",
    "BOXOFFICE_REDIS_URL",
    "BOXOFFICE_REDIS_SENTINELS",
    "BOXOFFICE_REDIS_MASTER",
    "BOXOFFICE_INTAKE_BASE_PORT",
    "BOXOFFICE_PAYMENT_API_URL",
    "BOXOFFICE_PUBLIC_URL",
    "BOXOFFICE_PAYMENT_WEBHOOK_URL",
)


def stack_env(directory: Path, topology: str = "single", shards: int = 1, **extra: str) -> dict[str, str]:
    """The environment of a stack in `directory`: the process's own, with the stack's base ports and what
    stack/env.sh derives from them."""
    base = {k: v for k, v in os.environ.items() if k not in DERIVED}
    base.update(
        {
            "BOXOFFICE_STACK_DIR": str(directory),
            "BOXOFFICE_TOPOLOGY": topology,
            "BOXOFFICE_PG_SHARDS": str(shards),
            "BOXOFFICE_KAFKA_PORT": str(free_ports(6)),
            "BOXOFFICE_PG_PORT": str(free_ports(2 * shards)),
            "BOXOFFICE_PATRONI_PORT": str(free_ports(2 * shards)),
            "BOXOFFICE_ETCD_PORT": str(free_ports(44)),  # members' client and peer ports, and their metrics (+41..)
            "BOXOFFICE_REDIS_PORT": str(free_ports(5)),
            "BOXOFFICE_PROMETHEUS_PORT": str(free_ports(6)),
            "BOXOFFICE_KAFKA_HEAP": "384m",
            **extra,
        }
    )
    done = subprocess.run(
        ["bash", "-c", f'. "{ROOT}/stack/env.sh" && env -0'], env=base, capture_output=True, check=True
    )
    env = dict(item.split("=", 1) for item in done.stdout.decode().split("\0") if "=" in item)
    # What this topology does not set (no sentinels on `single`) is set empty (= unset), so that a process
    # started with it over the test process's own environment (the test stack's) does not inherit the value.
    return {name: "" for name in DERIVED} | env


def run_stack(env: dict[str, str], *args: str, timeout: float = 240) -> None:
    done = subprocess.run(
        [str(ROOT / "stack" / "stack.sh"), *args], env=env, timeout=timeout, capture_output=True, text=True
    )
    assert done.returncode == 0, f"stack.sh {' '.join(args)} failed:\n{done.stderr[-3000:]}"
