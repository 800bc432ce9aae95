"""runtime/commit_pace.py: offsets committed at most once a second under load, at once when a fetch is empty."""

from __future__ import annotations

import asyncio

import pytest

from runtime.commit_pace import CommitPace


def test_under_load_at_most_once_per_interval_and_at_once_at_rest():
    now = [100.0]
    pace = CommitPace(every_s=1.0, clock=lambda: now[0])
    decisions = []
    for _ in range(25):  # a batch every 100 ms for 2.5 s
        now[0] += 0.1
        decisions.append(pace.due(fetched=True))
    assert decisions.count(True) == 2  # at 1.0 s and 2.0 s
    assert pace.due(fetched=False)  # a fetch that found nothing: commit what was handled
    now[0] += 0.1
    assert not pace.due(fetched=True)  # the interval starts again from that commit


async def test_a_commit_is_bounded():
    calls = []

    class Consumer:
        async def commit(self, offsets=None):
            calls.append(offsets)
            if offsets is None:
                await asyncio.Event().wait()  # the coordinator unknown: aiokafka retries without end

    pace = CommitPace()
    await pace.commit(Consumer(), {"tp": 3}, timeout_s=0.05)  # type: ignore[arg-type, dict-item]
    assert pace.due(fetched=False)
    with pytest.raises(TimeoutError):
        await pace.commit(Consumer(), timeout_s=0.05)  # type: ignore[arg-type]
    assert calls == [{"tp": 3}, None]
    assert not pace.due(fetched=False)  # held after the timeout (the test below: for how long)


async def test_after_a_commit_timed_out_none_is_due_for_a_while_fetched_or_not():
    now = [100.0]
    pace = CommitPace(every_s=1.0, clock=lambda: now[0])

    class Consumer:
        async def commit(self, offsets=None):
            raise TimeoutError  # as the bound ends a commit that does not return (no real 10 s wait here)

    with pytest.raises(TimeoutError):
        await pace.commit(Consumer(), timeout_s=10.0)  # type: ignore[arg-type]
    for _ in range(99):  # ~9.9 s of batches and empty fetches: the loop goes on, no commit attempted
        now[0] += 0.1
        assert not pace.due(fetched=True) and not pace.due(fetched=False)
    now[0] += 0.2
    assert pace.due(fetched=False)  # then as before
