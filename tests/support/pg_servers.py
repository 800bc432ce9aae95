"""Stop and start the test stack's PostgreSQL primaries as a fault would (stack/stack.sh's layout: shard 0's data in
$BOXOFFICE_STACK_DIR/postgres, shard i's in postgres-shard<i>)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support.processes import ROOT

PG_BIN = Path(os.environ.get("BOXOFFICE_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _as_postgres(*command: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


def primary_data_dir(stack_dir: Path, shard: int) -> Path:
    return stack_dir / ("postgres" if shard == 0 else f"postgres-shard{shard}") / "data"


def stop_primary_now(stack_dir: Path, shard: int) -> None:
    """An immediate stop: no checkpoint, every client connection cut, as a crash would."""
    done = subprocess.run(
        _as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(primary_data_dir(stack_dir, shard)), "-m", "immediate", "-w", "stop"
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def start_primaries() -> None:
    """Every shard's primary, as `make up` starts them (already running ones are left alone)."""
    done = subprocess.run(
        [str(ROOT / "stack" / "stack.sh"), "up", "postgres"], capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]
