"""The one retry primitive: how every loop rides through a lost dependency (Kafka, PostgreSQL, Redis).

`Retry(what, lifecycle).run(work)` runs `work()` until it returns, on tenacity's `AsyncRetrying`:
- only what `runtime/transient.py` calls transient is retried (plus the `also` exceptions a caller names,
  e.g. a partition that is moving); anything else is raised at once: a defect is never retried as if it
  were the weather;
- the wait is exponential with full jitter (`wait_random_exponential`), from `first` up to `cap` seconds:
  many workers that lost the same server do not come back in lockstep;
- a stop ends it: when the lifecycle is stopping, the wait is cut short and `Stopped` is raised, so a
  SIGTERM never waits out a backoff;
- each kind of error is logged once (a warning with the first error of its kind) until `work` succeeds
  again, and every retry is counted in `boxoffice_retries_total{what, error}`.

A `Retry` object keeps only what it has logged; it is meant to live as long as its loop (a step that is
retried, then succeeds, then fails again is logged again). tenacity was chosen over a hand-written loop
(there were 14, each restating the catch, the backoff, the log and the stop) and over stamina (which wraps
tenacity, with less control over the sleep a stop must cut short).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog
from prometheus_client import Counter
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_random_exponential

from runtime.lifecycle import Lifecycle
from runtime.transient import is_transient

T = TypeVar("T")
log = structlog.get_logger()
RETRIES = Counter("boxoffice_retries_total", "Retries after a transient failure, by loop and error", ["what", "error"])


class Stopped(Exception):
    """The service is stopping: the retry gave up without an answer."""


class Retry:
    def __init__(
        self,
        what: str,
        lifecycle: Lifecycle | None = None,
        *,
        first: float = 0.1,
        cap: float = 5.0,
        also: tuple[type[BaseException], ...] = (),
    ) -> None:
        self.what, self._lifecycle, self._also = what, lifecycle, also
        self._first, self._cap = first, cap
        self._logged: set[str] = set()

    def retried(self, exc: BaseException) -> bool:
        return is_transient(exc) or isinstance(exc, self._also)

    async def run(self, work: Callable[[], Awaitable[T]]) -> T:
        """`work()` until it returns; its own non-transient errors propagate; `Stopped` when stopping first."""
        if self._lifecycle is not None and self._lifecycle.stopping.is_set():
            raise Stopped(self.what)
        retrying = AsyncRetrying(
            retry=retry_if_exception(self.retried),
            wait=wait_random_exponential(multiplier=self._first, max=self._cap),
            sleep=self._sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )

        async def attempt() -> T:  # a coroutine function: tenacity would not await what a lambda returns
            return await work()

        result: T = await retrying(attempt)
        self._logged.clear()
        return result

    async def _sleep(self, seconds: float) -> None:
        if self._lifecycle is None:
            await asyncio.sleep(seconds)
        elif await self._lifecycle.sleep(seconds):
            raise Stopped(self.what)

    def _before_sleep(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        kind = type(exc).__name__
        RETRIES.labels(self.what, kind).inc()
        if kind not in self._logged:
            self._logged.add(kind)
            wait = state.next_action.sleep if state.next_action is not None else None
            log.warning(f"{self.what}: unavailable, retrying", error=repr(exc), attempt=state.attempt_number, wait=wait)
