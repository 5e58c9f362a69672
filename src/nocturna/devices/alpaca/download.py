"""One HTTP GET whose body is received straight into a buffer allocated once.

For ImageArray replies (tens of megabytes): the request goes over a connection of its
own (``Connection: close``), read by an :class:`asyncio.BufferedProtocol`. Once the
headers announce a ``Content-Length``, the socket reads go directly into a
``bytearray`` of that size (``recv_into``, no intermediate chunks to copy). A reply
without a length (``Transfer-Encoding: chunked``, or a body ended by closing) is
collected as it comes and its chunked framing removed at the end.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from nocturna.core.errors import NocturnaError

HEAD_LIMIT = 1 << 16
"""Bytes of status line and headers accepted before the reply is called malformed."""
_SCRATCH_BYTES = 1 << 16


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    content_type: str  # the media type, lower case, without parameters
    body: bytearray


class BadReply(NocturnaError):
    """The bytes received are not an HTTP reply nocturna can read."""


class ConnectionLost(NocturnaError):
    """The server closed the connection before the whole reply had arrived."""


class _Receiver(asyncio.BufferedProtocol):
    def __init__(self, done: asyncio.Future[Reply]) -> None:
        self.done = done
        self.scratch = bytearray(_SCRATCH_BYTES)
        self.head = bytearray()
        self.status = 0
        self.content_type = ""
        self.body: bytearray | None = None  # with a Content-Length: the whole body
        self.received = 0
        self.pieces: list[bytes] = []  # without one: what came, in order
        self.chunked = False
        self.transport: asyncio.Transport | None = None

    # -------------------------------------------------------------- protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment] # uvloop's is no subclass

    def get_buffer(self, sizehint: int) -> memoryview | bytearray:
        if self.body is not None and self.received < len(self.body):
            return memoryview(self.body)[self.received:]
        return self.scratch

    def buffer_updated(self, nbytes: int) -> None:
        if self.done.done():
            return
        if self.body is not None:
            self.received += nbytes
            if self.received >= len(self.body):
                self._finish(self.body)
        elif self.status:
            self.pieces.append(bytes(self.scratch[:nbytes]))
        else:
            self.head += self.scratch[:nbytes]
            self._read_head()

    def eof_received(self) -> bool:
        self._end()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None and not self.done.done():
            self.done.set_exception(exc)
        self._end()

    # -------------------------------------------------------------- parsing
    def _read_head(self) -> None:
        end = self.head.find(b"\r\n\r\n")
        if end < 0:
            if len(self.head) > HEAD_LIMIT:
                self._fail(BadReply(f"no end of the HTTP headers in {HEAD_LIMIT} bytes"))
            return
        lines = bytes(self.head[:end]).decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            self._fail(BadReply(f"not an HTTP status line: {lines[0][:100]!r}"))
            return
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        self.status = int(parts[1])
        self.content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        rest = bytes(self.head[end + 4:])
        self.chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        length = headers.get("content-length")
        if length is not None and not self.chunked:
            if not length.isdigit():
                self._fail(BadReply(f"Content-Length {length[:40]!r} is not a number"))
                return
            self.body = bytearray(int(length))
            self.received = min(len(rest), len(self.body))
            self.body[:self.received] = rest[:self.received]
            if self.received == len(self.body):
                self._finish(self.body)
        elif rest:
            self.pieces.append(rest)

    def _end(self) -> None:
        """The server closed: the reply is complete only if it had no length."""
        if self.done.done():
            return
        if not self.status:
            self._fail(ConnectionLost("the connection closed before a complete reply"))
        elif self.body is not None:
            self._fail(ConnectionLost(f"the server announced {len(self.body)} bytes and "
                                      f"sent {self.received}"))
        elif self.chunked:
            try:
                self._finish(dechunk(b"".join(self.pieces)))
            except BadReply as exc:
                self._fail(exc)
        else:
            self._finish(bytearray().join(self.pieces))

    def _finish(self, body: bytearray) -> None:
        if not self.done.done():
            self.done.set_result(Reply(self.status, self.content_type, body))
        if self.transport is not None:
            self.transport.close()

    def _fail(self, exc: Exception) -> None:
        if not self.done.done():
            self.done.set_exception(exc)
        if self.transport is not None:
            self.transport.close()


def dechunk(data: bytes) -> bytearray:
    """The body carried by ``Transfer-Encoding: chunked`` framing."""
    body = bytearray()
    position = 0
    while True:
        line_end = data.find(b"\r\n", position)
        if line_end < 0:
            raise ConnectionLost("the chunked reply ended before its last chunk")
        size_text = data[position:line_end].split(b";")[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise BadReply(f"bad chunk size {size_text[:20]!r}") from None
        if size == 0:
            return body
        start = line_end + 2
        if start + size + 2 > len(data):
            raise ConnectionLost("the chunked reply ended inside a chunk")
        body += data[start:start + size]
        position = start + size + 2


async def get(host: str, port: int, target: str, headers: dict[str, str]) -> Reply:
    """GET ``target`` (path and query) from ``host:port`` on a new connection.

    Raises OSError (connecting, or the connection reset), :class:`ConnectionLost` or
    :class:`BadReply`; the caller sets the time limit.
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[Reply] = loop.create_future()
    transport, _ = await loop.create_connection(lambda: _Receiver(done), host, port)
    try:
        authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        lines = [f"GET {target} HTTP/1.1", f"Host: {authority}", "Connection: close",
                 *(f"{name}: {value}" for name, value in headers.items())]
        transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        return await done
    finally:
        transport.close()
