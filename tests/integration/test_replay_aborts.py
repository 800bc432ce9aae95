"""A replay that cannot tell how many live projection consumers must pause stops before the switch: guessing
would let a live consumer go on applying events into the old generation after it."""

from __future__ import annotations

import io

import pytest

from ops import replay
from projections.keys import ACTIVE_NAMESPACE_KEY, HANDOVER_KEY


class _BrokenAdmin:
    def __init__(self, **kw) -> None:
        pass

    async def start(self) -> None:
        pass

    async def describe_consumer_groups(self, groups):
        raise OSError("the group coordinator did not answer")

    async def close(self) -> None:
        pass


async def test_replay_aborts_when_the_live_consumers_cannot_be_counted(settings, redis, monkeypatch):
    before = await redis.get(ACTIVE_NAMESPACE_KEY)
    keys_before = {k async for k in redis.scan_iter(match="bo:g*", count=1000)}
    monkeypatch.setattr(replay, "kafka_admin", lambda *args, **kw: _BrokenAdmin())
    with pytest.raises(replay.ReplayFailed, match="cannot tell how many live projection consumers"):
        await replay.replay_projections(settings, redis, progress_stream=io.StringIO())
    assert await redis.get(ACTIVE_NAMESPACE_KEY) == before  # the live generation stays
    assert await redis.get(HANDOVER_KEY) is None  # live consumers were never asked to pause
    live = (before or b"bo:g0") + b":"
    new = {k async for k in redis.scan_iter(match="bo:g*", count=1000)} - keys_before
    assert {k for k in new if not k.startswith(live)} == set()  # the generation it began was deleted
