"""On a failed test against the stack, what the services logged as errors meanwhile.

CI keeps only the suite's output: a stuck worker (a halted partition, a loop that gave up) is otherwise a
timeout with no cause. Before each test the size of every log under the test logs is noted; when the test
fails, the error lines (and halts) written since are attached to its report, one per distinct event and
service, shortened."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

MAX_LINES = 40
MAX_CHARS = 400
MARKERS = ('"level": "error"', '"level": "critical"', "halted")


def log_dir() -> Path:
    return Path(os.environ.get("BOXOFFICE_STACK_DIR", ".stack-test")) / "test-logs"


def sizes(directory: Path) -> dict[Path, int]:
    try:
        return {path: path.stat().st_size for path in directory.rglob("*.log")}
    except OSError:
        return {}


def errors_since(before: dict[Path, int], directory: Path) -> list[str]:
    seen: set[tuple[str, str]] = set()
    lines: list[str] = []
    for path, size in sorted(sizes(directory).items()):
        start = before.get(path, 0)
        if size <= start:
            continue
        with path.open("rb") as f:
            f.seek(start)
            chunk = f.read()
        for raw in chunk.decode("utf-8", "replace").splitlines():
            if not any(marker in raw for marker in MARKERS):
                continue
            try:
                record = msgspec.json.decode(raw)
            except msgspec.DecodeError:
                record = None
            if isinstance(record, dict):
                key = (str(record.get("service", path.stem)), str(record.get("event", ""))[:80])
            else:
                key = (path.stem, raw[:80])
            if key in seen:
                continue
            seen.add(key)
            lines.append(f"{path.name}: {raw[:MAX_CHARS]}")
            if len(lines) >= MAX_LINES:
                return lines
    return lines
