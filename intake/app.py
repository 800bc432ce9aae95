"""The intake's ASGI application: routes from the operations table, the error model, metrics, and the
adapters it shares (built by the lifespan, or handed in by the in-process tests)."""

from __future__ import annotations

import contextlib
import functools
import time
from itertools import groupby
from typing import Any

import structlog
from prometheus_client import Counter, Histogram
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from intake.admission import RedisAdmission
from intake.booking_waits import BookingWaits
from intake.command_bus import CommandBus
from intake.credentials import check_dev_signin, dev_signer, token_verifier
from intake.errors import ApiError, error_response, handle_api_error, handle_http_exception
from intake.history import BookingHistory
from intake.idempotency import IdempotencyStore
from intake.jwks import JwksRefresher, is_url
from intake.operations import OPERATIONS
from intake.rate_limit import RedisRateLimiter
from intake.router import Endpoint, endpoint
from intake.seat_stream import ChangeFeed, RedisSeatStreams
from intake.state import IntakeState
from intake.tickets import TicketKeys
from intake.tokens import Signer, TokenVerifier
from projections.reads import ReadModels
from runtime.autopipeline import AutoPipeline
from runtime.clients import payment_provider
from runtime.service import Service, serving
from runtime.settings import Settings
from runtime.transient import STORE_ERRORS, is_transient

log = structlog.get_logger()
HTTP_REQUESTS = Counter("boxoffice_http_requests_total", "HTTP requests", ["route", "method", "status"])
HTTP_LATENCY = Histogram(
    "boxoffice_http_request_seconds",
    "HTTP request latency",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)


async def _store_error(request: Request, exc: Exception) -> Response:
    """A backing store that went away is a 503 with Retry-After; anything else from one is our defect."""
    if is_transient(exc):
        return error_response(
            503, "unavailable", f"a backing store is not reachable ({type(exc).__name__})", headers={"Retry-After": "2"}
        )
    return await _internal(request, exc)


async def _internal(request: Request, exc: Exception) -> Response:
    log.error("unhandled error", path=request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "internal error")


BOOKING_POST = ("POST", "/v1/shows/{show_id}/bookings")  # the path of intake.app.FastPath
MAX_HEADER_BYTES = 32 * 1024  # what NGINX takes in front (large_client_header_buffers 4 8k)


class HeaderLimit:
    """Request headers (and the request target) of at most MAX_HEADER_BYTES, else 431 in the error model, as
    NGINX answers in front. httptools, uvicorn's parser here, has no limit of its own (h11's
    h11_max_incomplete_event_size, set in intake/__main__.py, bounds the other parser); an intake reached
    without NGINX refuses the same requests."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
            size += sum(len(name) + len(value) + 4 for name, value in scope["headers"])
            if size > MAX_HEADER_BYTES:
                response = error_response(431, "request_header_too_large", "request headers too large")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class MetricsMiddleware:
    """Counts and times requests by route template (not raw path, to keep label cardinality bounded), and
    binds the request's X-Request-Id to every log line written while serving it."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        trace = next((value for name, value in scope["headers"] if name == b"x-request-id"), None)
        try:
            if trace is None:
                await self.app(scope, receive, send_wrapper)
            else:
                with structlog.contextvars.bound_contextvars(request_id=trace.decode("latin-1")):
                    await self.app(scope, receive, send_wrapper)
        finally:
            name = getattr(scope.get("route"), "path", "unmatched")
            _counted(name, scope["method"], status["code"]).inc()
            _timed(name).observe(time.perf_counter() - started)


@functools.lru_cache(maxsize=1024)
def _counted(route: str, method: str, status: int) -> Any:
    """The request counter's child for these labels (labels() takes a lock and builds a key every call)."""
    return HTTP_REQUESTS.labels(route, method, str(status))


@functools.lru_cache(maxsize=256)
def _timed(route: str) -> Any:
    return HTTP_LATENCY.labels(route)


class FastPath:
    """The booking POST, the one request an on-sale brings by the thousand, served without the router: its route
    is matched by its own pattern and its endpoint called with the app's own exception handlers, past
    starlette's ExceptionMiddleware, the routes tried in turn and two wrappers of `send` per response (about a
    tenth of the intake's CPU per booking, measured by py-spy on the closed loop: docs/BENCHMARKS.md). The
    same endpoint answers, so the answer is the router's; every other request goes the router's way."""

    def __init__(self, app, route: Route, handlers: dict[Any, Any]) -> None:
        self.app = app
        self.route = route
        self.methods = {BOOKING_POST[0]}
        self.handlers = handlers

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] not in self.methods:
            await self.app(scope, receive, send)
            return
        matched = self.route.path_regex.match(scope["path"])
        if matched is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = self.route
        scope["path_params"] = matched.groupdict()
        request = Request(scope, receive)
        try:
            response = await self.route.endpoint(request)
        except Exception as exc:
            response = await self._handler(exc)(request, exc)
        await response(scope, receive, send)

    def _handler(self, exc: Exception) -> Any:
        for kind in type(exc).__mro__:
            if kind in self.handlers:
                return self.handlers[kind]
        raise exc  # not an Exception's subclass the app handles: as the router would let it go


