"""Every log line of a process is one JSON object: structlog's and the libraries' (stdlib logging) alike."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.processes import ROOT

SNIPPET = """
import logging
from runtime.logging import configure_logging
log = configure_logging("svc-test", "info")
log.info("ours", n=1)
logging.getLogger("aiokafka.consumer").warning("a library's %s", "warning")
logging.getLogger("aiokafka.consumer").info("a library's chatter")
try:
    1 / 0
except ZeroDivisionError:
    logging.getLogger("somelib").exception("it broke")
"""


def test_structlog_and_library_lines_are_json_with_the_service():
    out = subprocess.run([sys.executable, "-c", SNIPPET], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stderr.splitlines()]  # each line parses, or this fails
    assert [line["event"] for line in lines] == ["ours", "a library's warning", "it broke"]  # no INFO chatter
    assert all(line["service"] == "svc-test" and "timestamp" in line for line in lines)
    assert lines[0]["n"] == 1
    assert lines[1]["logger"] == "aiokafka.consumer" and lines[1]["level"] == "warning"
    assert "ZeroDivisionError" in lines[2]["exception"]
