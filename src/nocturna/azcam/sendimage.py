"""Sending image files to a remote image server (azcam's ``sendimage`` wire format).

The wire format, shared with :mod:`nocturna.azcam.imageserver`:

1. the client connects over TCP and writes a 256-byte ASCII header,
   ``"%16d %s %d %d %d %d" % (size, name, filetype, size_x, size_y, display)``
   padded with spaces; a name starting with ``!`` allows replacing an existing file;
2. then exactly ``size`` bytes of file data;
3. for the ``azcam`` server type the server answers a 16-byte space-padded ASCII
   status whose first character is ``0`` on success (nocturna's server sends a single
   positive digit and a word otherwise, see :data:`STATUS_TEXT`); the ``dataserver``
   type answers nothing, so the client only waits briefly for the server to close.

File types follow azcam: 0 FITS, 1 MEF, 2 BIN (others are passed through as numbers).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path
from typing import Any

from nocturna.azcam.protocol import exception_text
from nocturna.azcam.remote import remote
from nocturna.core.errors import (
    DeviceTimeoutError,
    InvalidOperationError,
    InvalidValueError,
    NocturnaError,
)

logger = logging.getLogger(__name__)

HEADER_BYTES = 256
STATUS_BYTES = 16
DEFAULT_PORT = 6543
SERVER_TYPES = ("azcam", "dataserver")
OVERWRITE_PREFIX = "!"
CHUNK_BYTES = 1 << 20
"""Bytes read and written at a time where the event loop has no ``sendfile``."""

STATUS_OK = 0
STATUS_EXISTS = 1
STATUS_SIZE = 2
STATUS_BAD_NAME = 3
STATUS_BAD_HEADER = 4
STATUS_TEXT = {
    STATUS_OK: "OK",
    STATUS_EXISTS: "exists",
    STATUS_SIZE: "size/write",
    STATUS_BAD_NAME: "bad name",
    STATUS_BAD_HEADER: "bad header",
}
"""Status codes of nocturna's image server: single digits, so that azcam's client
(which reads ``int(reply[:1])``) can parse every one of them."""


class ImageServerError(NocturnaError):
    """The remote image server could not be reached or refused the file."""

    def __init__(self, message: str, status: str | None = None) -> None:
        super().__init__(message)
        self.status = status


def format_header(size: int, name: str, filetype: int = 0, size_x: int = 0,
                  size_y: int = 0, display: bool = False) -> bytes:
    """The 256-byte header announcing a file of ``size`` bytes named ``name``."""
    text = f"{size:16d} {name} {filetype:d} {size_x:d} {size_y:d} {int(display):d}"
    data = text.encode("utf-8")
    if len(data) > HEADER_BYTES:
        raise InvalidValueError(
            f"remotefile {name!r}: too long, the header would take {len(data)} bytes "
            f"of the {HEADER_BYTES} available")
    return data.ljust(HEADER_BYTES, b" ")


def format_status(code: int, text: str | None = None) -> bytes:
    """The 16-byte status reply: ``"<digit> <text>"`` padded with spaces."""
    reply = f"{code:d} {STATUS_TEXT.get(code, '') if text is None else text}".rstrip()
    return reply.encode("ascii", "replace")[:STATUS_BYTES].ljust(STATUS_BYTES, b" ")


def check_remote_name(name: str) -> None:
    """Refuse names the header cannot carry: empty, whitespace or control characters."""
    bare = name.removeprefix(OVERWRITE_PREFIX)
    if not bare:
        raise InvalidValueError(f"remotefile {name!r}: empty name")
    bad = [c for c in name if c.isspace() or not c.isprintable()]
    if bad:
        raise InvalidValueError(
            f"remotefile {name!r}: contains {bad[0]!r}; whitespace and control characters "
            "cannot be sent in the header")


class SendImage:
    """The azcam ``sendimage`` tool: where finished images go, and sending them there.

    ``timeout_s`` bounds each step (connecting, sending the data, waiting for the
    status). ``dataserver_linger_s`` is how long a ``dataserver`` transfer waits for the
    server to close the connection (that server type sends no status).
    """

    def __init__(self, *, timeout_s: float = 30.0, dataserver_linger_s: float = 1.0) -> None:
        if timeout_s <= 0:
            raise InvalidValueError(f"timeout_s must be > 0 seconds, got {timeout_s!r}")
        self.remote_imageserver_host = ""
        self.remote_imageserver_port = DEFAULT_PORT
        self.remote_imageserver_type = "azcam"
        self.remote_imageserver_filename = "image"
        self.timeout_s = timeout_s
        self.dataserver_linger_s = dataserver_linger_s

    @property
    def enabled(self) -> bool:
        """True once a remote host is set."""
        return bool(self.remote_imageserver_host)

    @remote
    def set_remote_imageserver(
        self,
        remote_imageserver_host: str = "",
        remote_imageserver_port: int = DEFAULT_PORT,
        remote_imageserver_type: str = "azcam",
        remote_imageserver_filename: str = "image",
        *,
        host: str | None = None,
        port: int | None = None,
        type: str | None = None,
        filename: str | None = None,
    ) -> None:
        """Send images to ``host:port``, a server of ``type`` (``azcam`` or ``dataserver``);
        ``filename`` is the remote name used when none is given. An empty host disables
        sending. The short keyword names are aliases of azcam's long ones."""
        host = _alias("host", host, remote_imageserver_host, "")
        port = _alias("port", port, remote_imageserver_port, DEFAULT_PORT)
        kind = _alias("type", type, remote_imageserver_type, "azcam")
        filename = _alias("filename", filename, remote_imageserver_filename, "image")
        if kind not in SERVER_TYPES:
            raise InvalidValueError(
                f"remote_imageserver_type {kind!r}: expected one of {', '.join(SERVER_TYPES)}")
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise InvalidValueError(
                f"remote_imageserver_port {port!r}: expected an integer from 1 to 65535")
        if not isinstance(host, str) or any(c.isspace() for c in host):
            raise InvalidValueError(f"remote_imageserver_host {host!r}: expected a host name")
        check_remote_name(filename)
        self.remote_imageserver_host = host
        self.remote_imageserver_port = port
        self.remote_imageserver_type = kind
        self.remote_imageserver_filename = filename
        logger.info("remote image server %s", f"{host}:{port} ({kind})" if host else "disabled")

    @remote
    def get_remote_imageserver(self) -> list[Any]:
        """``[host, port, type, filename]`` of the remote image server."""
        return [self.remote_imageserver_host, self.remote_imageserver_port,
                self.remote_imageserver_type, self.remote_imageserver_filename]

    async def send_image(self, localfile: str | os.PathLike[str], remotefile: str | None = None,
                         *, overwrite: bool = False, filetype: int = 0, size_x: int = 0,
                         size_y: int = 0, display: bool = False) -> None:
        """Send ``localfile`` to the remote image server as ``remotefile`` (default: the
        configured filename); ``overwrite`` lets it replace an existing file there.

        Raises :class:`ImageServerError` when the server cannot be reached or refuses
        the file (with its status), :class:`DeviceTimeoutError` when a step takes longer
        than ``timeout_s``, :class:`InvalidValueError` for a bad name or missing file.
        """
        if not self.enabled:
            raise InvalidOperationError(
                "no remote image server is set; call set_remote_imageserver(host, port) first")
        name = self.remote_imageserver_filename if remotefile is None else remotefile
        check_remote_name(name)
        if overwrite and not name.startswith(OVERWRITE_PREFIX):
            name = OVERWRITE_PREFIX + name
        for label, value in (("filetype", filetype), ("size_x", size_x), ("size_y", size_y)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidValueError(f"{label} {value!r}: expected an integer >= 0")
        path = Path(localfile)
        try:
            stream = path.open("rb")
        except OSError as exc:
            raise InvalidValueError(f"localfile {str(path)!r}: {exc.strerror or exc}") from None
        with stream:
            size = os.fstat(stream.fileno()).st_size
            header = format_header(size, name, filetype, size_x, size_y, display)
            await self._transfer(stream, size, header, name)
        logger.info("sent %s (%d bytes) to %s:%d as %s", path, size,
                    self.remote_imageserver_host, self.remote_imageserver_port, name)

    # -- the connection ---------------------------------------------------------

    @property
    def _address(self) -> str:
        return f"{self.remote_imageserver_host}:{self.remote_imageserver_port}"

    async def _step(self, what: str, awaitable: Any) -> Any:
        try:
            async with asyncio.timeout(self.timeout_s):
                return await awaitable
        except TimeoutError:
            raise DeviceTimeoutError(
                f"image server {self._address}: {what} took longer than "
                f"{self.timeout_s:g} s") from None

    async def _transfer(self, stream: Any, size: int, header: bytes, name: str) -> None:
        try:
            reader, writer = await self._step("connecting", asyncio.open_connection(
                self.remote_imageserver_host, self.remote_imageserver_port))
        except OSError as exc:
            raise ImageServerError(
                f"cannot connect to image server {self._address}: "
                f"{exc.strerror or exception_text(exc)}"
            ) from None
        try:
            try:
                writer.write(header)
                await self._step("sending the data", _send_body(writer, stream, size))
            except (ConnectionError, BrokenPipeError) as exc:
                status = await self._early_status(reader)
                if status is not None:
                    _check_status(status, name, self._address)
                raise ImageServerError(
                    f"image server {self._address} closed the connection while receiving "
                    f"{name!r}: {exception_text(exc)}") from None
            if self.remote_imageserver_type == "azcam":
                status = await self._read_status(reader)
                _check_status(status, name, self._address)
            else:
                await self._linger(writer, reader)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _read_status(self, reader: asyncio.StreamReader) -> str:
        try:
            data = await self._step("the status reply", reader.readexactly(STATUS_BYTES))
        except asyncio.IncompleteReadError as exc:
            raise ImageServerError(
                f"image server {self._address} closed the connection after "
                f"{len(exc.partial)} of the {STATUS_BYTES} status bytes "
                f"({exc.partial.decode('ascii', 'replace')!r})") from None
        except ConnectionError as exc:
            raise ImageServerError(
                f"image server {self._address} dropped the connection before its status: "
                f"{exception_text(exc)}") from None
        return data.decode("ascii", "replace")

    async def _early_status(self, reader: asyncio.StreamReader) -> str | None:
        """A status the server sent before closing on us, if one can still be read."""
        with contextlib.suppress(Exception):
            async with asyncio.timeout(1.0):
                data = await reader.read(STATUS_BYTES)
            if data:
                return data.decode("ascii", "replace")
        return None

    async def _linger(self, writer: asyncio.StreamWriter, reader: asyncio.StreamReader) -> None:
        """No status to wait for: half-close and give the server a moment to finish."""
        with contextlib.suppress(OSError):
            if writer.can_write_eof():
                writer.write_eof()
        with contextlib.suppress(TimeoutError, OSError):
            async with asyncio.timeout(self.dataserver_linger_s):
                while await reader.read(65536):
                    pass


def _alias(short: str, value: Any, long_value: Any, default: Any) -> Any:
    """The value given under the short keyword, else azcam's long one."""
    if value is None:
        return long_value
    if long_value != default and long_value != value:
        raise InvalidValueError(
            f"{short}={value!r} and remote_imageserver_{short}={long_value!r} disagree; "
            "give only one")
    return value


def _check_status(status: str, name: str, address: str) -> None:
    if status[:1] == "0":
        return
    text = status.strip() or repr(status)
    raise ImageServerError(f"image server {address} refused {name!r}: status {text!r}", text)


async def _send_body(writer: asyncio.StreamWriter, stream: Any, size: int) -> None:
    """Write ``size`` bytes of ``stream`` after the header: ``sendfile`` when the event
    loop has it, else chunks read off the loop with flow control (uvloop, the loop the
    CLI runs, has no ``sendfile``)."""
    await writer.drain()
    if size:
        loop = asyncio.get_running_loop()
        if has_sendfile(loop):
            await loop.sendfile(writer.transport, stream, 0, size)
        else:
            await _send_chunks(writer, stream, size)
    await writer.drain()


def has_sendfile(loop: asyncio.AbstractEventLoop) -> bool:
    """True if ``loop`` implements ``sendfile`` (uvloop does not: it keeps the abstract
    method, which raises NotImplementedError)."""
    return type(loop).sendfile is not asyncio.AbstractEventLoop.sendfile


async def _send_chunks(writer: asyncio.StreamWriter, stream: Any, size: int) -> None:
    """Write ``size`` bytes of ``stream`` in chunks; the next chunk is read from the
    disk (in a thread) while the previous one drains to the socket."""
    left = size
    reading = asyncio.ensure_future(asyncio.to_thread(stream.read, min(left, CHUNK_BYTES)))
    try:
        while left:
            chunk = await reading
            if not chunk:
                raise ImageServerError(
                    f"the local file ended after {size - left} of the {size} bytes "
                    "announced (it shrank while being sent)")
            left -= len(chunk)
            if left:
                reading = asyncio.ensure_future(
                    asyncio.to_thread(stream.read, min(left, CHUNK_BYTES)))
            writer.write(chunk)
            await writer.drain()
    finally:
        if not reading.done():  # a failed drain: let the read finish before the file closes
            with contextlib.suppress(BaseException):
                await asyncio.shield(reading)
