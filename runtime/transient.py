"""What counts as transient: a lost, refused or overloaded connection to Kafka, PostgreSQL or Redis.

Workers retry these with backoff, report not ready meanwhile and resume by themselves; the intake answers
503 with Retry-After. Anything else raised by our code is a defect: it is never retried as if it were
the weather, and never dead-lettered as if it were bad input.
"""

from __future__ import annotations

import asyncio

import asyncpg
import redis.exceptions
from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError

from runtime.producer import BROKEN

_ALWAYS = (
    OSError,  # ConnectionRefusedError, ConnectionResetError, …
    TimeoutError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,  # class 08, ConnectionDoesNotExistError
    asyncpg.exceptions.OperatorInterventionError,  # class 57: admin/crash shutdown, cannot connect now
    asyncpg.exceptions.InsufficientResourcesError,  # class 53: too many connections, …
    asyncpg.exceptions.LockNotAvailableError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.ReadOnlySQLTransactionError,  # a primary that came back as a standby for a moment
    # A multi-host DSN (target_session_attrs=read-write) while a failover is under way: every node a standby.
    asyncpg.exceptions.TargetServerAttributeNotMatched,
    redis.exceptions.ConnectionError,  # BusyLoadingError (LOADING) included
    redis.exceptions.TimeoutError,
    redis.exceptions.TryAgainError,
    KafkaConnectionError,
    KafkaTimeoutError,
    # An idempotent producer that lost its sequence: a retry goes through a new producer (runtime/producer.py).
    *BROKEN,
)


# Base classes of what the stores' clients raise (for registering handlers; `is_transient` decides).
STORE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    redis.exceptions.RedisError,
    KafkaError,
)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, _ALWAYS):
        return True
    if isinstance(exc, KafkaError):
        return bool(getattr(exc, "retriable", False))
    if isinstance(exc, asyncpg.exceptions.InternalClientError) and "cannot switch to state" in str(exc):
        # asyncpg's protocol state after its connection died under an operation (seen across failovers).
        return True
    if isinstance(exc, asyncpg.InterfaceError):
        # asyncpg reports a connection that died under it as an InterfaceError; misuse is a defect. "Another
        # operation is in progress" is the former too when the server died mid-operation (seen killing a
        # shard's primary under load: the processor's commit on a connection the pool was still resetting).
        # Our connections are never shared between tasks (each is acquired from its pool for one job).
        message = str(exc)
        return any(
            words in message
            for words in ("connection is closed", "connection was closed", "another operation is in progress")
        )
    return False
