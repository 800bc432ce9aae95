"""The failed-test diagnostics (tests/support/service_errors.py): only what was logged during the test, errors
and halts only, each distinct event once."""

from __future__ import annotations

from tests.support import service_errors


def test_only_new_errors_and_halts_each_once(tmp_path):
    log = tmp_path / "booking_processor.log"
    log.write_text('{"level": "error", "event": "before the test", "service": "p"}\n')
    before = service_errors.sizes(tmp_path)
    with log.open("a") as f:
        f.write('{"level": "info", "event": "batch decided", "service": "p"}\n')
        f.write('{"level": "error", "event": "boom", "service": "p"}\n' * 2)
        f.write('{"level": "warning", "event": "partition halted by a defect", "service": "p"}\n')
        f.write("not JSON, and halted\n")
    found = service_errors.errors_since(before, tmp_path)
    assert [line.split(": ", 1)[0] for line in found] == ["booking_processor.log"] * 3
    assert ["boom" in found[0], "halted by a defect" in found[1], "not JSON" in found[2]] == [True] * 3
