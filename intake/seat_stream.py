"""`GET /v1/shows/{id}/seats/stream`: a show's seat changes as Server-Sent Events.

The projections publish the applied changes of a show (version, the seats that changed state; one JSON array
per batch) on the show's Redis channel and append them to the show's capped change log. Each intake process
holds one pub/sub connection and shares a show's subscription among its clients. A client resumes after a
version (`Last-Event-ID`, or `?after=`): the missed changes come from the change log, then live ones follow,
each exactly once and in version order. When the log no longer reaches back far enough, or a client falls
too far behind, it gets a `reset` event with the current version and refetches the map. A `heartbeat` event
at once and every 15 s (data: the version the stream is at) keeps proxies open and lets clients notice a
dead connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import redis.asyncio as aioredis
import structlog
from prometheus_client import Gauge
from starlette.responses import StreamingResponse

from projections.keys import Keys, changes_channel, show_of_channel
from runtime.retry import Retry
from runtime.transient import is_transient

log = structlog.get_logger()
HEARTBEAT_S = 15.0
QUEUE_MAX = 1000  # a client this far behind gets a reset instead of an ever-growing queue
STREAMS = Gauge("boxoffice_seat_streams", "Open seat-map event streams")
_RESYNC = object()  # the feed reconnected: changes may have been missed, check the log


class _Version(msgspec.Struct):
    version: int


_version = msgspec.json.Decoder(_Version)
_raw_list = msgspec.json.Decoder(list[msgspec.Raw])


def _changes(blob: bytes) -> list[tuple[int, bytes]]:
    """A published message or log entry (a JSON array of changes, in version order) as (version, JSON)."""
    return [(_version.decode(raw).version, bytes(raw)) for raw in _raw_list.decode(blob)]


class ChangeFeed:
    """One Redis pub/sub connection per process, fanned out to the streams of each show."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._pubsub = redis.pubsub(ignore_subscribe_messages=True)
        self._listeners: dict[str, set[asyncio.Queue]] = {}
        self._reader: asyncio.Task | None = None

    async def subscribe(self, show_id: str) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=QUEUE_MAX)
        listeners = self._listeners.setdefault(show_id, set())
        if not listeners:
            await self._pubsub.subscribe(changes_channel(show_id))
        listeners.add(queue)
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read())
        return queue

    async def unsubscribe(self, show_id: str, queue: asyncio.Queue) -> None:
        listeners = self._listeners.get(show_id, set())
        listeners.discard(queue)
        if not listeners:
            self._listeners.pop(show_id, None)
            with contextlib.suppress(Exception):
                await self._pubsub.unsubscribe(changes_channel(show_id))

    async def _read(self) -> None:
        # Whatever a lost connection raises, the feed goes on (streams would hear heartbeats only): the
        # retry takes any error, not only the transient ones, and its backoff grows until a fresh
        # connection, subscribed again, has answered.
        retry = Retry("change feed", also=(Exception,))
        while self._listeners:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except Exception as exc:
                if is_transient(exc):
                    log.warning("change feed lost Redis, resubscribing", error=repr(exc))
                else:
                    log.error("change feed failed unexpectedly, resubscribing", exc_info=exc)
                message = await retry.run(self._resubscribed)
            if message is None or message.get("type") != "message":
                continue
            show_id = show_of_channel(message["channel"].decode())
            for queue in list(self._listeners.get(show_id, ())):
                _offer(queue, message["data"])

    async def _resubscribed(self) -> dict | None:
        """A new connection subscribed to every listened show, then the streams told to resync from the log
        (nothing told while that cannot be done), then the connection's first message."""
        with contextlib.suppress(Exception):
            await self._pubsub.reset()  # the old connection goes, however broken it is
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        if not self._listeners:
            return None  # nobody listens any more: the reader ends
        for show_id in list(self._listeners):
            await self._pubsub.subscribe(changes_channel(show_id))
        self._broadcast_all(_RESYNC)
        return await self._pubsub.get_message(timeout=1.0)

    def _broadcast_all(self, item: object) -> None:
        for listeners in self._listeners.values():
            for queue in listeners:
                _offer(queue, item)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()


