"""The intake's change feed (one Redis pub/sub connection fanned out to the open seat-map streams) keeps
reading whatever its connection raises: a stream is told to resync from the change log and then hears
changes again, instead of only heartbeats for as long as the process lives."""
from __future__ import annotations

import asyncio

from intake import seat_stream
from projections.keys import changes_channel


class _PubSub:
    def __init__(self, script: list) -> None:
        self.script, self.channels = script, set()

    async def subscribe(self, channel: str) -> None:
        self.channels.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self.channels.discard(channel)

    async def reset(self) -> None:
        self.channels.clear()

    async def get_message(self, timeout: float):
        await asyncio.sleep(0.001)
        step = self.script.pop(0) if self.script else None
        if isinstance(step, Exception):
            raise step
        return step


class _Redis:
    def __init__(self, script: list) -> None:
        self.script, self.made = script, 0

    def pubsub(self, ignore_subscribe_messages: bool):
        self.made += 1
        return _PubSub(self.script)


async def test_an_unexpected_error_resubscribes_and_the_stream_hears_changes_again():
    channel = changes_channel("sh_1").encode()
    redis = _Redis([RuntimeError("a pub/sub connection in a state nobody expected"),
                    {"type": "message", "channel": channel, "data": b"change after the failure"}])
    feed = seat_stream.ChangeFeed(redis)
    queue = await feed.subscribe("sh_1")
    heard = [await asyncio.wait_for(queue.get(), 5) for _ in range(2)]
    assert heard == [seat_stream._RESYNC, b"change after the failure"]
    assert redis.made == 2  # a new connection, subscribed again
    assert not feed._reader.done()
    await feed.close()
