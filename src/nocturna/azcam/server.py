"""The azcam command server: TCP, one request line in, one reply line out.

Each connection is served by one task that reads a line, answers it and only then
reads the next, so requests written back to back (pipelined) are answered in order,
one reply each. Connections are independent: a client waiting on ``exposure.expose``
does not hold up another asking ``exposure.get_status``.

Built-in requests (any case): ``register NAME`` names the client in the log,
``echo TEXT`` answers ``OK TEXT``, ``closeconnection`` answers ``OK`` and closes, an
empty line answers ``OK`` (azcam closes the connection on an empty line; here it is a
harmless keep-alive). Nothing stops the server from the network: ``exit`` is refused.
Everything else goes through the :class:`~nocturna.azcam.dispatch.CommandTable`.

A line longer than ``max_line_bytes`` is discarded up to its end and answered with an
``ERROR``; bytes that are not UTF-8 likewise. An exception in a tool becomes an
``ERROR`` naming it; the connection stays usable.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import socket
from typing import Any

from nocturna.azcam import protocol
from nocturna.azcam.dispatch import CommandTable
from nocturna.core.errors import NocturnaError
from nocturna.core.listen import bind

log = logging.getLogger(__name__)

DEFAULT_PORT = 2402
MAX_LINE_BYTES = 1 << 20
_HIGH_WATER = 1 << 18


class _LineTooLong(Exception):
    pass


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
        self._connections: set[asyncio.Task[None]] = set()
        self._ids = itertools.count(1)
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
        self._server = await asyncio.start_server(self._serve, sock=sock,
                                                  limit=self.max_line_bytes)
        log.info("azcam command server listening on %s:%d", self.host, self.port)

    async def serve_forever(self) -> None:
        if self._server is None:
            await self.start()
        assert self._server is not None
        await self._server.serve_forever()

    async def close(self) -> None:
        """Stop listening and end every connection."""
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> CommandServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ----------------------------------------------------------------- connection
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        number = next(self._ids)
        self.clients[number] = f"client{number}"
        peer = writer.get_extra_info("peername")
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        log.info("azcam client %d connected from %s", number, peer)
        try:
            if self.welcome:
                writer.write(protocol.one_line(self.welcome).encode() + b"\r\n")
            while True:
                try:
                    raw = await self._read_line(reader)
                except _LineTooLong:
                    await self._send(writer, protocol.error(
                        f"request longer than {self.max_line_bytes} bytes, ignored"))
                    continue
                if raw is None:
                    break
                reply, close = await self._answer(number, raw)
                await self._send(writer, reply)
                if close:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass  # the server is closing; asyncio's stream callback must not see it
        finally:
            self._connections.discard(task)
            self.clients.pop(number, None)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            log.info("azcam client %d disconnected", number)

    async def _read_line(self, reader: asyncio.StreamReader) -> bytes | None:
        """The next line without its terminator; None at the end of the stream."""
        try:
            return (await reader.readuntil(b"\n"))[:-1]
        except asyncio.IncompleteReadError as exc:
            return exc.partial if exc.partial.strip() else None
        except asyncio.LimitOverrunError as exc:
            await reader.readexactly(exc.consumed)
            while True:  # discard through the end of the overlong line
                try:
                    await reader.readuntil(b"\n")
                    break
                except asyncio.LimitOverrunError as more:
                    await reader.readexactly(more.consumed)
                except asyncio.IncompleteReadError:
                    break
            raise _LineTooLong from None

    async def _send(self, writer: asyncio.StreamWriter, reply: str) -> None:
        writer.write(reply.encode("utf-8", "replace") + b"\r\n")
        if writer.transport.get_write_buffer_size() > _HIGH_WATER:
            await writer.drain()

    async def _answer(self, number: int, raw: bytes) -> tuple[str, bool]:
        """(reply line, close the connection afterwards)."""
        try:
            line = raw.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError as exc:
            return protocol.error(f"request is not valid UTF-8 (byte {exc.start})"), False
        self.commands_served += 1
        stripped = line.strip()
        if not stripped:
            return "OK", False
        head, _, rest = stripped.partition(" ")
        keyword = head.lower()
        if keyword == "echo":
            return protocol.ok(rest.strip() or None), False
        if keyword == "register":
            name = rest.strip()
            if not name:
                return protocol.error("register needs a client name"), False
            self.clients[number] = protocol.printable(name, 40)
            log.info("azcam client %d registered as %s", number, self.clients[number])
            return "OK", False
        if keyword == "closeconnection":
            return "OK", True
        if keyword == "exit":
            return protocol.error("exit: stopping the server is not available over the "
                                  "network"), False
        return await self._execute(number, line), False

    async def _execute(self, number: int, line: str) -> str:
        try:
            request = protocol.parse_request(line)
            result: Any = await self.table.execute(request)
        except NocturnaError as exc:
            return protocol.error(protocol.exception_text(exc, with_type=False))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a tool's bug: answer and keep serving
            log.exception("azcam client %s: %r failed", self.clients.get(number), line)
            return protocol.error(protocol.exception_text(exc))
        try:
            return protocol.ok(result)
        except Exception as exc:
            return protocol.error(f"cannot format the reply: {protocol.exception_text(exc)}")
