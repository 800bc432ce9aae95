"""The intake's ASGI application: routes, error model, metrics, and the clients it shares (lifespan)."""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field

import asyncpg
import redis.exceptions
import structlog
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from intake import routes
from intake.command_bus import CommandBus
from intake.errors import ApiError, error_response, handle_api_error, handle_http_exception
from intake.history import BookingHistory
from intake.openapi import openapi_document
from intake.rate_limit import RateLimiter
from intake.responses import json_response
from intake.tokens import TokenVerifier
from projections.reads import ReadModels
from runtime.clients import kafka_producer, pg_pool, redis_client
from runtime.lifecycle import tune_gc
from runtime.logging import configure_logging
from runtime.settings import Settings
from schemas.layout import Layout

REQUESTS = Counter("boxoffice_http_requests_total", "HTTP requests", ["route", "method", "status"])
LATENCY = Histogram("boxoffice_http_request_seconds", "HTTP request latency", ["route"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5))


@dataclass
class IntakeState:
    tokens: TokenVerifier
    limiter: RateLimiter
    bus: CommandBus
    reads: ReadModels
    history: BookingHistory
    _layouts: dict[str, Layout] = field(default_factory=dict)

    async def layout_of(self, show_id: str) -> Layout | None:
        """The show's layout, or None while the show does not exist. A show is never deleted and its layout
        never changes, so once seen it is kept in the process: no read-model round trip per booking."""
        layout = self._layouts.get(show_id)
        if layout is None:
            show = await self.reads.show(show_id)
            if show is None:
                return None
            if len(self._layouts) > 10_000:
                self._layouts.clear()
            layout = self._layouts[show_id] = Layout.from_dicts(show["sections"])
        return layout


async def _metrics(request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def _openapi(request: Request) -> Response:
    return json_response(openapi_document())


async def _unavailable(request: Request, exc: Exception) -> Response:
    return error_response(503, "unavailable", f"a backing store is not reachable ({type(exc).__name__})",
                          headers={"Retry-After": "2"})


async def _internal(request: Request, exc: Exception) -> Response:
    structlog.get_logger().exception("unhandled error", path=request.url.path)
    return error_response(500, "internal_error", "internal error")


class MetricsMiddleware:
    """Counts and times requests by route template (not raw path, to keep label cardinality bounded)."""

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

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", "unmatched")
            REQUESTS.labels(name, scope["method"], str(status["code"])).inc()
            LATENCY.labels(name).observe(time.perf_counter() - started)


ROUTES = [
    Route("/healthz", routes.healthz, methods=["GET"]),
    Route("/readyz", routes.readyz, methods=["GET"]),
    Route("/metrics", _metrics, methods=["GET"]),
    Route("/openapi.json", _openapi, methods=["GET"]),
    Route("/v1/shows", routes.create_show, methods=["POST"]),
    Route("/v1/shows", routes.list_shows, methods=["GET"]),
    Route("/v1/shows/{show_id}", routes.get_show, methods=["GET"]),
    Route("/v1/shows/{show_id}/seats", routes.get_seat_map, methods=["GET"]),
    Route("/v1/shows/{show_id}/bookings", routes.request_booking, methods=["POST"]),
    Route("/v1/bookings/{booking_id}", routes.get_booking, methods=["GET"]),
    Route("/v1/bookings/{booking_id}/confirm", routes.confirm_booking, methods=["POST"]),
    Route("/v1/bookings/{booking_id}/cancel", routes.cancel_booking, methods=["POST"]),
    Route("/v1/me/bookings", routes.my_bookings, methods=["GET"]),
]


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    auth_secret = settings.require_auth_secret()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        configure_logging("intake", settings.log_level)
        tune_gc()
        bus = CommandBus(lambda: kafka_producer(settings, linger_ms=0))
        bus.start()
        redis = redis_client(settings, max_connections=200)
        read_pool = await pg_pool(settings, dsn=settings.pg_read_dsn, size=5)
        limiter = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
        app.state.intake = IntakeState(TokenVerifier(auth_secret), limiter, bus, ReadModels(redis),
                                       BookingHistory(read_pool))
        try:
            yield
        finally:
            await bus.stop()  # flushes what the producer still holds
            await redis.aclose()
            await read_pool.close()
            structlog.get_logger().info("intake stopped")

    app = Starlette(
        routes=ROUTES,
        lifespan=lifespan,
        exception_handlers={
            ApiError: handle_api_error,
            HTTPException: handle_http_exception,
            redis.exceptions.RedisError: _unavailable,
            asyncpg.PostgresConnectionError: _unavailable,
            OSError: _unavailable,
            Exception: _internal,
        },
    )
    app.add_middleware(MetricsMiddleware)
    return app
