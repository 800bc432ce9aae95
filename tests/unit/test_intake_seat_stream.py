"""The change feed's channel names and its retry: a connection that fails again right after every fresh
subscription is retried with a growing wait, not in a loop as fast as Redis can refuse."""

from __future__ import annotations

import asyncio

from intake import seat_stream
from projections.keys import changes_channel, show_of_channel


def test_the_show_of_a_changes_channel_is_the_inverse_of_its_layout():
    for show_id in ("sh_1", "sh_" + "a" * 20, "sh_{odd}"):
        assert show_of_channel(changes_channel(show_id)) == show_id


class _Broken:
    """Every fresh connection subscribes, then fails at the first read."""

    def __init__(self) -> None:
        self.connections = 0

    def pubsub(self, ignore_subscribe_messages: bool):
        self.connections += 1
        return self

    async def subscribe(self, channel: str) -> None:
        pass

    async def unsubscribe(self, channel: str) -> None:
        pass

    async def reset(self) -> None:
        pass

    async def aclose(self) -> None:
        pass

    async def get_message(self, timeout: float):
        raise ConnectionResetError(104, "reset")


async def test_a_feed_that_keeps_failing_backs_off():
    redis = _Broken()
    feed = seat_stream.ChangeFeed(redis)  # type: ignore[arg-type]
    await feed.subscribe("sh_1")
    await asyncio.sleep(1.0)
    # full-jitter waits from 0.1 s doubling to 5 s: a handful of connections in a second, not thousands
    assert 2 <= redis.connections <= 30
    assert not feed._reader.done()
    await feed.close()
