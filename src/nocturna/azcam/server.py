"""The azcam command server: TCP, one request line in, one reply line out.

Each connection answers its lines in order, one reply each, and starts a request only
when the one before it is answered, so requests written back to back (pipelined) are
answered in order. Connections are independent: a client waiting on
``exposure.expose`` does not hold up another asking ``exposure.get_status``.

Built-in requests (any case): ``register NAME`` names the client in the log,
``echo TEXT`` answers ``OK TEXT``, ``closeconnection`` answers ``OK`` and closes, an
empty line answers ``OK`` (azcam closes the connection on an empty line; here it is a
harmless keep-alive). Nothing stops the server from the network: ``exit`` is refused.
Everything else goes through the :class:`~nocturna.azcam.dispatch.CommandTable`.

A line longer than ``max_line_bytes`` is discarded up to its end and answered with an
``ERROR``; bytes that are not UTF-8 likewise. An exception in a tool becomes an
``ERROR`` naming it; the connection stays usable. A final line without a newline is
answered when the client ends its side.

The hot path is short: each connection is an :class:`asyncio.Protocol` that finds
lines in what it receives; a request line seen before reuses its bound
:class:`~nocturna.azcam.dispatch.Call` (parsing and argument conversion are done once
per distinct line); a method that answers without waiting is answered at once, and only
one that waits gets a task. Reading pauses while a client's unanswered requests or
unsent replies pile up.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import socket
from typing import Any

from nocturna.azcam import protocol
from nocturna.azcam.dispatch import Call, CommandTable
from nocturna.core.errors import NocturnaError
from nocturna.core.listen import bind

log = logging.getLogger(__name__)

DEFAULT_PORT = 2402
MAX_LINE_BYTES = 1 << 20
CACHED_LINE_BYTES = 512
"""Request lines up to this long have their bound call cached."""
CACHED_CALLS = 4096
"""At most this many cached calls (the cache starts afresh when full)."""


class CommandServer:
    """Serves a :class:`CommandTable` over the azcam line protocol."""

    def __init__(self, table: CommandTable, *, host: str = "127.0.0.1",
                 port: int = DEFAULT_PORT, max_line_bytes: int = MAX_LINE_BYTES,
                 welcome: str | None = None) -> None:
        self.table = table
        self.host = host
        self.requested_port = port
        self.max_line_bytes = max_line_bytes
        self.welcome = welcome
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self._ids = itertools.count(1)
        self._calls: dict[bytes, Call] = {}  # request line → its bound call
        self.clients: dict[int, str] = {}  # connection number → registered name
        self.commands_served = 0

    # ------------------------------------------------------------------ lifecycle
    @property
    def port(self) -> int:
        if self._server is None:
            return self.requested_port
        return self._server.sockets[0].getsockname()[1]

    async def start(self) -> None:
        """Listen (port 0 picks a free port, see :attr:`port`)."""
        sock = bind(self.host, self.requested_port)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Connection(self), sock=sock)
        log.info("azcam command server listening on %s:%d", self.host, self.port)

    async def serve_forever(self) -> None:
        if self._server is None:
            await self.start()
        assert self._server is not None
        await self._server.serve_forever()

    async def close(self) -> None:
        """Stop listening and end every connection (requests in progress are cancelled)."""
        if self._server is not None:
            self._server.close()
        running = [c.running for c in self._connections if c.running is not None]
        for connection in list(self._connections):
            connection.abort()
        await asyncio.gather(*running, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> CommandServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------- requests
    def call_for(self, raw: bytes) -> Call | None:
        """The cached call of a request line seen before, else None."""
        return self._calls.get(raw)

    def answer(self, number: int, raw: bytes) -> str | Call | tuple[str, bool]:
        """What an uncached line gets: a reply line, a :class:`Call` to make, or
        ``(reply, True)`` to reply and close the connection."""
        try:
            line = raw.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError as exc:
            return protocol.error(f"request is not valid UTF-8 (byte {exc.start})")
        stripped = line.strip()
        if not stripped:
            return "OK"
        head, _, rest = stripped.partition(" ")
        keyword = head.lower()
        if keyword == "echo":
            return protocol.ok(rest.strip() or None)
        if keyword == "register":
            name = rest.strip()
            if not name:
                return protocol.error("register needs a client name")
            self.clients[number] = protocol.printable(name, 40)
            log.info("azcam client %d registered as %s", number, self.clients[number])
            return "OK"
        if keyword == "closeconnection":
            return "OK", True
        if keyword == "exit":
            return protocol.error("exit: stopping the server is not available over the "
                                  "network")
        try:
            call = self.table.bind(protocol.parse_request(line))
        except NocturnaError as exc:
            return protocol.error(protocol.exception_text(exc, with_type=False))
        if len(raw) <= CACHED_LINE_BYTES:
            if len(self._calls) >= CACHED_CALLS:
                self._calls.clear()
            self._calls[raw] = call
        return call

    def failure(self, number: int, raw: bytes, exc: BaseException) -> str:
        """The ``ERROR`` reply to a call that raised ``exc``."""
        if isinstance(exc, NocturnaError):
            return protocol.error(protocol.exception_text(exc, with_type=False))
        log.error("azcam client %s: %r failed", self.clients.get(number), raw,
                  exc_info=exc)  # a tool's bug: answer and keep serving
        return protocol.error(protocol.exception_text(exc))


def success(result: Any) -> str:
    """The ``OK`` reply carrying ``result``."""
    try:
        return protocol.ok(result)
    except Exception as exc:
        return protocol.error(f"cannot format the reply: {protocol.exception_text(exc)}")


class _Connection(asyncio.Protocol):
    """One client: lines in, replies out, one request at a time."""

    def __init__(self, server: CommandServer) -> None:
        self.server = server
        self.number = next(server._ids)
        self.transport: asyncio.Transport | None = None
        self.running: asyncio.Future[Any] | None = None  # the request being waited on
        self._running_raw = b""
        self._data = b""  # received, from self._pos on not yet handled
        self._pos = 0
        self._discarding = False  # inside an overlong line
        self._writing_paused = False
        self._reading_paused = False
        self._eof = False
        self._closed = False
        self._out: list[bytes] = []  # replies not yet written

    # ------------------------------------------------------------- transport events
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass
        server = self.server
        server._connections.add(self)
        server.clients[self.number] = f"client{self.number}"
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        log.info("azcam client %d connected from %s", self.number,
                 transport.get_extra_info("peername"))
        if server.welcome:
            transport.write(protocol.one_line(server.welcome).encode() + b"\r\n")

    def data_received(self, data: bytes) -> None:
        if self._pos < len(self._data):
            data = self._data[self._pos:] + data
        self._data, self._pos = data, 0
        self._handle_lines()

    def eof_received(self) -> bool:
        self._eof = True
        self._handle_lines()
        return True  # keep the sending side open for the last replies

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self.server._connections.discard(self)
        self.server.clients.pop(self.number, None)
        log.info("azcam client %d disconnected", self.number)

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._handle_lines()

    def abort(self) -> None:
        """End the connection now (the server is closing)."""
        if self.running is not None:
            self.running.cancel()
        if self.transport is not None:
            self.transport.close()

    # ------------------------------------------------------------------ the lines
    def _handle_lines(self) -> None:
        """Answer every complete line received, in order, until a request must be
        waited on or replies back up; write the replies at once; then decide whether
        to go on reading."""
        self._answer_lines()
        self._flush()

    def _answer_lines(self) -> None:
        data, pos, limit = self._data, self._pos, self.server.max_line_bytes
        while self.running is None and not self._writing_paused and not self._closed:
            end = data.find(b"\n", pos)
            if end < 0:  # no complete line left
                if len(data) - pos > limit:  # overlong: dropped as it comes
                    self._discarding = True
                if self._discarding:
                    data, pos = b"", 0
                if self._eof:
                    self._data, self._pos = b"", 0
                    self._end(data[pos:])
                    return
                break
            raw, pos = data[pos:end], end + 1
            if self._discarding or len(raw) > limit:
                self._discarding = False
                self._send(self._too_long())
                continue
            self._handle(raw)
        self._data, self._pos = data, pos
        self._flow_control()

    def _too_long(self) -> str:
        return protocol.error(f"request longer than {self.server.max_line_bytes} bytes, "
                              "ignored")

    def _flow_control(self) -> None:
        """Stop reading while unhandled input exceeds a line's worth; resume after."""
        if self.transport is None or self._closed:
            return
        backlog = len(self._data) - self._pos
        if not self._reading_paused and backlog > self.server.max_line_bytes:
            self._reading_paused = True
            self.transport.pause_reading()
        elif self._reading_paused and backlog <= self.server.max_line_bytes:
            self._reading_paused = False
            self.transport.resume_reading()

    def _end(self, last: bytes) -> None:
        """The client ended its side: answer a final line without newline, then close."""
        if self._discarding:
            self._discarding = False
            self._send(self._too_long())
        elif last.strip():
            self._handle(last)
            if self.running is not None:
                return  # closed once it is answered
        self._close()

    def _handle(self, raw: bytes) -> None:
        """Answer one request line now, or start waiting on it."""
        server = self.server
        server.commands_served += 1
        call = server.call_for(raw)
        if call is None:
            outcome = server.answer(self.number, raw)
            if isinstance(outcome, str):
                self._send(outcome)
                return
            if isinstance(outcome, tuple):
                self._send(outcome[0])
                self._close()
                return
            call = outcome
        try:
            result = call()
        except Exception as exc:
            self._send(server.failure(self.number, raw, exc))
            return
        if hasattr(result, "__await__"):
            self.running = asyncio.ensure_future(result)
            self._running_raw = raw
            self.running.add_done_callback(self._answered)
            return
        self._send(success(result))

    def _answered(self, running: asyncio.Future[Any]) -> None:
        """A request that was waited on is done: reply, then go on with the next lines."""
        self.running = None
        if running.cancelled():
            return  # the server is closing
        exc = running.exception()
        if exc is None:
            self._send(success(running.result()))
        else:
            self._send(self.server.failure(self.number, self._running_raw, exc))
        self._handle_lines()

    def _send(self, reply: str) -> None:
        self._out.append((reply + "\r\n").encode("utf-8", "replace"))

    def _flush(self) -> None:
        """Write the replies gathered (one write for all the lines of one read)."""
        if self._out:
            out, self._out = self._out, []
            if self.transport is not None and not self.transport.is_closing():
                self.transport.write(out[0] if len(out) == 1 else b"".join(out))

    def _close(self) -> None:
        """Write what is gathered, then close (no more lines are handled)."""
        self._flush()
        self._closed = True
        if self.transport is not None:
            self.transport.close()
