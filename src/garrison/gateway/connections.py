"""Pooled HTTP/1.1 keep-alive connections to the upstream, as an httpx transport.

httpx's default pool costs more CPU per request than the rest of the gateway together
(it scans every pooled connection on each request), which caps one worker well under the
gateway's throughput goal. This transport keeps a stack of idle connections per origin,
parses responses with httptools (C), and never hands a connection on before its answer
was read to the end: a connection with anything unread is closed, not reused.
"""

from __future__ import annotations

import asyncio
import collections
import re
import ssl
import time
from collections.abc import AsyncIterator
from typing import cast

import httptools
import httpx

_KEEPALIVE_S = 4.0  # below the usual server keep-alive (uvicorn: 5 s), so they close first
_PAUSE_BYTES = 256 * 1024  # unread body bytes at which the socket stops being read
_Origin = tuple[str, str, int]


class _Connection(asyncio.Protocol):
    """One socket; one request at a time; the parser's callbacks fill in the answer."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._parser = httptools.HttpResponseParser(self)
        self._busy = False
        self._failure: Exception | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._headers: list[tuple[bytes, bytes]] = []
        self._head_done = False
        self._chunks: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._paused = False
        self.complete = False
        self.reusable = False

    # -- asyncio.Protocol --

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        if not self._busy or self.complete:
            self._fail(httpx.RemoteProtocolError("upstream sent bytes nobody asked for"))
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            self._fail(httpx.RemoteProtocolError("malformed answer from the upstream"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._busy and not self.complete:
            self._fail(httpx.ReadError("the upstream closed the connection"))

    # -- httptools callbacks --

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        self._head_done = True
        self._wake()

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > _PAUSE_BYTES and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        self.complete = True
        self.reusable = self._parser.should_keep_alive()
        self._wake()

    # -- used by the pool --

    def send(self, data: bytes) -> None:
        assert self.transport is not None
        self._busy, self.complete, self.reusable = True, False, False
        self._headers, self._head_done, self._failure = [], False, None
        # Bytes of the last answer its reader never took belong to nobody now.
        self._chunks.clear()
        self._buffered = 0
        if self._paused:
            self._paused = False
            self.transport.resume_reading()
        self._parser = httptools.HttpResponseParser(self)
        self.transport.write(data)

    async def read_head(self, timeout: float) -> tuple[int, list[tuple[bytes, bytes]]]:
        while not self._head_done:
            await self._wait(timeout)
        return self._parser.get_status_code(), self._headers

    async def read_chunk(self, timeout: float) -> bytes | None:
        """The next body bytes; None once the answer is complete."""
        while not self._chunks:
            if self.complete:
                return None
            await self._wait(timeout)
        chunk = self._chunks.popleft()
        self._buffered -= len(chunk)
        if self._paused and self._buffered < _PAUSE_BYTES // 2 and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        return chunk

    def finish(self) -> None:
        self._busy = False
        self.idle_since = time.monotonic()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    async def _wait(self, timeout: float) -> None:
        if self._failure is not None:
            raise self._failure
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(timeout):
                await self._waiter
        except TimeoutError:
            raise httpx.ReadTimeout("the upstream did not answer in time") from None
        finally:
            self._waiter = None
        if self._failure is not None:
            raise self._failure

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _fail(self, error: Exception) -> None:
        if self._failure is None:  # the first cause, not the connection_lost that follows it
            self._failure = error
        self.close()
        self._wake()


class UpstreamTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 with keep-alive, at most `max_connections` at once, idle ones reused LIFO."""

    def __init__(
        self,
        *,
        max_connections: int,
        connect_timeout_s: float,
        read_timeout_s: float,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._max = max_connections
        self._connect_timeout = connect_timeout_s
        self._read_timeout = read_timeout_s
        self._ssl = ssl_context
        self._idle: dict[_Origin, list[_Connection]] = {}
        self._slots: asyncio.Semaphore | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        await self._acquire_slot()
        connection = None
        try:
            connection = self._reuse(origin) or await self._connect(origin)
            connection.send(_serialize(request, await request.aread()))
            status, headers = await connection.read_head(self._read_timeout)
        except BaseException:
            if connection is not None:
                connection.close()
            self._release_slot()
            raise
        return httpx.Response(
            status,
            headers=headers,
            stream=_Body(self, origin, connection),
            extensions={"http_version": b"HTTP/1.1"},
            request=request,
        )

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()

    def release(self, origin: _Origin, connection: _Connection) -> None:
        """Back to the idle stack only when its answer was read to the end."""
        connection.finish()
        if connection.complete and connection.reusable and not connection.closed:
            self._idle.setdefault(origin, []).append(connection)
        else:
            connection.close()
        self._release_slot()

    async def _acquire_slot(self) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._max)
        try:
            async with asyncio.timeout(self._connect_timeout):
                await self._slots.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("no upstream connection came free in time") from None

    def _release_slot(self) -> None:
        assert self._slots is not None
        self._slots.release()

    def _reuse(self, origin: _Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if not connection.closed and now - connection.idle_since < _KEEPALIVE_S:
                return connection
            connection.close()
        return None

    async def _connect(self, origin: _Origin) -> _Connection:
        scheme, host, port = origin
        context = None
        if scheme == "https":
            context = self._ssl or ssl.create_default_context()
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, connection = await loop.create_connection(
                    _Connection, host, port, ssl=context, server_hostname=host if context else None
                )
        except TimeoutError:
            raise httpx.ConnectTimeout("connecting to the upstream timed out") from None
        except OSError as exc:
            raise httpx.ConnectError(f"cannot connect to the upstream: {exc.strerror}") from None
        return connection


class _Body(httpx.AsyncByteStream):
    def __init__(self, pool: UpstreamTransport, origin: _Origin, connection: _Connection) -> None:
        self._pool = pool
        self._origin = origin
        self._connection: _Connection | None = connection

    async def __aiter__(self) -> AsyncIterator[bytes]:
        connection = self._connection
        while connection is not None:
            chunk = await connection.read_chunk(self._pool._read_timeout)
            if chunk is None:
                return
            yield chunk

    async def aclose(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            self._pool.release(self._origin, connection)


_FORBIDDEN = re.compile(rb"[\x00\r\n]")


def _serialize(request: httpx.Request, body: bytes) -> bytes:
    url = request.url
    lines = [b"%s %s HTTP/1.1" % (request.method.encode("ascii"), url.raw_path)]
    for name, value in request.headers.raw:
        if _FORBIDDEN.search(name) or _FORBIDDEN.search(value):
            raise httpx.LocalProtocolError("a header carries a line break or NUL")
        lines.append(b"%s: %s" % (name, value))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body
