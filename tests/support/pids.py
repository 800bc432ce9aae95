"""Whether a process runs: a zombie (killed, not yet reaped by its parent, here often PID 1, which reaps
late) is not running. `os.kill(pid, 0)` succeeds on zombies, so it cannot tell."""
from __future__ import annotations

from pathlib import Path


def running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
