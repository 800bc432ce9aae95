"""An idempotent Kafka producer that heals itself.

aiokafka's idempotent producer can be left unable to send for good: when a broker lost what it knew of the
producer's sequence numbers (seen after a single broker's restart), every later send fails with
OutOfOrderSequenceNumber (or UnknownProducerId, InvalidProducerEpoch, ProducerFenced), and only a new
producer — a new producer id — can send again. `HealingProducer` is that producer with a spare: a send that
fails so marks it broken, the failure is transient to the caller (`runtime/transient.py`: its retry resends),
and the next send first replaces the broken producer with a new one. What the broken one may have published
is published again by the retry: every consumer of ours dedupes (derived booking ids, show_version).
Everything else is the current producer's (`client`, `partitions_for`, `create_batch`, …).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import InvalidProducerEpoch, OutOfOrderSequenceNumber, ProducerFenced, UnknownProducerId

log = structlog.get_logger()
BROKEN = (OutOfOrderSequenceNumber, UnknownProducerId, InvalidProducerEpoch, ProducerFenced)


class HealingProducer:
    def __init__(self, make: Callable[[], AIOKafkaProducer]) -> None:
        self._make = make
        self._current: AIOKafkaProducer = make()
        self._broken = False
        self._lock = asyncio.Lock()
        self._retired: set[asyncio.Task[None]] = set()
        self.replacements = 0

    async def start(self) -> None:
        await self._current.start()

    async def stop(self) -> None:
        await self._current.stop()
        if self._retired:
            await asyncio.gather(*self._retired, return_exceptions=True)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._current, name)

    async def send(self, *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
        await self._healed()
        producer = self._current
        return self._watched(producer, await producer.send(*args, **kwargs))

    async def send_batch(self, *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
        await self._healed()
        producer = self._current
        return self._watched(producer, await producer.send_batch(*args, **kwargs))

    async def send_and_wait(self, *args: Any, **kwargs: Any) -> Any:
        await self._healed()
        producer = self._current
        try:
            return await (await producer.send(*args, **kwargs))
        except BROKEN:
            self._broke(producer)  # at once (a future's callback would run at the next turn of the loop)
            raise

    def _watched(self, producer: AIOKafkaProducer, future: asyncio.Future[Any]) -> asyncio.Future[Any]:
        def done(f: asyncio.Future[Any]) -> None:
            if not f.cancelled() and isinstance(f.exception(), BROKEN):
                self._broke(producer)

        future.add_done_callback(done)
        return future

    def _broke(self, producer: AIOKafkaProducer) -> None:
        if producer is self._current:  # a send of an already replaced one says nothing of the new one
            self._broken = True

    async def _healed(self) -> None:
        if not self._broken:
            return
        seen = self._current
        async with self._lock:
            if self._current is not seen:
                return  # another sender replaced it meanwhile
            fresh = self._make()
            await fresh.start()  # a transient failure here is the caller's to retry; still broken meanwhile
            broken, self._current, self._broken = self._current, fresh, False
            self.replacements += 1
            log.error("kafka producer could not send any more: replaced by a new one")
            task = asyncio.create_task(_stop_quietly(broken))
            self._retired.add(task)
            task.add_done_callback(self._retired.discard)


async def _stop_quietly(producer: AIOKafkaProducer) -> None:
    with contextlib.suppress(Exception):
        await producer.stop()
