"""An image server receiving files in azcam's ``sendimage`` wire format.

See :mod:`nocturna.azcam.sendimage` for the format. Per connection the server reads
the 256-byte header, streams exactly ``size`` bytes into a temporary file beside the
target (never the whole file in memory), fsyncs it and puts it in place atomically:
``os.replace`` when the name starts with ``!``, otherwise a hard link that fails if the
name is taken, so an existing file is never replaced. It then replies a 16-byte status:

====  ==========  ==============================================================
code  text        meaning
====  ==========  ==============================================================
0     OK          the file is in place
1     exists      the name is taken and the header has no ``!``
2     size/write  not enough disk space, larger than allowed, a write failed, or
                  fewer bytes came than announced (``2 incomplete``: the client
                  ended its side; ``2 timed out``: it went silent)
3     bad name    empty, ``..``, NUL, a directory, resolves outside the directory, or
                  named like the server's temporary files (``.NAME.<16 hex>.tmp``)
4     bad header  the header is not ``size name filetype size_x size_y display``, or
                  the connection ended within its 256 bytes
====  ==========  ==============================================================

Codes are single positive digits because azcam's client parses ``int(reply[:1])``.
After a refusal of a readable header the announced bytes are still read (and
discarded) before the connection closes, so a client that sends everything before
reading its status gets the status rather than a reset connection.

Names are taken relative to the directory as if it were the root (``/a/b.fits`` is
``DIR/a/b.fits``); sub-folders are created. A transfer that ends or stalls before
``size`` bytes leaves nothing behind (the temporary file is deleted) and is answered
with a status all the same, which a client that half-closed its side can read. Each received file is
logged, kept in :attr:`ImageServer.received`, published as an ``imageserver.received``
event and, given a storage, recorded as ``imageserver`` telemetry.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import errno
import hashlib
import logging
import os
import shutil
import socket
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from nocturna.azcam.sendimage import (
    DEFAULT_PORT,
    HEADER_BYTES,
    OVERWRITE_PREFIX,
    STATUS_BAD_HEADER,
    STATUS_BAD_NAME,
    STATUS_EXISTS,
    STATUS_OK,
    STATUS_SIZE,
    format_status,
)
from nocturna.core.atomic import fsync_directory, is_temporary_file, temporary_name
from nocturna.core.errors import InvalidOperationError, InvalidValueError
from nocturna.core.events import get_event_bus
from nocturna.core.listen import bind

logger = logging.getLogger(__name__)

_CHUNK_BYTES = 4 * 1024 * 1024
_DRAIN_AFTER_ERROR_S = 5.0


class Refused(Exception):
    """A transfer refused with a status code (internal to the server): ``reason`` goes
    to the log, ``text`` (the words after the code; default the code's usual words) to
    the client."""

    def __init__(self, code: int, reason: str, text: str | None = None) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.text = text


@dataclass(frozen=True)
class Header:
    """A parsed transfer header."""

    size: int
    name: str
    overwrite: bool
    filetype: int
    size_x: int
    size_y: int
    display: bool


@dataclass(frozen=True)
class ReceivedImage:
    """One file received and put in place."""

    name: str
    path: str
    size_bytes: int
    sha256: str
    filetype: int
    size_x: int
    size_y: int
    display: bool
    peer: str


def parse_header(data: bytes) -> Header:
    """The fields of a 256-byte header; :class:`Refused` (code 4) if malformed."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(STATUS_BAD_HEADER, "header is not UTF-8/ASCII text") from None
    fields = text.rstrip("\0").split()  # padding: spaces (azcam), or NULs
    if len(fields) != 6:
        raise Refused(STATUS_BAD_HEADER,
                      f"header has {len(fields)} fields, expected 6 "
                      f"(size name filetype size_x size_y display): {text.strip()[:80]!r}")
    numbers = []
    for label, value in zip(("size", "filetype", "size_x", "size_y", "display"),
                            (fields[0], *fields[2:]), strict=True):
        if not value.isascii() or not value.isdigit():
            raise Refused(STATUS_BAD_HEADER,
                          f"header {label} {value!r} is not a non-negative integer")
        numbers.append(int(value))
    size, filetype, size_x, size_y, display = numbers
    raw = fields[1]
    overwrite = raw.startswith(OVERWRITE_PREFIX)
    return Header(size, raw[1:] if overwrite else raw, overwrite, filetype, size_x, size_y,
                  bool(display))


def resolve_name(directory: Path, name: str) -> Path:
    """Where ``name`` goes under ``directory`` (treated as the root); :class:`Refused`
    (code 3) for names that are empty, hold NUL or ``..``, or lead outside it."""
    if "\0" in name:
        raise Refused(STATUS_BAD_NAME, f"name {name!r} contains NUL")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if not parts:
        raise Refused(STATUS_BAD_NAME, f"name {name!r} names no file")
    if ".." in parts:
        raise Refused(STATUS_BAD_NAME, f"name {name!r} contains '..'")
    if is_temporary_file(parts[-1]):
        raise Refused(STATUS_BAD_NAME, f"name {name!r} has the form of the server's own "
                      "temporary files (.NAME.<16 hex digits>.tmp)")
    root = directory.resolve()
    target = root.joinpath(*parts)
    if not _inside(target.resolve(), root):
        raise Refused(STATUS_BAD_NAME, f"name {name!r} leads outside {root} (symlink)")
    if target.is_dir():
        raise Refused(STATUS_BAD_NAME, f"name {name!r} is a directory")
    return target


def _inside(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


class _Connection:
    """One client socket, read with ``sock_recv_into`` (no copies through a stream
    buffer); each wait for data is bounded by ``idle_timeout_s``."""

    def __init__(self, sock: socket.socket, idle_timeout_s: float) -> None:
        self.sock = sock
        self.idle_timeout_s = idle_timeout_s
        self.received = 0  # bytes read so far, header included
        self.loop = asyncio.get_running_loop()
        try:
            host, port = sock.getpeername()[:2]
            self.peer = f"{host}:{port}"
        except OSError:
            self.peer = "?"

    async def recv_into(self, view: memoryview) -> int:
        """Read what is available into ``view`` (0 at end of stream)."""
        async with asyncio.timeout(self.idle_timeout_s):
            count = await self.loop.sock_recv_into(self.sock, view)
        self.received += count
        return count

    async def fill(self, view: memoryview) -> int:
        """Read until ``view`` is full or the stream ends; the number of bytes read."""
        got = 0
        while got < len(view):
            count = await self.recv_into(view[got:])
            if not count:
                break
            got += count
        return got

    async def send(self, data: bytes) -> None:
        async with asyncio.timeout(self.idle_timeout_s):
            await self.loop.sock_sendall(self.sock, data)

    def shutdown_write(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)


class ImageServer:
    """Receives files into ``directory`` over TCP (several clients at once).

    ``port`` 0 picks a free port (read :attr:`port` after :meth:`start`). ``max_bytes``
    refuses larger files; ``idle_timeout_s`` drops a client that sends nothing for that
    long (its partial file is discarded). Use ``async with ImageServer(...)`` or
    :meth:`start` / :meth:`close`.
    """

    def __init__(self, directory: str | os.PathLike[str], *, host: str = "127.0.0.1",
                 port: int = DEFAULT_PORT, storage: Any = None, source: str = "imageserver",
                 max_bytes: int | None = None, idle_timeout_s: float = 60.0,
                 keep_received: int = 1000) -> None:
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise InvalidValueError(f"image directory {str(self.directory)!r} is not a directory")
        self.host = host
        self._port = port
        self.storage = storage
        self.source = source
        self.max_bytes = max_bytes
        self.idle_timeout_s = idle_timeout_s
        self.received: collections.deque[ReceivedImage] = collections.deque(
            maxlen=keep_received)
        self._listener: socket.socket | None = None
        self._accepting: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        """The port listened on (the actual one once started)."""
        return self._port

    @property
    def address(self) -> str:
        return f"{self.host}:{self._port}"

    @property
    def connections(self) -> int:
        """Transfers in progress."""
        return len(self._tasks)

    async def start(self) -> None:
        """Start listening."""
        if self._listener is not None:
            raise InvalidOperationError(f"image server {self.address} is already started")
        self._listener = bind(self.host, self._port)
        self._port = self._listener.getsockname()[1]
        self._accepting = asyncio.create_task(self._accept(self._listener))
        logger.info("image server on %s writing into %s", self.address, self.directory)

    async def close(self) -> None:
        """Stop listening and drop the connections in progress (their partial files
        are discarded). Idempotent."""
        listener, self._listener = self._listener, None
        if listener is None:
            return
        tasks = [task for task in (self._accepting, *self._tasks) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        listener.close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    async def _accept(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                sock, _ = await loop.sock_accept(listener)
            except OSError as exc:  # e.g. out of file descriptors: wait, then go on
                logger.error("image server %s cannot accept: %s", self.address, exc)
                await asyncio.sleep(0.5)
                continue
            sock.setblocking(False)
            task = asyncio.create_task(self._serve(sock))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    # -- one connection ---------------------------------------------------------

    async def _serve(self, sock: socket.socket) -> None:
        with sock:
            connection = _Connection(sock, self.idle_timeout_s)
            try:
                await self._receive(connection)
            except (ConnectionError, TimeoutError) as exc:
                logger.warning("image transfer from %s dropped: %s", connection.peer,
                               exc or type(exc).__name__)
            except Exception:
                logger.exception("image transfer from %s failed", connection.peer)

    async def _receive(self, connection: _Connection) -> None:
        header: Header | None = None
        try:
            header = await _read_header(connection)
            if header is None:
                return  # connected and left: nothing to answer
            target = self._check(header)
        except Refused as refusal:
            await self._refuse(connection, refusal)
            if header is not None and refusal.code != STATUS_SIZE:
                await self._discard(connection, header.size)  # the client then reads the status
            else:
                await self._discard_until_eof(connection)
            return
        try:
            record = await self._store(connection, header, target)
        except Refused as refusal:
            await self._refuse(connection, refusal)
            await self._discard_until_eof(connection)
            return
        await connection.send(format_status(STATUS_OK))
        logger.info("received %s (%d bytes, sha256 %s) from %s", record.path,
                    record.size_bytes, record.sha256, connection.peer)

    async def _refuse(self, connection: _Connection, refusal: Refused) -> None:
        """Log the refusal and send its status (unless the client is gone)."""
        logger.warning("image transfer from %s refused (%d): %s", connection.peer,
                       refusal.code, refusal.reason)
        with contextlib.suppress(ConnectionError, TimeoutError):
            await connection.send(format_status(refusal.code, refusal.text))

    def _check(self, header: Header) -> Path:
        """The target path, after the checks that need no data."""
        target = resolve_name(self.directory, header.name)
        if not header.overwrite and target.exists():
            raise Refused(STATUS_EXISTS, f"{target} exists and the name has no '!'")
        if self.max_bytes is not None and header.size > self.max_bytes:
            raise Refused(STATUS_SIZE, f"{header.size} bytes is more than the "
                          f"{self.max_bytes} allowed", "too large")
        free = shutil.disk_usage(self.directory).free
        if header.size > free:
            raise Refused(STATUS_SIZE, f"{header.size} bytes do not fit in the {free} free",
                          "no space")
        return target

    async def _store(self, connection: _Connection, header: Header,
                     target: Path) -> ReceivedImage:
        """Receive the data into a temporary file and put it in place."""
        root = self.directory.resolve()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _write_refusal(exc, f"cannot create {target.parent}") from None
        if not _inside(target.parent.resolve(), root):  # a symlink raced in
            raise Refused(STATUS_BAD_NAME, f"{target.parent} leads outside {root}")
        tmp = temporary_name(target)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        except OSError as exc:
            raise _write_refusal(exc, f"cannot create {tmp}") from None
        published = False
        try:
            try:
                digest = await _copy(connection, fd, header.size)
                await asyncio.to_thread(os.fsync, fd)
            finally:
                os.close(fd)
            await asyncio.to_thread(_publish, tmp, target, header.overwrite)
            published = True
        finally:
            if not published:
                with contextlib.suppress(OSError):
                    tmp.unlink()
        record = ReceivedImage(
            name=header.name, path=str(target), size_bytes=header.size, sha256=digest,
            filetype=header.filetype, size_x=header.size_x, size_y=header.size_y,
            display=header.display, peer=connection.peer)
        await self._record(record)
        return record

    async def _record(self, record: ReceivedImage) -> None:
        self.received.append(record)
        data = asdict(record)
        get_event_bus().publish("imageserver.received", self.source, **data)
        if self.storage is not None:
            try:
                await asyncio.to_thread(self.storage.add_telemetry, "imageserver", data,
                                        source=self.source)
            except Exception:
                logger.exception("could not record %s in the storage", record.path)

    async def _discard(self, connection: _Connection, size: int) -> None:
        """Read and drop the ``size`` bytes announced by a refused header."""
        buffer = memoryview(bytearray(min(size, _CHUNK_BYTES) or 1))
        left = size
        with contextlib.suppress(ConnectionError, TimeoutError):
            while left:
                count = await connection.recv_into(buffer[:left])
                if not count:
                    return
                left -= count

    async def _discard_until_eof(self, connection: _Connection) -> None:
        """Half-close and drop what the client still sends, briefly (so that closing
        does not reset the connection before the client has read the status)."""
        connection.shutdown_write()
        buffer = memoryview(bytearray(_CHUNK_BYTES))
        with contextlib.suppress(ConnectionError, TimeoutError):
            async with asyncio.timeout(_DRAIN_AFTER_ERROR_S):
                while await connection.recv_into(buffer):
                    pass


async def _read_header(connection: _Connection) -> Header | None:
    """The client's parsed header; None if it left without sending a byte.
    :class:`Refused` (code 4) if the header is malformed, cut off or stalls midway."""
    raw = bytearray(HEADER_BYTES)
    try:
        got = await connection.fill(memoryview(raw))
    except TimeoutError:
        if not connection.received:
            raise  # connected and never spoke: dropped without a word
        raise Refused(STATUS_BAD_HEADER, f"no data for {connection.idle_timeout_s:g} s "
                      f"after {connection.received} of the {HEADER_BYTES} header bytes"
                      ) from None
    if not got:
        return None
    if got < HEADER_BYTES:
        raise Refused(STATUS_BAD_HEADER,
                      f"header cut off after {got} of its {HEADER_BYTES} bytes")
    return parse_header(bytes(raw))


async def _copy(connection: _Connection, fd: int, size: int) -> str:
    """Copy exactly ``size`` bytes from the connection to ``fd``; their SHA-256.

    Two buffers: while a worker thread hashes and writes one, the other is filled
    from the socket, so the disk never stalls the network (or the event loop).
    """
    digest = hashlib.sha256()
    buffers = [memoryview(bytearray(min(size, _CHUNK_BYTES))) for _ in range(2)]
    pending: asyncio.Future[None] | None = None
    left, turn = size, 0
    try:
        while left:
            view = buffers[turn][: min(left, _CHUNK_BYTES)]
            try:
                got = await connection.fill(view)
            except TimeoutError:
                raise Refused(STATUS_SIZE, f"no data for {connection.idle_timeout_s:g} s "
                              f"after {connection.received - HEADER_BYTES} of the {size} "
                              "bytes announced; nothing written", "timed out") from None
            if pending is not None:
                await pending
                pending = None
            if got < len(view):
                raise Refused(STATUS_SIZE, f"the client ended its data after "
                              f"{size - left + got} of the {size} bytes announced; nothing "
                              "written", "incomplete")
            pending = asyncio.ensure_future(asyncio.to_thread(_write_chunk, fd, view, digest))
            left -= got
            turn = 1 - turn
        if pending is not None:
            await pending
            pending = None
    finally:
        if pending is not None:  # let the worker finish with the buffer before it goes
            with contextlib.suppress(BaseException):
                await asyncio.shield(pending)
    return digest.hexdigest()


def _write_chunk(fd: int, view: memoryview, digest: Any) -> None:
    digest.update(view)
    try:
        while view:
            view = view[os.write(fd, view):]
    except OSError as exc:
        raise _write_refusal(exc, "writing the data failed") from None


def _write_refusal(exc: OSError, what: str) -> Refused:
    if exc.errno == errno.ENAMETOOLONG:
        return Refused(STATUS_BAD_NAME, f"{what}: {exc.strerror}")
    text = "no space" if exc.errno == errno.ENOSPC else "write error"
    return Refused(STATUS_SIZE, f"{what}: {exc.strerror or exc}", text)


def _publish(tmp: Path, target: Path, overwrite: bool) -> None:
    """Put the complete ``tmp`` at ``target``: replacing it only with ``overwrite``."""
    try:
        if overwrite:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)  # fails if the name is taken, with no race
            except FileExistsError:
                raise Refused(STATUS_EXISTS, f"{target} appeared during the transfer") from None
            except OSError as exc:  # a file system without hard links: check, then rename
                if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV):
                    raise
                if target.exists():
                    raise Refused(STATUS_EXISTS,
                                  f"{target} appeared during the transfer") from None
                os.rename(tmp, target)
            else:
                os.unlink(tmp)
        fsync_directory(target.parent)
    except OSError as exc:
        raise _write_refusal(exc, f"cannot put {target} in place") from None
