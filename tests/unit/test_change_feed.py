"""The intake's change feed (one Redis pub/sub connection fanned out to the open seat-map streams) keeps
reading whatever its connection raises: a stream is told to resync from the change log and then hears
changes again, instead of only heartbeats for as long as the process lives."""

from __future__ import annotations

import asyncio

from intake import seat_stream
from projections.keys import changes_channel


class _PubSub:
    def __init__(self, script: list, refuse_subscribe: list) -> None:
        self.script, self.channels, self.refuse_subscribe = script, set(), refuse_subscribe

    async def subscribe(self, channel: str) -> None:
        if self.refuse_subscribe:
            raise self.refuse_subscribe.pop(0)
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
    def __init__(self, script: list, refuse_subscribe: list | None = None) -> None:
        self.script, self.made, self.refuse_subscribe = script, 0, refuse_subscribe or []

    def pubsub(self, ignore_subscribe_messages: bool):
        self.made += 1
        return _PubSub(self.script, self.refuse_subscribe if self.made > 1 else [])


async def test_an_unexpected_error_resubscribes_and_the_stream_hears_changes_again():
    channel = changes_channel("sh_1").encode()
    redis = _Redis(
        [
            RuntimeError("a pub/sub connection in a state nobody expected"),
            {"type": "message", "channel": channel, "data": b"change after the failure"},
        ]
    )
    feed = seat_stream.ChangeFeed(redis)
    queue = await feed.subscribe("sh_1")
    heard = [await asyncio.wait_for(queue.get(), 5) for _ in range(2)]
    assert heard == [seat_stream._RESYNC, b"change after the failure"]
    assert redis.made == 2  # a new connection, subscribed again
    assert not feed._reader.done()
    await feed.close()


async def test_a_resubscription_that_fails_is_tried_again_before_anyone_is_told_to_resync():
    channel = changes_channel("sh_1").encode()
    redis = _Redis(
        [
            ConnectionResetError(104, "reset"),
            {"type": "message", "channel": channel, "data": b"change after the failure"},
        ],
        refuse_subscribe=[ConnectionRefusedError(111, "Redis still restarting")],
    )
    feed = seat_stream.ChangeFeed(redis)
    queue = await feed.subscribe("sh_1")
    heard = [await asyncio.wait_for(queue.get(), 5) for _ in range(2)]
    assert heard == [seat_stream._RESYNC, b"change after the failure"]
    assert redis.made == 3  # the first fresh connection could not subscribe: another one did
    assert queue.empty()  # one resync, told once the feed was whole again
    await feed.close()
