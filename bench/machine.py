"""What a results file says of the machine it was measured on, so that a slower machine can be told from a
regression: the CPU model and MHz, a fixed calibration loop's time, and the steal time during the run."""

from __future__ import annotations

import os
import time
from pathlib import Path


def calibration_s() -> float:
    """A fixed CPU-bound loop (10 million Python additions): its time says how fast this machine is today."""
    started = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - started


def machine() -> dict:
    model = mhz = None
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name") and model is None:
            model = line.split(":", 1)[1].strip()
        if line.startswith("cpu MHz") and mhz is None:
            mhz = float(line.split(":", 1)[1])
    return {"cpu_model": model, "cpu_mhz": mhz, "cores": os.cpu_count(), "calibration_s": round(calibration_s(), 3)}


def steal_ticks() -> int:
    return int(Path("/proc/stat").read_text().splitlines()[0].split()[8])


def steal_s(since_ticks: int) -> float:
    """The CPU time the hypervisor took from this machine since `steal_ticks()` gave `since_ticks`."""
    return (steal_ticks() - since_ticks) / os.sysconf("SC_CLK_TCK")
