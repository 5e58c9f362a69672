"""One serial line on the event loop: open, framed reads, writes, one request at a time.

A :class:`SerialLine` opens a device path (``/dev/ttyUSB0``) or any pyserial URL
(``socket://host:port``, ``loop://``, ``nocturna-sim://KIND``) with pyserial, then
reads and writes it from the running event loop without blocking it:

* ports with a file descriptor (ttys, ptys, sockets, the simulators) are watched with
  ``loop.add_reader`` and read and written with non-blocking ``os.read``/``os.write``;
  ports without one (``loop://``) are polled every :data:`POLL_S` seconds;
* what arrives goes into one buffer; :meth:`read_until`, :meth:`read_exactly`,
  :meth:`read_line` and :meth:`read_some` take framed pieces of it, each bounded by a
  timeout in the loop's time (simulated seconds on a simulated night, where a protocol
  simulator answers at once);
* :meth:`request` holds the line's lock, discards stale input, writes a command and
  reads its reply, so two tasks never interleave their exchanges;
* device paths are opened exclusively (pyserial's ``flock``), and a second open of the
  same port in this process is refused with the name of the line that holds it;
* a port that vanishes (a USB adapter unplugged: end of file or an I/O error) closes
  the line and raises :class:`SerialLinkError`; :meth:`open` may then be called again;
* every chunk in and out is logged at debug level on ``nocturna.devices.serial``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

from nocturna.core.errors import ConfigError, DeviceTimeoutError, NocturnaError

log = logging.getLogger("nocturna.devices.serial")

POLL_S = 0.01
"""How often a port without a file descriptor (``loop://``) is read."""
MAX_FRAME = 65536
"""Bytes a framed read waits through without finding its terminator before giving up."""
BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)

_OPEN: dict[str, str] = {}
"""Port (as given) → the name of the line that has it open, in this process."""


class SerialLinkError(NocturnaError):
    """The port cannot be opened, or it vanished (unplugged); the line is closed."""


class SerialTimeoutError(DeviceTimeoutError):
    """A framed read did not complete in time (the message says what came)."""


class SerialProtocolError(NocturnaError):
    """A reply that does not follow the device's protocol (garbled, unexpected)."""


def _serial_module() -> Any:
    import serial  # pyserial; deferred so that importing a driver stays light

    import nocturna.devices.serial as handlers

    if handlers.__name__ not in serial.protocol_handler_packages:
        serial.protocol_handler_packages.append(handlers.__name__)  # nocturna-sim://
    return serial


