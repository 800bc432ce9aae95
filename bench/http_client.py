"""A minimal HTTP/1.1 keep-alive client on asyncio streams: the load generator must cost far less CPU than
the server it measures (httpx costs ~10x more per request)."""

from __future__ import annotations

import asyncio


class HttpConnection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, bytes]:
        status, _, payload = await self.exchange(method, path, headers, body)
        return status, payload

    async def exchange(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, dict[bytes, bytes], bytes]:
        """The status, the response's headers (lower-case names) and its body."""
        if self._writer is None:
            await self._open()
        assert self._reader is not None and self._writer is not None
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        self._writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        try:
            status_line = await self._reader.readline()
            if not status_line:
                raise ConnectionError("connection closed")
            status = int(status_line.split()[1])
            answer: dict[bytes, bytes] = {}
            while (line := await self._reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                answer[name.strip().lower()] = value.strip()
            length = int(answer.get(b"content-length", 0))
            payload = await self._reader.readexactly(length) if length else b""
            return status, answer, payload
        except (ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError):
            self.close()
            raise

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


class ConnectionPool:
    def __init__(self, host: str, port: int, size: int) -> None:
        self._idle: asyncio.Queue[HttpConnection] = asyncio.Queue()
        for _ in range(size):
            self._idle.put_nowait(HttpConnection(host, port))

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, bytes]:
        status, _, payload = await self.exchange(method, path, headers, body)
        return status, payload

    async def exchange(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, dict[bytes, bytes], bytes]:
        conn = await self._idle.get()
        try:
            return await conn.exchange(method, path, headers, body)
        finally:
            self._idle.put_nowait(conn)

    def close(self) -> None:
        while not self._idle.empty():
            self._idle.get_nowait().close()
