"""Commit a partition's batch, whatever the database says: retry the weather, isolate a bad command, halt on a bug.

- A transient failure (a lost connection, a primary moving, a lock timeout) retries the whole transaction
  (the one retry primitive): the same batch, nothing skipped.
- The database refusing a command for what it carries (`refused_for_its_content`) is bad input: the batch is
  decided again one command per transaction to find it; that command is dead-lettered and its request
  decided `invalid_request` in its place (see undecidable.py).
- Fenced / PartitionPaused are raised to the caller (another processor moved on / the partition moves).
- Anything else is a defect: raised to the caller, which halts the partition — once the batch has failed
  the same way a second time, SECOND_TRY_S later. A defect reproduces; an error a database client raises for a
  connection that broke under it, under a name `runtime/transient.py` does not know yet, does not (a halt
  during a failover would leave the partition stopped until a restart).
"""

from __future__ import annotations

import structlog
from aiokafka import TopicPartition

from booking_processor import metrics
from booking_processor.dead_letters import DeadLetters
from booking_processor.decisions import Decisions, Item, refused_for_its_content
from booking_processor.store import Fenced, PartitionPaused
from booking_processor.undecidable import Undecidable
from runtime.lifecycle import Lifecycle
from runtime.retry import Retry, Stopped

log = structlog.get_logger()
SECOND_TRY_S = 1.0


class Halt(Exception):
    """A defect (not bad input, not the network): the partition stops where it is."""


class Committer:
    def __init__(self, decisions: Decisions, dead_letters: DeadLetters, group: str, lifecycle: Lifecycle) -> None:
        self._decisions, self._dead_letters, self._group = decisions, dead_letters, group
        self._retry = Retry("processor batch", lifecycle, first=0.05, also=())
        self._lifecycle = lifecycle

    async def commit(self, shard: int, tp: TopicPartition, expected: int, next_offset: int, items: list[Item]) -> bool:
        """True once committed; False when stopping first (nothing advanced: the next owner starts here)."""
        try:
            try:
                await self._commit_with_retry(shard, tp, expected, next_offset, items)
            except (Fenced, PartitionPaused, Halt):
                raise
            except Exception as exc:
                log.warning(
                    "unexpected error deciding a batch: trying it once more before halting the partition",
                    error=repr(exc),
                    partition=tp.partition,
                    position=expected,
                )
                metrics.SECOND_TRIES.inc()
                if await self._lifecycle.sleep(SECOND_TRY_S):
                    return False
                await self._commit_with_retry(shard, tp, expected, next_offset, items)
        except Stopped:
            return False
        return True

    async def _commit_with_retry(
        self, shard: int, tp: TopicPartition, expected: int, next_offset: int, items: list[Item]
    ) -> None:
        async def attempt() -> None:
            try:
                await self._decisions.commit(shard, self._group, tp, expected, next_offset, items)
            except Exception as exc:
                if self._retry.retried(exc):
                    metrics.RETRIES.inc()
                raise

        try:
            await self._retry.run(attempt)
        except (Fenced, PartitionPaused, Stopped):
            raise
        except Exception as exc:
            if not refused_for_its_content(exc):
                raise  # a defect: the caller halts the partition
            log.warning(
                "the database refused a command for its content; isolating it",
                error=repr(exc),
                partition=tp.partition,
                commands=len(items),
            )
            if len(items) > 1:
                await self._commit_one_by_one(shard, tp, expected, next_offset, items)
            else:
                await self._reject_for_content(shard, tp, expected, next_offset, items[0], exc)

    async def _commit_one_by_one(
        self, shard: int, tp: TopicPartition, expected: int, next_offset: int, items: list[Item]
    ) -> None:
        """Decide a refused batch's commands one transaction each, to find the one the database refuses.
        Every transaction but the last leaves the position where it is (the last moves it past the batch):
        after a crash in between the batch is read again, and what was decided is a no-op the second time."""
        for i, item in enumerate(items):
            target = next_offset if i == len(items) - 1 else expected
            await self._commit_with_retry(shard, tp, expected, target, [item])

    async def _reject_for_content(
        self, shard: int, tp: TopicPartition, expected: int, next_offset: int, item: Item, exc: BaseException
    ) -> None:
        """Dead-letter the command, then decide its request `invalid_request` in its place."""
        if isinstance(item, Undecidable):
            raise Halt(f"the rejection of an undecidable command was refused: {exc!r}") from exc
        await self._dead_letters.command(item, exc)
        await self._commit_with_retry(shard, tp, expected, next_offset, [Undecidable.from_command(item, repr(exc))])