class SerialLine:
    """A serial port read and written from the event loop (see the module docstring)."""

    def __init__(self, url: str, *, baudrate: int = 9600, name: str = "",
                 bytesize: int = 8, parity: str = "N", stopbits: float = 1) -> None:
        if not isinstance(url, str) or not url.strip():
            raise ConfigError(f"{name or 'serial'}.port: expected a device path or a "
                              f"pyserial URL, got {url!r}")
        if baudrate not in BAUDRATES:
            raise ConfigError(f"{name or 'serial'}.baudrate: {baudrate!r} is not a standard "
                              f"rate ({', '.join(map(str, BAUDRATES))})")
        self.url = url.strip()
        self.name = name or self.url
        self.baudrate = baudrate
        self._settings = {"baudrate": baudrate, "bytesize": bytesize, "parity": parity,
                          "stopbits": stopbits}
        self._port: Any = None
        self._fd: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._poller: asyncio.Task[None] | None = None
        self._buffer = bytearray()
        self._waiter: asyncio.Future[None] | None = None
        self._lost: str | None = None
        self._lock = asyncio.Lock()
        self._pending = bytearray()  # written but not yet accepted by the port

    # ------------------------------------------------------------ open/close
    @property
    def is_open(self) -> bool:
        return self._port is not None

    async def open(self) -> None:
        """Open the port (idempotent); :class:`SerialLinkError` says why it cannot."""
        if self._port is not None:
            return
        holder = _OPEN.get(self.url)
        if holder is not None:
            raise SerialLinkError(f"{self.name}: port {self.url} is already open "
                                  f"(by {holder!r} in this process)")
        serial = _serial_module()
        is_url = "://" in self.url
        try:
            port = serial.serial_for_url(self.url, do_not_open=True, timeout=0,
                                         write_timeout=0, exclusive=not is_url,
                                         **self._settings)
            if self.url.startswith("nocturna-sim://"):
                port.open()  # on this loop: the simulator runs beside the driver
            else:
                await asyncio.to_thread(port.open)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise SerialLinkError(f"{self.name}: cannot open port {self.url}: "
                                  f"{_reason(exc)}") from exc
        self._loop = asyncio.get_running_loop()
        self._port, self._lost = port, None
        self._buffer.clear()
        self._pending.clear()
        _OPEN[self.url] = self.name
        self._fd = _fileno(port)
        if self._fd is not None:
            self._loop.add_reader(self._fd, self._readable)
        else:  # written through pyserial, which may then wait (a URL handler's queue)
            port.write_timeout = None
            self._poller = self._loop.create_task(self._poll(), name=f"serial {self.name}")
        log.debug("%s: opened %s at %d baud", self.name, self.url, self.baudrate)

    async def close(self) -> None:
        """Close the port (idempotent)."""
        port = self._port
        if port is None:
            return
        self._release()
        with contextlib.suppress(Exception):
            port.close()
        log.debug("%s: closed %s", self.name, self.url)

    def _release(self) -> None:
        """Stop watching the port and forget it (the caller closes it)."""
        if self._fd is not None and self._loop is not None:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self._fd)
                self._loop.remove_writer(self._fd)
        if self._poller is not None:
            self._poller.cancel()
        self._port, self._fd, self._poller = None, None, None
        if _OPEN.get(self.url) == self.name:
            del _OPEN[self.url]
        self._wake()

    def _lose(self, why: str) -> None:
        """The port vanished: close it; waiting reads raise :class:`SerialLinkError`."""
        port = self._port
        self._lost = why
        self._release()
        with contextlib.suppress(Exception):
            port.close()
        log.warning("%s: lost port %s: %s", self.name, self.url, why)

    # ------------------------------------------------------------ input
    def _readable(self) -> None:
        assert self._fd is not None
        try:
            data = os.read(self._fd, 65536)
        except BlockingIOError:
            return
        except OSError as exc:
            self._lose(_reason(exc))
            return
        if not data:
            self._lose("end of file (unplugged?)")
            return
        self._received(data)

    async def _poll(self) -> None:
        while self._port is not None:
            try:
                waiting = self._port.in_waiting
                data = self._port.read(waiting) if waiting else b""
            except Exception as exc:
                self._lose(_reason(exc))
                return
            if data:
                self._received(data)
            await asyncio.sleep(POLL_S)

    def _received(self, data: bytes) -> None:
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s ← %r", self.name, data)
        self._buffer += data
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _take(self, find: Callable[[bytearray], int | None], timeout_s: float,
                    what: str) -> bytes:
        """Wait until ``find(buffer)`` gives a length, then take that many bytes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            size = find(self._buffer)
            if size is not None:
                piece = bytes(self._buffer[:size])
                del self._buffer[:size]
                return piece
            if self._port is None:
                why = self._lost or "the line is closed"
                raise SerialLinkError(f"{self.name}: port {self.url}: {why}")
            if len(self._buffer) > MAX_FRAME:
                junk = bytes(self._buffer[:64])
                self._buffer.clear()
                raise SerialProtocolError(f"{self.name}: no {what} in {MAX_FRAME} bytes "
                                          f"from {self.url} (began {junk!r})")
            remaining = deadline - loop.time()
            if remaining <= 0:
                got = bytes(self._buffer)
                raise SerialTimeoutError(
                    f"{self.name}: waited {timeout_s:g} s on {self.url} for {what}, got "
                    + (f"{got!r}" if got else "nothing"))
            self._waiter = loop.create_future()
            try:
                async with asyncio.timeout(remaining):
                    await self._waiter
            except TimeoutError:
                pass
            finally:
                self._waiter = None

    async def read_until(self, terminator: bytes, timeout_s: float) -> bytes:
        """Bytes up to and including ``terminator``."""
        def find(buffer: bytearray) -> int | None:
            at = buffer.find(terminator)
            return None if at < 0 else at + len(terminator)
        return await self._take(find, timeout_s, f"a reply ending {terminator!r}")

    async def read_exactly(self, size: int, timeout_s: float) -> bytes:
        """Exactly ``size`` bytes."""
        return await self._take(lambda b: size if len(b) >= size else None, timeout_s,
                                f"{size} bytes")

    async def read_some(self, timeout_s: float) -> bytes:
        """Whatever has arrived (at least one byte)."""
        return await self._take(lambda b: len(b) or None, timeout_s, "any byte")

    async def read_line(self, timeout_s: float) -> bytes:
        """One line, without its ``\\r\\n`` or ``\\n``."""
        return (await self.read_until(b"\n", timeout_s)).rstrip(b"\r\n")

    def discard_input(self) -> bytes:
        """Drop (and return) what has arrived and not been read."""
        stale = bytes(self._buffer)
        self._buffer.clear()
        if stale and log.isEnabledFor(logging.DEBUG):
            log.debug("%s: discarded %r", self.name, stale)
        return stale

    # ------------------------------------------------------------ output
    def write(self, data: bytes) -> None:
        """Send ``data`` (never blocks: what the port cannot take yet is sent when it can)."""
        if self._port is None:
            why = self._lost or "the line is closed"
            raise SerialLinkError(f"{self.name}: cannot write to {self.url}: {why}")
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s → %r", self.name, data)
        if self._fd is None:
            try:
                self._port.write(data)
            except Exception as exc:
                self._lose(_reason(exc))
                raise SerialLinkError(f"{self.name}: write to {self.url} failed: "
                                      f"{_reason(exc)}") from exc
            return
        if self._pending:
            self._pending += data
            return
        self._pending += data
        self._flush()

    def _flush(self) -> None:
        fd = self._fd
        if fd is None:
            self._pending.clear()
            return
        try:
            sent = os.write(fd, self._pending)
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            self._lose(_reason(exc))
            raise SerialLinkError(f"{self.name}: write to {self.url} failed: "
                                  f"{_reason(exc)}") from exc
        del self._pending[:sent]
        assert self._loop is not None
        if self._pending:
            self._loop.add_writer(fd, self._flush_later)
        else:
            with contextlib.suppress(Exception):
                self._loop.remove_writer(fd)

    def _flush_later(self) -> None:
        with contextlib.suppress(SerialLinkError):
            self._flush()

    # ------------------------------------------------------------ exchanges
    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """Hold the line for one exchange (other tasks wait their turn)."""
        async with self._lock:
            yield

    async def request(self, data: bytes, *, until: bytes | None = None,
                      size: int | None = None, timeout_s: float = 1.0) -> bytes:
        """Write ``data`` and read its reply: up to ``until``, or ``size`` bytes
        (``size=0``: no reply). Input that arrived before is discarded."""
        if (until is None) == (size is None):
            raise ValueError("request() needs exactly one of until= or size=")
        async with self._lock:
            self.discard_input()
            self.write(data)
            if until is not None:
                return await self.read_until(until, timeout_s)
            return await self.read_exactly(size, timeout_s) if size else b""

    def __repr__(self) -> str:
        return f"SerialLine({self.url!r}, {'open' if self.is_open else 'closed'})"


def _fileno(port: Any) -> int | None:
    """The port's file descriptor, set non-blocking; None if it has none (``loop://``)."""
    try:
        fd = port.fileno()
    except (AttributeError, NotImplementedError, OSError, ValueError):
        return None
    if not isinstance(fd, int) or fd < 0:
        return None
    os.set_blocking(fd, False)
    return fd


def _reason(exc: BaseException) -> str:
    """A short reason for a port failure (busy, absent, not allowed...)."""
    errno_value = getattr(exc, "errno", None)
    if errno_value == errno.ENOENT:
        return "no such device"
    if errno_value in (errno.EACCES, errno.EPERM):
        return "permission denied (is the user in the dialout group?)"
    if errno_value in (errno.EBUSY, errno.EAGAIN):
        return "busy: another program has it open"
    text = str(exc) or type(exc).__name__
    if "lock" in text.lower() or "Resource temporarily unavailable" in text:
        return f"busy: another program has it open ({text})"
    return text
