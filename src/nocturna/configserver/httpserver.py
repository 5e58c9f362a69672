"""A small HTTP/1.1 server for JSON requests answered at once (asyncio + httptools).

The configuration service answers each request with a dictionary look-up or a
small validation, so the web stack around it decides its speed. uvicorn with
Starlette cost ~120 µs of server CPU per get (routing, ASGI messages, and the
status line and the body written in two ``send()`` calls, two packets the client
waits for); this server parses with httptools (uvicorn's own parser), calls the
handler synchronously and writes each response in one ``send()``.

What it does:

* keep-alive (HTTP/1.1 by default, HTTP/1.0 on request) and pipelined requests,
  answered in order; ``Connection: close`` is honoured;
* bodies by ``Content-Length`` or chunked, at most ``max_body`` bytes: a larger
  declared length is refused (413) before the body is read, a chunked body as soon
  as it passes the limit. After a refusal the server ends its side of the
  connection and throws away what still arrives for up to ``LINGER_S`` seconds
  before closing, so a client still sending its body reads the answer instead of a
  reset;
* ``Expect: 100-continue``;
* request lines and headers larger than ``MAX_HEAD_BYTES`` get 431, unparsable
  requests 400, both closing the connection;
* a connection idle for ``idle_timeout`` seconds is closed;
* a client that does not read its answers stops being read from (flow control).

Every error answer is ``{"error": message}``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qsl

import httptools

MAX_HEAD_BYTES = 64 * 1024
LINGER_S = 2.0  # after a refusal, discard what the client still sends for this long

_REASONS = {status.value: status.phrase.encode() for status in HTTPStatus}


@dataclass
class Request:
    """One parsed request."""

    method: str
    path: str
    query_string: str
    headers: dict[str, str]  # names in lower case
    body: bytes = b""

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(self.query_string, keep_blank_values=True))


@dataclass
class Response:
    """A JSON answer; ``close`` ends the connection after it."""

    status: int
    body: bytes
    close: bool = False


Handler = Callable[[Request], Response]


def error_response(message: str, status: int, *, close: bool = False) -> Response:
    return Response(status, json.dumps({"error": message}).encode(), close)


def encode(response: Response, keep_alive: bool) -> bytes:
    """Status line, headers and body as one buffer, for one ``send()``."""
    close = response.close or not keep_alive
    return b"".join((
        b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
        % (response.status, _REASONS.get(response.status, b"Unknown"), len(response.body)),
        b"connection: close\r\n\r\n" if close else b"\r\n",
        response.body,
    ))


class HttpProtocol(asyncio.Protocol):
    """One client connection."""

    def __init__(self, server: HttpServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.closing = False
        self.last_active = 0.0
        self._idle_timer: asyncio.TimerHandle | None = None
        self._reset_message()

    def _reset_message(self) -> None:
        self.url = b""
        self.headers: dict[str, str] = {}
        self.body: list[bytes] = []
        self.body_size = 0
        self.head_size = 0

    # -------------------------------------------------------------- connection
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass
        self.server.connections.add(self)
        self.last_active = self.server.loop.time()
        self._arm_idle_timer(self.server.idle_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self.server.connections.discard(self)
        if self._idle_timer is not None:
            self._idle_timer.cancel()

    def close(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.close()

    def _arm_idle_timer(self, delay: float) -> None:
        self._idle_timer = self.server.loop.call_later(delay, self._check_idle)

    def _check_idle(self) -> None:
        """Close after ``idle_timeout`` without data (re-armed, not reset per request)."""
        waited = self.server.loop.time() - self.last_active
        if waited >= self.server.idle_timeout:
            self.close()
        else:
            self._arm_idle_timer(self.server.idle_timeout - waited)

    def pause_writing(self) -> None:  # the client does not read: stop reading from it
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.transport is not None and not self.closing:
            self.transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        self.last_active = self.server.loop.time()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._refuse("protocol upgrades are not supported", 400)
        except httptools.HttpParserError:
            if not self.closing:
                self._refuse("malformed HTTP request", 400)

    def _refuse(self, message: str, status: int) -> None:
        """Answer an error and end the connection; what the client still sends is
        discarded (``closing``) until it stops or ``LINGER_S`` has passed."""
        transport = self.transport
        if transport is None or self.closing:
            return
        self.closing = True
        transport.write(encode(error_response(message, status, close=True), False))
        if transport.can_write_eof():
            transport.write_eof()
            self.server.loop.call_later(LINGER_S, self.close)
        else:
            self.close()

    def eof_received(self) -> bool | None:
        if self.closing:  # a refused client has stopped sending
            self.close()
        return None

    # ----------------------------------------------------- parser callbacks
    def _count_head(self, size: int) -> bool:
        self.head_size += size
        if self.head_size > MAX_HEAD_BYTES:
            self._refuse(f"request line and headers exceed {MAX_HEAD_BYTES:,} bytes", 431)
            return False
        return True

    def on_message_begin(self) -> None:
        self._reset_message()

    def on_url(self, url: bytes) -> None:
        if not self.closing and self._count_head(len(url)):
            self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.closing and self._count_head(len(name) + len(value)):
            self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        if self.closing:
            return
        declared = self.headers.get("content-length")
        if declared is not None and declared.strip().isdigit() and (
                int(declared) > self.server.max_body):
            self._refuse(self.server.too_large_message, 413)
            return
        if self.headers.get("expect", "").lower() == "100-continue" and self.transport:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        if self.closing:
            return
        self.body_size += len(body)
        if self.body_size > self.server.max_body:
            self._refuse(self.server.too_large_message, 413)
            return
        self.body.append(body)

    def on_message_complete(self) -> None:
        if self.closing or self.transport is None:
            return
        url = httptools.parse_url(self.url)
        request = Request(
            self.parser.get_method().decode("ascii", "replace"),
            url.path.decode("utf-8", "replace"),
            (url.query or b"").decode("utf-8", "replace"),
            self.headers,
            b"".join(self.body),
        )
        response = self.server.handler(request)
        keep_alive = self.parser.should_keep_alive()
        self.transport.write(encode(response, keep_alive))
        if response.close or not keep_alive:
            self.close()


@dataclass
class HttpServer:
    """Serves ``handler`` on listening sockets until ``serve``'s ``until`` completes."""

    handler: Handler
    max_body: int
    idle_timeout: float = 30.0
    connections: set[HttpProtocol] = field(default_factory=set)
    loop: asyncio.AbstractEventLoop = field(init=False)

    @property
    def too_large_message(self) -> str:
        return (f"request body is larger than {self.max_body:,} bytes, the most this "
                "service accepts")

    async def serve(self, sock: object, until: Awaitable[object],
                    started: Callable[[], None] | None = None) -> None:
        """Accept connections on ``sock`` until ``until`` is done, then close them all."""
        self.loop = asyncio.get_running_loop()
        server = await self.loop.create_server(lambda: HttpProtocol(self), sock=sock)
        if started is not None:
            started()
        try:
            await until
        finally:
            server.close()
            for connection in list(self.connections):
                connection.close()
            await server.wait_closed()
