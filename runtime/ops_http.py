"""Health, readiness and Prometheus metrics over HTTP for workers (the intake serves the same routes itself).

A small starlette app (prometheus_client's ASGI app at /metrics) on uvicorn, inside the worker's own event
loop. uvicorn's signal capture is switched off: the worker's Lifecycle owns SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Generator, Sequence

import msgspec
import uvicorn
from prometheus_client import make_asgi_app
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from schemas.api import Health, Readiness

ReadinessProbe = Callable[[], Awaitable[dict[str, bool]]]
_encoder = msgspec.json.Encoder()


def _json(body: msgspec.Struct, status: int = 200) -> Response:
    return Response(_encoder.encode(body), status_code=status, media_type="application/json")


def readiness_response(checks: dict[str, bool]) -> Response:
    ok = all(checks.values())
    return _json(Readiness(status="ready" if ok else "not_ready", checks=checks), 200 if ok else 503)


class _AsgiEndpoint:
    """An ASGI app as a route's endpoint: Route calls a plain function as `handler(request)`, but an object
    as an ASGI app (prometheus_client's app is a plain function)."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


def ops_app(ready: ReadinessProbe, routes: Sequence[BaseRoute] = ()) -> Starlette:
    """Health, readiness and metrics, and `routes` of a process that serves more (the development payment
    provider: its API and page)."""

    async def healthz(request: Request) -> Response:
        return _json(Health(status="ok"))

    async def readyz(request: Request) -> Response:
        return readiness_response(await ready())

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", _AsgiEndpoint(make_asgi_app()), methods=["GET"]),
            *routes,
        ]
    )


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:  # the Lifecycle handles signals
        yield


class OpsServer:
    def __init__(self, host: str, port: int, ready: ReadinessProbe, routes: Sequence[BaseRoute] = ()) -> None:
        config = uvicorn.Config(
            ops_app(ready, routes),
            host=host,
            port=port,
            lifespan="off",
            access_log=False,
            log_config=None,
            log_level="warning",
            timeout_graceful_shutdown=2,
        )
        self._server = _Server(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        return int(self._server.servers[0].sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises why it could not start (e.g. the port is taken)
                raise RuntimeError("health server exited at start")
            await asyncio.sleep(0.01)

    async def close(self) -> None:
        if self._task is not None:
            self._server.should_exit = True
            await self._task
