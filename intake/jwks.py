"""Keeping the identity provider's keys current when they come from its `jwks_uri` (BOXOFFICE_AUTH_JWKS an
http(s) URL): providers rotate signing keys, publishing the new one before they sign with it and withdrawing
the old one after. The intake refetches the set every `auth_jwks_refresh_s`, and early (at most once per
`MIN_GAP_S`) when a token names a kid it does not know: a token of a just-rotated key is refused (401) until
the refetch lands, then accepted. A refetch that fails keeps the keys it had (logged; the next one retries);
a key the set no longer lists is no longer trusted, and tokens cached under it go with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import httpx
import structlog

from intake.tokens import TokenVerifier, TrustedKey, jwks_keys

log = structlog.get_logger()
MIN_GAP_S = 30.0  # the fewest seconds between two refetches (unknown kids cannot make the intake hammer it)


def is_url(source: str) -> bool:
    return source.startswith(("https://", "http://"))


class JwksRefresher:
    def __init__(
        self,
        source: str,
        issuer: str,
        tokens: TokenVerifier,
        http: httpx.AsyncClient,
        interval_s: float,
        extra_keys: list[TrustedKey] | None = None,
        clock: Callable[[], float] = time.monotonic,
        min_gap_s: float = MIN_GAP_S,
    ) -> None:
        self._source, self._issuer, self._tokens, self._http = source, issuer, tokens, http
        self._interval_s, self._min_gap_s, self._clock = interval_s, min_gap_s, clock
        self._extra = list(extra_keys or [])  # kept whatever the set says (the development sign-in's key)
        self._wake = asyncio.Event()
        self._last = clock()  # the keys in hand were read at start
        self._task: asyncio.Task[None] | None = None
        self.refreshed = 0  # successful refetches (tests and metrics read it)
        tokens.verifier.on_unknown_kid = self._wake.set

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def refresh(self) -> bool:
        """Fetch the set once; True when its keys are now the trusted ones."""
        self._last = self._clock()
        try:
            response = await self._http.get(self._source, follow_redirects=False)
            response.raise_for_status()
            document = response.json()
            if not isinstance(document, dict):
                raise ValueError("not a JWKS (an object with a `keys` list)")
            keys = jwks_keys(document, self._issuer)
        except Exception as exc:  # whatever the provider answers: the keys in hand stay, the loop goes on
            log.warning("token keys not refreshed: keeping the ones in hand", source=self._source, error=str(exc))
            return False
        before = self._tokens.verifier.kids
        self._tokens.replace_keys([*keys, *self._extra])
        after = self._tokens.verifier.kids
        if after != before:
            log.info("token keys refreshed", added=sorted(after - before), removed=sorted(before - after))
        self.refreshed += 1
        return True

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval_s)
            self._wake.clear()
            gap = self._min_gap_s - (self._clock() - self._last)
            if gap > 0:  # woken by an unknown kid right after a refetch: not before the gap
                await asyncio.sleep(gap)
            await self.refresh()
