"""`GET /v1/bookings/{id}` with `Prefer: wait=N` and `If-None-Match`: requests that wait for a booking to
change, woken by the change notifications the projections publish.

A booking changes when the projections apply an event of its show, and they publish every applied change on
the show's channel (projections/keys.py `changes_channel`). The intake's process already holds one pub/sub
connection for the live seat map (intake/seat_stream.py `ChangeFeed`); the waits use the same feed, with one
listener per show that has waiting requests, whatever their number. When a show's channel says something
changed, the bookings waited for in that show are read again, all of them in one pipelined round trip, and
every request whose booking's tag moved is answered. They are also read again on a coarse timer (every
`recheck_s`), for what no show channel announces: a booking's place in line (the processor writes it after
every commit), a decision the projections did not publish (a rejection of a show that was never created), a
notification lost while the feed reconnected. A request registered after its handler read the booking is
checked once more at once, so a change in between is not left to the timer.

While a booking is RECEIVED its tag also carries its place in line (intake/conditional.py), which moves with
every decision of its partition: a waiting request is answered at once when the booking's state moves (it is
decided), but a move in the line alone is answered only once the request has waited `place_every_s` (or at
the end of its wait). Clients in a long line then ask about once per `place_every_s`, not once per decision.

At most `limit` requests wait in a process; beyond it a request is told at once that nothing was waited
(the handler answers 304 without Preference-Applied), as it is while the process stops.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

import structlog
from prometheus_client import Counter, Gauge

from intake.conditional import EntityTags, booking_tag
from runtime.transient import is_transient
from schemas.api import BookingView

log = structlog.get_logger()
WAITERS = Gauge("boxoffice_booking_waiters", "Requests waiting for a booking to change (Prefer: wait)")
WAITS = Counter(
    "boxoffice_booking_waits_total",
    "Requests that asked to wait for a booking to change, by outcome (changed, unchanged, full)",
    ["outcome"],
)
WAIT_LIMIT = 10_000
RECHECK_S = 1.5
PLACE_EVERY_S = 5.0
MIN_GAP_S = 0.05  # between two rounds of reads: a hot show's changes are read in batches, not one by one
LINGER_S = 5.0  # a show's listener outlives its last waiter this long (clients ask again right away)


class Feed(Protocol):
    """A show's change notifications (intake/seat_stream.py ChangeFeed): anything put on the queue means
    "something changed"."""

    async def subscribe(self, show_id: str) -> asyncio.Queue[Any]: ...
    async def unsubscribe(self, show_id: str, queue: asyncio.Queue[Any]) -> None: ...


class BookingReads(Protocol):
    async def bookings(self, booking_ids: Sequence[str]) -> list[BookingView | None]: ...


class Waited(NamedTuple):
    applied: bool  # False: nothing was waited (too many waiting, or stopping)
    booking: BookingView | None  # the booking once its tag moved; None: it had not by the end of the wait


@dataclass(eq=False)
class _Waiter:
    booking_id: str
    tags: EntityTags
    started: float
    done: asyncio.Future[BookingView]


@dataclass(eq=False)
class _Show:
    bookings: set[str] = field(default_factory=set)
    follower: asyncio.Task[None] | None = None
    idle_since: float | None = None


class BookingWaits:
    def __init__(
        self,
        reads: BookingReads,
        feed: Feed,
        *,
        limit: int = WAIT_LIMIT,
        recheck_s: float = RECHECK_S,
        place_every_s: float = PLACE_EVERY_S,
        min_gap_s: float = MIN_GAP_S,
        linger_s: float = LINGER_S,
    ) -> None:
        self._reads, self._feed, self._limit = reads, feed, limit
        self._recheck_s, self._place_every_s, self._min_gap_s, self._linger_s = (
            recheck_s,
            place_every_s,
            min_gap_s,
            linger_s,
        )
        self._shows: dict[str, _Show] = {}
        self._waiters: dict[str, set[_Waiter]] = {}  # booking id -> the requests waiting for it
        self._show_of: dict[str, str] = {}  # booking id -> its show
        self._count = 0
        self._due: set[str] = set()  # bookings to read again in the next round
        self._wake: asyncio.Event | None = None
        self._checker: asyncio.Task[None] | None = None
        self._closed = False
        self._failing = False

    @property
    def waiting(self) -> int:
        return self._count

    def listened(self) -> set[str]:
        """The shows this process listens to for waiting requests (one listener each)."""
        return set(self._shows)

    async def wait(
        self,
        booking: BookingView,
        tags: EntityTags,
        seconds: float,
        gone: Callable[[], Awaitable[bool]] | None = None,
    ) -> Waited:
        """Until the booking's tag is none of `tags` (then that booking), or `seconds` passed (None). `gone`:
        whether the client went away (checked every `recheck_s`: its place is given up)."""
        if self._closed or self._count >= self._limit:
            WAITS.labels("full").inc()
            return Waited(False, None)
        loop = asyncio.get_running_loop()
        waiter = _Waiter(booking.booking_id, tags, loop.time(), loop.create_future())
        self._add(booking.show_id, waiter)
        try:
            deadline = waiter.started + seconds
            while not waiter.done.done():
                left = deadline - loop.time()
                if left <= 0:
                    break
                await asyncio.wait({waiter.done}, timeout=min(left, self._recheck_s))
                if not waiter.done.done() and gone is not None and await gone():
                    break
        finally:
            self._remove(booking.show_id, waiter)
        changed = waiter.done.result() if waiter.done.done() and not waiter.done.cancelled() else None
        WAITS.labels("changed" if changed is not None else "unchanged").inc()
        return Waited(True, changed)

    # ------------------------------------------------------------ registration
    def _add(self, show_id: str, waiter: _Waiter) -> None:
        show = self._shows.get(show_id)
        if show is None:
            show = self._shows[show_id] = _Show()
            show.follower = asyncio.create_task(self._follow(show_id))
        show.bookings.add(waiter.booking_id)
        show.idle_since = None
        self._waiters.setdefault(waiter.booking_id, set()).add(waiter)
        self._show_of[waiter.booking_id] = show_id
        self._count += 1
        WAITERS.inc()
        self._mark([waiter.booking_id])  # a change since the handler read it is not left to the timer
        if self._checker is None or self._checker.done():
            self._checker = asyncio.create_task(self._check_loop())

    def _remove(self, show_id: str, waiter: _Waiter) -> None:
        if not waiter.done.done():
            waiter.done.cancel()
        waiters = self._waiters.get(waiter.booking_id)
        if waiters is None or waiter not in waiters:
            return
        waiters.discard(waiter)
        self._count -= 1
        WAITERS.dec()
        if waiters:
            return
        del self._waiters[waiter.booking_id]
        self._show_of.pop(waiter.booking_id, None)
        show = self._shows.get(show_id)
        if show is not None:
            show.bookings.discard(waiter.booking_id)
            if not show.bookings:
                show.idle_since = asyncio.get_running_loop().time()

    def _mark(self, booking_ids: Iterable[str]) -> None:
        self._due.update(booking_ids)
        if self._wake is not None:
            self._wake.set()

    # ------------------------------------------------------------ the show channels
    async def _follow(self, show_id: str) -> None:
        """The show's listener: every notification makes its waited bookings due for a read."""
        queue: asyncio.Queue[Any] | None = None
        try:
            while queue is None:
                try:
                    queue = await self._feed.subscribe(show_id)
                except Exception as exc:  # the timer covers the show meanwhile
                    log.warning("booking waits: cannot listen to the show, retrying", show_id=show_id, error=repr(exc))
                    await asyncio.sleep(self._recheck_s)
            self._mark_show(show_id)  # listening now: what changed before is read once
            while True:
                await queue.get()
                while not queue.empty():  # one round of reads for whatever arrived meanwhile
                    queue.get_nowait()
                self._mark_show(show_id)
        finally:
            if queue is not None:
                with contextlib.suppress(Exception):
                    await self._feed.unsubscribe(show_id, queue)

    def _mark_show(self, show_id: str) -> None:
        show = self._shows.get(show_id)
        if show is not None and show.bookings:
            self._mark(show.bookings)

    # ------------------------------------------------------------ reading again
    async def _check_loop(self) -> None:
        loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        if self._due:
            self._wake.set()
        next_tick = loop.time() + self._recheck_s
        while self._shows:
            timeout = next_tick - loop.time()
            if not self._due and timeout > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
            self._wake.clear()
            now = loop.time()
            if now >= next_tick:
                next_tick = now + self._recheck_s
                self._due.update(self._waiters)
                self._retire_idle(now)
            due, self._due = self._due & self._waiters.keys(), set()
            if due:
                await self._check(sorted(due))
                await asyncio.sleep(self._min_gap_s)

    async def _check(self, booking_ids: list[str]) -> None:
        try:
            views = await self._reads.bookings(booking_ids)
        except Exception as exc:  # the next round (a notification or the timer) reads them again
            if not self._failing:
                self._failing = True
                if is_transient(exc):
                    log.warning("booking waits: cannot read the bookings", error=repr(exc))
                else:
                    log.error("booking waits: reading the bookings failed unexpectedly", exc_info=exc)
            return
        self._failing = False
        now = asyncio.get_running_loop().time()
        for booking_id, view in zip(booking_ids, views, strict=True):
            if view is None:  # not readable right now (a generation switch): read again later
                continue
            tag = booking_tag(view)
            for waiter in self._waiters.get(booking_id, ()):
                if waiter.done.done() or waiter.tags.matches(tag):
                    continue
                if waiter.tags.same_state(tag) and now - waiter.started < self._place_every_s:
                    continue  # only the place in line moved: answered at the slower pace
                waiter.done.set_result(view)

    def _retire_idle(self, now: float) -> None:
        for show_id, show in list(self._shows.items()):
            if show.idle_since is not None and now - show.idle_since >= self._linger_s:
                del self._shows[show_id]
                if show.follower is not None:
                    show.follower.cancel()

    async def close(self) -> None:
        """Stop listening; a request still waiting is answered as if its wait had run out."""
        self._closed = True
        for waiters in self._waiters.values():
            for waiter in waiters:
                if not waiter.done.done():
                    waiter.done.cancel()
        tasks = [show.follower for show in self._shows.values() if show.follower is not None]
        if self._checker is not None:
            tasks.append(self._checker)
        self._shows.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