def _dispatch(endpoints: dict[str, Endpoint]) -> Endpoint:
    """One route per path, so a method the path lacks is a 405 whose Allow lists every method it has."""
    if len(endpoints) == 1:
        return next(iter(endpoints.values()))

    async def by_method(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await endpoints[method](request)

    return by_method


def routes() -> list[Route]:
    """The routes of the operations table, each operation's endpoint enforcing what it declares."""
    out = []
    by_path = sorted(OPERATIONS, key=lambda op: op.path)
    for path, ops in groupby(by_path, key=lambda op: op.path):
        endpoints = {op.method: endpoint(op) for op in ops}
        out.append(Route(path, _dispatch(endpoints), methods=sorted(endpoints)))
    return out


async def adapters(service: Service, tokens: TokenVerifier, dev_tokens: Signer | None = None) -> IntakeState:
    """The intake's adapters on the runner every worker uses: each client's teardown is registered on its
    AsyncExitStack as it is built (undone in reverse order: the producer flushes first), readiness is its
    checks. The producer starts in the background, so the intake answers (not ready; 503 on writes) while
    Kafka is down."""
    settings = service.settings
    # Every shard's primary (3 connections) and standby (5); not part of /readyz (API.md: Kafka and Redis).
    shards = await service.shards(3, replicas=True, replica_size=5, checks=False)
    redis = service.redis(max_connections=200)
    history = BookingHistory(shards, settings.replica_max_lag_s)
    history.start()
    service.defer(history.stop)
    pipeline = AutoPipeline(redis)  # the booking POST's two calls, with the others of each turn
    reads = ReadModels(redis, pipeline=pipeline)
    feed = ChangeFeed(redis)  # one pub/sub connection: the seat streams and the booking waits share it
    service.defer(feed.close)
    waits = BookingWaits(reads, feed)
    service.defer(waits.close)  # before the feed closes (deferred work is undone in reverse order)
    source = settings.require_auth_jwks()
    if is_url(source):  # the provider rotates its keys: keep them current
        refresher = JwksRefresher(
            source,
            settings.auth_issuer,
            tokens,
            service.http_client(10.0),
            settings.auth_jwks_refresh_s,
            extra_keys=[dev_tokens.trusted()] if dev_tokens else None,
        )
        refresher.start()
        service.defer(refresher.stop)
    payments = payment_provider(settings)
    service.defer(payments.close)
    bus = CommandBus()
    # 10 ms of linger: concurrent bookings share a produce request (each one acked by three brokers on the HA
    # topology). Measured on the closed loop: 0 → 5 ms took 420 → 473 bookings/s and Kafka 1.6 → 1.2 ms CPU per
    # booking; 5 → 10 ms took Kafka 0.77-0.87 → 0.55 ms per booking (2026-12-04, runs alternated), for at most
    # 10 ms more before a 202.
    bus.start(lambda: service.kafka_producer(linger_ms=10))
    service.defer(bus.stop)
    return IntakeState(
        settings=settings,
        tokens=tokens,
        limiter=RedisRateLimiter(redis, settings.rate_limit_per_s, settings.rate_limit_burst),
        bus=bus,
        reads=reads,
        history=history,
        idempotency=IdempotencyStore(redis),
        admission=RedisAdmission(redis, settings.rate_limit_per_s, settings.rate_limit_burst, pipeline),
        streams=RedisSeatStreams(reads, feed),
        waits=waits,
        service=service,
        dev_tokens=dev_tokens,
        tickets=TicketKeys.load(settings.require_ticket_key()),
        payments=payments,
    )


def create_app(settings: Settings | None = None, state: IntakeState | None = None) -> Starlette:
    """`state` given (tests): the app uses those adapters and builds no client of its own."""
    settings = settings or Settings.from_env()
    check_dev_signin(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        if state is not None:
            yield
            return
        # The runner every worker uses; uvicorn owns SIGTERM (the end of the lifespan is the stop) and serves
        # /healthz, /readyz and /metrics on the API port itself.
        async with serving(settings.instance or "intake", settings, ops=False, signals=False, user="intake") as service:
            tokens, dev_tokens = token_verifier(settings), dev_signer(settings) if settings.dev_signin else None
            app.state.intake = await adapters(service, tokens, dev_tokens)
            yield
        log.info("intake stopped")

    handlers = {
        ApiError: handle_api_error,
        HTTPException: handle_http_exception,
        **dict.fromkeys(STORE_ERRORS, _store_error),
        Exception: _internal,
    }
    table = routes()
    app = Starlette(routes=table, lifespan=lifespan, exception_handlers=handlers)
    booking = next(r for r in table if r.path == BOOKING_POST[1])
    app.add_middleware(FastPath, route=booking, handlers=handlers)  # innermost of ours: after the header limit
    app.add_middleware(HeaderLimit)
    app.add_middleware(MetricsMiddleware)  # added last: outermost, so a refused request is counted too
    if state is not None:
        app.state.intake = state
    return app
