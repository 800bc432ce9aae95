"""Which offsets of booking.events the notifier may commit: per partition, the lowest one handed out and not
yet handled (sent, skipped, or scheduled for a retry in PostgreSQL), else one past the last one seen."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka import TopicPartition


class Offsets:
    def __init__(self) -> None:
        self.pending: dict[TopicPartition, set[int]] = {}
        self.seen: dict[TopicPartition, int] = {}

    def add(self, tp: TopicPartition, offset: int) -> None:
        self.pending.setdefault(tp, set()).add(offset)
        self.seen[tp] = max(self.seen.get(tp, -1), offset)

    def done(self, tp: TopicPartition, offset: int) -> None:
        self.pending.get(tp, set()).discard(offset)

    def committable(self) -> dict[TopicPartition, int]:
        return {tp: (min(self.pending[tp]) if self.pending.get(tp) else last + 1) for tp, last in self.seen.items()}

    def forget(self, tps: Iterable[TopicPartition]) -> None:
        for tp in list(tps):
            self.pending.pop(tp, None)
            self.seen.pop(tp, None)
