"""An idempotent producer that can never send again (OutOfOrderSequenceNumber and its kin, seen after a single
broker's restart) is replaced by a new one at the next send; the failure itself is transient to the caller."""

from __future__ import annotations

import asyncio

from aiokafka.errors import OutOfOrderSequenceNumber

from runtime.producer import HealingProducer
from runtime.transient import is_transient


class _Producer:
    def __init__(self, n: int, broken: bool) -> None:
        self.n, self.broken, self.started, self.stopped = n, broken, False, False
        self.client = f"client-{n}"

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def send(self, topic, value=None, key=None, headers=None):
        future = asyncio.get_running_loop().create_future()
        if self.broken:
            future.set_exception(OutOfOrderSequenceNumber())
        else:
            future.set_result((self.n, topic, value))
        return future


async def test_a_broken_producer_is_replaced_at_the_next_send():
    made: list[_Producer] = []

    def make() -> _Producer:
        made.append(_Producer(len(made), broken=not made))  # the first one is broken
        return made[-1]

    producer = HealingProducer(make)  # type: ignore[arg-type]
    await producer.start()
    assert producer.client == "client-0"  # everything else is the current producer's
    try:
        await producer.send_and_wait("t", b"a")
        raise AssertionError("the broken producer's send must fail")
    except OutOfOrderSequenceNumber as exc:
        assert is_transient(exc)  # the caller's retry resends
    assert await producer.send_and_wait("t", b"a") == (1, "t", b"a")  # through a new producer
    assert producer.replacements == 1 and made[1].started and producer.client == "client-1"
    await producer.stop()
    assert made[0].stopped and made[1].stopped


async def test_senders_racing_on_a_broken_producer_replace_it_once():
    made: list[_Producer] = []

    def make() -> _Producer:
        made.append(_Producer(len(made), broken=not made))
        return made[-1]

    producer = HealingProducer(make)  # type: ignore[arg-type]
    await producer.start()
    results = await asyncio.gather(*[producer.send_and_wait("t", b"x") for _ in range(5)], return_exceptions=True)
    assert isinstance(results[0], OutOfOrderSequenceNumber)  # the first learns it is broken
    assert all(isinstance(r, OutOfOrderSequenceNumber) or r == (1, "t", b"x") for r in results)
    assert await asyncio.gather(*[producer.send_and_wait("t", b"y") for _ in range(5)]) == [(1, "t", b"y")] * 5
    assert len(made) == 2 and producer.replacements == 1
    await producer.stop()
