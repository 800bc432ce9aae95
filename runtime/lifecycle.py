"""Signal-safe lifecycle for long-running workers.

The first SIGTERM/SIGINT sets `stopping`: loops stop taking new work, finish what is in flight within
their deadline, flush producers, persist positions and close pools. A second signal exits at once.
"""

from __future__ import annotations

import asyncio
import os
import signal

import structlog

log = structlog.get_logger()


class Lifecycle:
    def __init__(self) -> None:
        self.stopping = asyncio.Event()

    def install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal, sig)

    def _on_signal(self, sig: signal.Signals) -> None:
        if self.stopping.is_set():
            log.warning("second signal, exiting now", signal=sig.name)
            os._exit(128 + sig.value)
        log.info("stopping", signal=sig.name)
        self.stopping.set()

    def stop(self) -> None:
        self.stopping.set()

    async def wait_for(self, event: asyncio.Event, timeout: float | None = None) -> bool:
        """Wait until `event` is set, the service stops, or `timeout` passes; True when stopping."""
        stop = asyncio.ensure_future(self.stopping.wait())
        wake = asyncio.ensure_future(event.wait())
        try:
            await asyncio.wait({stop, wake}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            wake.cancel()
        return self.stopping.is_set()

    async def sleep(self, seconds: float) -> bool:
        """Sleep unless stopping; True when the sleep was cut short by a stop."""
        try:
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)
            return True
        except TimeoutError:
            return False


def tune_gc() -> None:
    """Fewer, cheaper collections: move everything allocated at start-up out of the collector's view and
    collect the young generation less often. Services allocate many short-lived objects per request or
    batch; the default thresholds make gen-0 passes (and the occasional full pass) show up as tail latency."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)
