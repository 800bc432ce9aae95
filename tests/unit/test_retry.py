"""The one retry primitive: transient errors only, a stop cuts the wait short, one log line per kind."""

from __future__ import annotations

import asyncio

import pytest
import structlog

from runtime.lifecycle import Lifecycle
from runtime.retry import RETRIES, Retry, Stopped


def _flaky(failures: list[BaseException], result: str = "done"):
    calls = []

    async def work() -> str:
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return result

    return work, calls


async def test_transient_errors_are_retried_until_success():
    work, calls = _flaky([ConnectionRefusedError(), TimeoutError(), ConnectionResetError()])
    before = RETRIES.labels("unit-a", "TimeoutError")._value.get()
    assert await Retry("unit-a", first=0.001, cap=0.002).run(work) == "done"
    assert len(calls) == 4
    assert RETRIES.labels("unit-a", "TimeoutError")._value.get() == before + 1


async def test_a_defect_is_raised_at_once():
    work, calls = _flaky([ValueError("bug")])
    with pytest.raises(ValueError, match="bug"):
        await Retry("unit-b", first=0.001).run(work)
    assert len(calls) == 1


async def test_also_names_more_retried_errors():
    class Moving(Exception):
        pass

    work, calls = _flaky([Moving()])
    assert await Retry("unit-c", first=0.001, also=(Moving,)).run(work) == "done"
    assert len(calls) == 2


async def test_a_stop_cuts_the_wait_short():
    lifecycle = Lifecycle()

    async def never() -> None:
        raise ConnectionRefusedError()

    retry = Retry("unit-d", lifecycle, first=30, cap=60)  # the first wait would be seconds long
    task = asyncio.create_task(retry.run(never))
    await asyncio.sleep(0.05)
    lifecycle.stop()
    async with asyncio.timeout(1):
        with pytest.raises(Stopped):
            await task
    with pytest.raises(Stopped):  # stopping already: no attempt at all
        await retry.run(never)


async def test_each_kind_is_logged_once_until_a_success():
    work, _ = _flaky([ConnectionRefusedError(), ConnectionRefusedError(), TimeoutError(), ConnectionRefusedError()])
    retry = Retry("unit-e", first=0.001, cap=0.001)
    with structlog.testing.capture_logs() as logs:
        await retry.run(work)
        first = [entry["error"] for entry in logs]
        work2, _ = _flaky([ConnectionRefusedError()])
        await retry.run(work2)
    assert first == ["ConnectionRefusedError()", "TimeoutError()"]
    assert len(logs) == 3  # logged again after the success in between


async def test_work_may_be_a_lambda_returning_a_coroutine():
    work, calls = _flaky([ConnectionRefusedError()])
    assert await Retry("unit-f", first=0.001).run(lambda: work()) == "done"
    assert len(calls) == 2


def test_a_failover_in_progress_is_transient():
    import asyncpg

    from runtime.transient import is_transient

    assert is_transient(asyncpg.exceptions.TargetServerAttributeNotMatched("None of the hosts match"))
    assert is_transient(asyncpg.exceptions.InternalClientError("cannot switch to state 12; another operation"))
    assert not is_transient(asyncpg.exceptions.InternalClientError("something else"))
    # Seen when a shard's primary was SIGKILLed under load (the partition halted in CI before it was known).
    assert is_transient(asyncpg.InterfaceError("cannot perform operation: another operation is in progress"))
    assert not is_transient(asyncpg.InterfaceError("the server expects 2 arguments for this query, 1 was passed"))
