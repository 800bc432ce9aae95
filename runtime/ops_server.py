"""Health, readiness and Prometheus metrics over plain HTTP for workers (the intake serves its own).

A minimal asyncio server rather than uvicorn, so that signal handling stays with the worker's Lifecycle.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

ReadinessCheck = Callable[[], Awaitable[bool]]


def _response(status: str, body: bytes, content_type: str) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


class OpsServer:
    def __init__(self, host: str, port: int, ready: ReadinessCheck) -> None:
        self._host, self._port, self._ready = host, port, ready
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self._host, self._port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = await asyncio.wait_for(reader.readline(), 5)
            while (await asyncio.wait_for(reader.readline(), 5)) not in (b"\r\n", b"\n", b""):
                pass
            parts = request_line.decode("latin-1").split()
            path = parts[1] if len(parts) >= 2 else ""
            if path == "/healthz":
                payload = _response("200 OK", b'{"status":"ok"}', "application/json")
            elif path == "/readyz":
                try:
                    ok = await asyncio.wait_for(self._ready(), 3)
                except Exception:
                    ok = False
                payload = (
                    _response("200 OK", b'{"status":"ready"}', "application/json")
                    if ok
                    else _response("503 Service Unavailable", b'{"status":"not_ready"}', "application/json")
                )
            elif path == "/metrics":
                payload = _response("200 OK", generate_latest(), CONTENT_TYPE_LATEST)
            else:
                payload = _response("404 Not Found", b'{"error":{"code":"not_found"}}', "application/json")
            writer.write(payload)
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