def _offer(queue: asyncio.Queue, item: object) -> None:
    try:
        queue.put_nowait(item)
    except asyncio.QueueFull:  # the client is too slow: drop what it has, make it resynchronise
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(_RESYNC)


def _change(version: int, data: bytes) -> bytes:
    return b"id: %d\nevent: change\ndata: %s\n\n" % (version, data)


def _reset(version: int) -> bytes:
    return b'event: reset\ndata: {"version":%d}\n\n' % version


class StreamSlots:
    """How many seat-map streams this process has open, against its cap (`seat_streams_max`; 0: none)."""

    def __init__(self) -> None:
        self.open = 0

    def take(self, cap: int) -> bool:
        if cap and self.open >= cap:
            return False
        self.open += 1
        return True

    def release(self) -> None:
        self.open -= 1


class SlottedStream(StreamingResponse):
    """A stream that gives its slot back when it ends however it ends (the client hung up before its first
    byte included: a body generator that never started would never run its `finally`)."""

    def __init__(self, slots: StreamSlots, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._slots = slots

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._slots.release()


class SeatStream:
    """The events of one client's stream, from `after` on."""

    def __init__(self, redis: aioredis.Redis, keys: Keys, feed: ChangeFeed, show_id: str) -> None:
        self._redis, self._keys, self._feed, self._show_id = redis, keys, feed, show_id

    async def _current(self) -> int:
        return int(await self._redis.hget(self._keys.show(self._show_id), "version") or 0)

    async def _since(self, last: int, upto: int | None) -> tuple[list[bytes], int]:
        """The logged changes after `last` (through `upto`), as events, and the version they reach; a reset
        when the log does not reach back to `last + 1`."""
        # Entries are keyed by the last version they hold: the first one at or after last + 1 holds it.
        entries = await self._redis.xrange(self._keys.changes(self._show_id), min=f"{last + 1}-0", max="+")
        events, reached = [], last
        logged = (change for _, fields in entries for change in _changes(fields[b"changes"]))
        for version, data in logged:
            if version <= reached:
                continue
            if (upto is not None and version > upto) or version != reached + 1:
                break
            events.append(_change(version, data))
            reached = version
        target = upto if upto is not None else await self._current()
        if reached < target:
            current = await self._current()
            return [_reset(current)], current
        return events, reached

    async def events(self, after: int | None) -> AsyncIterator[bytes]:
        queue = await self._feed.subscribe(self._show_id)  # first: nothing published from now on is missed
        STREAMS.inc()
        try:
            current = await self._current()
            # Reconnect after 1 s; the heartbeat at once says where the show is.
            yield b'retry: 1000\nevent: heartbeat\ndata: {"version":%d}\n\n' % current
            if after is not None and after > current:
                # A version the show never reached (another generation of the read models, or made up):
                # start over from where the show is, or every change would look old and be skipped.
                yield _reset(current)
                after = current
            last = current if after is None else after
            backlog, last = await self._since(last, None)
            for event in backlog:
                yield event
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), HEARTBEAT_S)
                except TimeoutError:
                    yield b'event: heartbeat\ndata: {"version":%d}\n\n' % last
                    continue
                if item is _RESYNC:
                    backlog, last = await self._since(last, None)
                    for event in backlog:
                        yield event
                    continue
                for version, data in _changes(item):
                    if version <= last:
                        continue  # seen in the backlog already
                    if version > last + 1:  # a change went missing on the way: fill the gap from the log
                        backlog, last = await self._since(last, version - 1)
                        for event in backlog:
                            yield event
                        if version <= last:
                            continue
                    yield _change(version, data)
                    last = version
        finally:
            STREAMS.dec()
            await self._feed.unsubscribe(self._show_id, queue)


class RedisSeatStreams:
    """The intake's adapter: a stream of a show's changes from the live generation of the read models."""

    def __init__(self, reads, feed: ChangeFeed) -> None:
        self._reads, self._feed = reads, feed

    async def events(self, show_id: str, after: int | None) -> AsyncIterator[bytes]:
        keys = await self._reads.live_keys()
        async for event in SeatStream(self._reads.redis, keys, self._feed, show_id).events(after):
            yield event
