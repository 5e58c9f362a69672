"""One TCP connection to an INDI server, kept up, with the properties it has learnt.

:class:`IndiConnection` connects, asks for every property (``getProperties``), then
applies what the server sends to its :class:`~nocturna.devices.indi.properties.
PropertyStore`. When the link drops (the server stopped, the network failed, the server
sent something that is not INDI), the properties are forgotten and the connection tries
again, with a growing pause; once back it asks for the properties again and re-sends
its ``enableBLOB`` settings, so a restarted server is picked up without anyone's help.
:attr:`IndiConnection.generation` counts the links made, so a driver sees that the
server it talks to may have restarted (its device then needs connecting again).

Devices on one server share one connection (:func:`acquire` / :func:`release`, counted
per event loop). A camera takes a connection of its own for its image BLOBs
(``enableBLOB Only``), so a 30 MB frame never holds up the other devices' updates.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from nocturna.core.errors import ConfigError, DeviceTimeoutError, NocturnaError
from nocturna.devices.indi.properties import PropertyStore, Vector, format_number
from nocturna.devices.indi.wire import (
    MAX_BLOB,
    IndiProtocolError,
    Message,
    WireReader,
    element,
    member,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_PORT = 7624
PROTOCOL_VERSION = "1.7"
FIRST_RETRY_S = 0.25
MAX_RETRY_S = 5.0
MESSAGES_KEPT = 200


class IndiConnectionError(NocturnaError):
    """The INDI server cannot be reached (or the link to it was lost)."""


def parse_indi_address(address: Any, *, owner: str = "indi") -> tuple[str, int]:
    """(host, port) from ``"host:port"`` or ``"host"`` (port 7624); ConfigError if bad."""
    if not isinstance(address, str) or not address.strip():
        raise ConfigError(f"{owner}.address: expected 'host:port' of an INDI server, "
                          f"got {address!r}")
    text = address.strip()
    host, port_text = text, str(DEFAULT_PORT)
    if text.startswith("["):
        closing = text.find("]")
        host, rest = text[1:closing], text[closing + 1:]
        if rest.startswith(":"):
            port_text = rest[1:]
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    try:
        port = int(port_text)
    except ValueError:
        port = 0
    if not host or not 0 < port < 65536 or any(c in host for c in "/?#@ "):
        raise ConfigError(f"{owner}.address: expected 'host:port' with a port in 1..65535, "
                          f"got {address!r}")
    return host, port


@dataclass(frozen=True, slots=True)
class ServerMessage:
    """A ``<message>`` from the server (a driver's log line)."""

    device: str
    timestamp: str
    text: str


Listener = Callable[[Message, "Vector | None"], None]


class _Protocol(asyncio.Protocol):
    def __init__(self, owner: IndiConnection, reader: WireReader) -> None:
        self.owner, self.reader = owner, reader
        self.transport: asyncio.Transport | None = None
        self.lost: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses: no isinstance check
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            messages = self.reader.feed(data)
        except IndiProtocolError as exc:
            self._lose(f"the server sent what is not INDI: {exc}")
            return
        self.owner._take(messages)

    def connection_lost(self, exc: Exception | None) -> None:
        self._lose(f"the link was lost: {exc}" if exc else "the server closed the link")

    def _lose(self, why: str) -> None:
        if not self.lost.done():
            self.lost.set_result(why)
        if self.transport is not None:
            self.transport.abort()


class IndiConnection:
    """A kept-up connection to one INDI server (see the module docstring)."""

    def __init__(self, host: str, port: int = DEFAULT_PORT, *,
                 max_blob: int = MAX_BLOB, label: str = "") -> None:
        self.host, self.port = host, port
        self.address = f"{host}:{port}"
        self.label = label or self.address
        self.store = PropertyStore()
        self.messages: deque[ServerMessage] = deque(maxlen=MESSAGES_KEPT)
        self.generation = 0
        self.last_error = ""
        self.users = 0
        self._max_blob = max_blob
        self._blob_modes: dict[tuple[str, str], str] = {}
        self._protocol: _Protocol | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self._listeners: list[Listener] = []
        self._closed = False

    # ------------------------------------------------------------ life
    @property
    def up(self) -> bool:
        protocol = self._protocol
        return protocol is not None and not protocol.lost.done()

    def start(self) -> None:
        """Start keeping the link up (on the running loop; returns at once)."""
        if self._keeper is None:
            self._keeper = asyncio.get_running_loop().create_task(
                self._keep(), name=f"indi:{self.address}")

    async def wait_up(self, timeout_s: float) -> None:
        """Wait until the link is up; :class:`IndiConnectionError` if not in time."""
        self.start()
        try:
            await self.wait_for(lambda: self.up, timeout_s, "the link")
        except DeviceTimeoutError:
            raise IndiConnectionError(
                f"INDI server {self.address} does not answer: {self.last_error or 'timeout'}"
            ) from None

    async def close(self) -> None:
        self._closed = True
        keeper, self._keeper = self._keeper, None
        if keeper is not None:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
        self._drop("closed")

    async def _keep(self) -> None:
        pause = FIRST_RETRY_S
        loop = asyncio.get_running_loop()
        while not self._closed:
            reader = WireReader(max_blob=self._max_blob)
            try:
                _, protocol = await loop.create_connection(
                    lambda r=reader: _Protocol(self, r), self.host, self.port)
            except OSError as exc:
                self.last_error = f"cannot connect: {exc.strerror or exc}"
                await asyncio.sleep(pause)
                pause = min(MAX_RETRY_S, pause * 2)
                continue
            self._protocol = protocol
            self.generation += 1
            pause = FIRST_RETRY_S
            log.info("INDI server %s: connected (link %d)", self.address, self.generation)
            self._write(element("getProperties", {"version": PROTOCOL_VERSION}))
            for (device, name), mode in self._blob_modes.items():
                self._write(self._enable_blob(device, name, mode))
            self._notify()
            why = await protocol.lost
            self.last_error = why
            self._drop(why)
            log.warning("INDI server %s: %s; reconnecting", self.address, why)
            await asyncio.sleep(pause)

    def _drop(self, why: str) -> None:
        protocol, self._protocol = self._protocol, None
        if protocol is not None:
            protocol._lose(why)
        self.store.clear()
        self._notify()

    # ---------------------------------------------------------- incoming
    def _take(self, messages: list[Message]) -> None:
        for message in messages:
            vector = None
            if message.tag == "message":
                self.messages.append(ServerMessage(message.device,
                                                   message.attrs.get("timestamp", ""),
                                                   message.attrs.get("message", "")))
            else:
                try:
                    vector = self.store.apply(message)
                except IndiProtocolError as exc:
                    log.warning("INDI server %s: %s %s %s ignored: %s", self.address,
                                message.tag, message.device, message.name, exc)
                    continue
            for listener in list(self._listeners):
                try:
                    listener(message, vector)
                except Exception:
                    log.exception("INDI listener failed on %s", message.tag)
        if messages:
            self._notify()

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(message, vector)`` for every message; returns the undo."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners \
            else None

    async def wait_for(self, found: Callable[[], T], timeout_s: float, what: str) -> T:
        """Wait until ``found()`` gives something true (checked on every update);
        :class:`DeviceTimeoutError` naming ``what`` after ``timeout_s`` real seconds."""
        try:
            async with asyncio.timeout(timeout_s):
                while True:
                    changed = self._changed
                    result = found()
                    if result:
                        return result
                    await changed.wait()
        except TimeoutError:
            raise DeviceTimeoutError(
                f"INDI server {self.address}: {what} not within {timeout_s:g} s") from None

    # ---------------------------------------------------------- outgoing
    def _write(self, data: bytes) -> None:
        protocol = self._protocol
        if protocol is None or protocol.transport is None or protocol.lost.done():
            raise IndiConnectionError(f"INDI server {self.address} is not connected"
                                      f"{': ' + self.last_error if self.last_error else ''}")
        protocol.transport.write(data)

    def get_properties(self, device: str = "", name: str = "") -> None:
        self._write(element("getProperties", {"version": PROTOCOL_VERSION,
                                              "device": device or None, "name": name or None}))

    def enable_blob(self, device: str, mode: str, name: str = "") -> None:
        """``Never``, ``Also`` or ``Only``: kept, and sent again after a reconnect."""
        if mode not in ("Never", "Also", "Only"):
            raise ValueError(f"enableBLOB is Never, Also or Only, not {mode!r}")
        self._blob_modes[(device, name)] = mode
        if self.up:
            self._write(self._enable_blob(device, name, mode))

    @staticmethod
    def _enable_blob(device: str, name: str, mode: str) -> bytes:
        return element("enableBLOB", {"device": device, "name": name or None}, mode)

    def send_new(self, vector: Vector, values: dict[str, Any]) -> None:
        """Send ``new<Kind>Vector`` with ``values`` (element name → value)."""
        kind = vector.kind
        parts = []
        for name, value in values.items():
            if kind == "Number":
                text = format_number(float(value))
            elif kind == "Switch":
                text = "On" if value else "Off"
            elif kind == "Text":
                text = str(value)
            else:
                raise IndiProtocolError(f"{vector.device!r} {vector.name}: a client does not "
                                        f"send {kind} vectors")
            parts.append(member(f"one{kind}", name, text))
        self._write(element(f"new{kind}Vector", {"device": vector.device,
                                                 "name": vector.name}, "".join(parts)))


# ------------------------------------------------------------------- registry
_shared: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, IndiConnection]] = (
    weakref.WeakKeyDictionary())


def acquire(address: str, *, own: bool = False, label: str = "") -> IndiConnection:
    """The shared, started connection to ``address`` in the running loop (counted:
    :func:`release` it); ``own`` gives a connection of the caller's own instead."""
    host, port = parse_indi_address(address)
    if own:
        connection = IndiConnection(host, port, label=label)
    else:
        shared = _shared.setdefault(asyncio.get_running_loop(), {})
        connection = shared.get(f"{host}:{port}")
        if connection is None or connection._closed:
            connection = shared[f"{host}:{port}"] = IndiConnection(host, port)
    connection.users += 1
    connection.start()
    return connection


async def release(connection: IndiConnection) -> None:
    """Give back a connection from :func:`acquire`; the last user closes it."""
    connection.users -= 1
    if connection.users > 0:
        return
    shared = _shared.get(asyncio.get_running_loop(), {})
    if shared.get(connection.address) is connection:
        del shared[connection.address]
    await connection.close()
