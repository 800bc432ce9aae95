"""compose.yaml cannot run here (no Docker engine); it must at least parse and name every process."""
from __future__ import annotations

import re

import yaml

from tests.support.processes import ROOT


def test_compose_names_every_process_the_local_stack_starts():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"kafka", "postgres", "redis", "nginx"} <= set(services)
    assert services["kafka"]["image"].startswith("apache/kafka:4.1")
    started = re.findall(r'^\s+"(\w+) ([\w.]+) ', (ROOT / "stack" / "services.sh").read_text(), re.M)
    assert started, "services.sh lists its processes"
    for name, module in started:
        assert name in services, f"compose.yaml lacks {name}"
        assert services[name]["command"][-1] == module
        assert services[name]["environment"]["BOXOFFICE_KAFKA_BOOTSTRAP"] == "kafka:9092"
    for engine in ("kafka", "postgres", "redis"):
        assert "healthcheck" in services[engine]
