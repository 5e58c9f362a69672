"""Keep-alive HTTP/1.1 connections to one server, for the Alpaca member requests.

A small pool (at most ``limit`` requests in flight, idle connections kept for
``keepalive_s``) of asyncio connections whose replies are parsed by httptools' C
parser (any framing: Content-Length, chunked, or ended by closing). A request costs
one write and one parse, which is what makes thousands of property reads a second
possible from Python. A pooled connection the server closed while idle is replaced
once, transparently, when nothing of the reply had arrived.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httptools

from nocturna.core.errors import NocturnaError


@dataclass(frozen=True, slots=True)
class HttpReply:
    status: int
    content_type: str  # the media type, lower case, without parameters ("" if none)
    body: bytes


class BadReply(NocturnaError):
    """The bytes received are not an HTTP reply."""


class ConnectionLost(NocturnaError):
    """The connection closed before the whole reply had arrived."""

    def __init__(self, message: str, *, replied: bool) -> None:
        super().__init__(message)
        self.replied = replied  # some of the reply had arrived


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[HttpReply] | None = None
        self.body: list[bytes] = []
        self.content_type = ""
        self.replied = False
        self.headers_done = False
        self.reusable = False
        self.closed = False
        self.idle_since = 0.0

    # ---------------------------------------------------------------- asyncio
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment] # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        self.replied = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(BadReply(f"malformed HTTP reply: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is None or self.waiter.done():
            return
        if self.headers_done and exc is None:  # a body ended by closing
            self._complete()
            return
        self.waiter.set_exception(ConnectionLost(
            f"the server closed the connection{f' ({exc})' if exc else ''}",
            replied=self.replied))

    # --------------------------------------------------------------- httptools
    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"content-type":
            self.content_type = value.decode("latin-1").split(";")[0].strip().lower()

    def on_headers_complete(self) -> None:
        self.headers_done = True

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.reusable = self.parser.should_keep_alive()
        self._complete()

    # ----------------------------------------------------------------- own
    def _complete(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            status = self.parser.get_status_code()
            self.waiter.set_result(HttpReply(status, self.content_type, b"".join(self.body)))

    def _fail(self, exc: Exception) -> None:
        self.reusable = False
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    async def exchange(self, request: bytes) -> HttpReply:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.body, self.content_type = [], ""
        self.replied = self.headers_done = self.reusable = False
        self.transport.write(request)
        return await self.waiter


class ConnectionPool:
    """HTTP/1.1 keep-alive connections to ``host:port``."""

    def __init__(self, host: str, port: int, *, limit: int, keepalive_s: float) -> None:
        self.host, self.port = host, port
        self.keepalive_s = keepalive_s
        self._slots = asyncio.Semaphore(limit)
        self._idle: list[_Connection] = []
        self._open: set[_Connection] = set()

    async def request(self, data: bytes) -> HttpReply:
        """Send one complete request; its reply. OSError when the server cannot be
        reached, :class:`ConnectionLost` or :class:`BadReply`."""
        async with self._slots:
            while True:
                connection = self._take_idle()
                pooled = connection is not None
                if connection is None:
                    connection = await self._connect()
                try:
                    reply = await connection.exchange(data)
                except ConnectionLost as exc:
                    self._open.discard(connection)
                    if pooled and not exc.replied:
                        continue  # closed by the server while idle: once more, fresh
                    raise
                except BaseException:  # cancelled (a timeout) or failed: never reused
                    self._open.discard(connection)
                    connection.close()
                    raise
                if connection.reusable and not connection.closed:
                    connection.idle_since = asyncio.get_running_loop().time()
                    self._idle.append(connection)
                else:
                    self._open.discard(connection)
                    connection.close()
                return reply

    def _take_idle(self) -> _Connection | None:
        now = asyncio.get_running_loop().time()
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed and now - connection.idle_since < self.keepalive_s:
                return connection
            self._open.discard(connection)
            connection.close()
        return None

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        _, connection = await loop.create_connection(_Connection, self.host, self.port)
        self._open.add(connection)
        return connection

    def close(self) -> None:
        for connection in self._open:
            connection.close()
        self._open.clear()
        self._idle.clear()
