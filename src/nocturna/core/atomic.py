"""Atomic file writes: a crash leaves the old file or the new one, never half of one.

The bytes go to a temporary file in the same directory, are flushed and fsynced, and
the temporary file is then renamed onto the final name (or, when an existing file must
not be replaced, hard-linked there, which fails if the name is taken); finally the
directory itself is fsynced so the new name survives a power cut. A simulated disk
shortage (:mod:`nocturna.core.diskspace`) refuses the write first, with
``OSError(errno.ENOSPC)``, as a full disk would.

Temporary files are named ``.<final name>.<random hex>.tmp``: hidden, with a suffix no
reader takes for data, so a file left by a killed process is never mistaken for a
finished one (:func:`is_temporary_file`, :func:`temporary_files`).
"""

from __future__ import annotations

import errno
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

from nocturna.core.diskspace import check_room
from nocturna.core.errors import InvalidValueError

TEMPORARY_SUFFIX = ".tmp"
_TEMPORARY_NAME = re.compile(r"^\..+\.[0-9a-f]{16}\.tmp$")
_CHUNK_BYTES = 8 * 1024 * 1024


def temporary_name(final: Path) -> Path:
    """A fresh temporary path beside ``final``: ``.<name>.<16 hex digits>.tmp``."""
    return final.with_name(f".{final.name}.{secrets.token_hex(8)}{TEMPORARY_SUFFIX}")


def is_temporary_file(path: str | os.PathLike[str]) -> bool:
    """True if ``path`` is named like a temporary file of :func:`atomic_write_bytes`."""
    return _TEMPORARY_NAME.match(Path(path).name) is not None


def temporary_files(directory: str | os.PathLike[str]) -> Iterator[Path]:
    """Temporary files (possibly left by a killed writer) directly inside ``directory``."""
    for entry in Path(directory).iterdir():
        if is_temporary_file(entry) and entry.is_file():
            yield entry


def fsync_directory(directory: Path) -> None:
    """Make the directory's entries (a new or renamed file) durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: memoryview) -> None:
    """Write every byte of ``data`` to ``fd`` (``os.write`` may write fewer)."""
    offset, total = 0, len(data)
    while offset < total:
        offset += os.write(fd, data[offset : offset + _CHUNK_BYTES])


def _exists_error(path: Path) -> InvalidValueError:
    return InvalidValueError(f"{path} already exists; pass overwrite=True to replace it")


def _publish(tmp: Path, path: Path, overwrite: bool) -> None:
    """Put the complete ``tmp`` at ``path`` in one step."""
    if overwrite:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)  # atomic, and fails if the name is taken (no race)
    except FileExistsError:
        raise _exists_error(path) from None
    except OSError as exc:  # file systems without hard links: check, then rename
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV):
            raise
        if path.exists():
            raise _exists_error(path) from None
        os.rename(tmp, path)
        return
    os.unlink(tmp)


def atomic_write_bytes(
    path: str | os.PathLike[str],
    data: bytes | bytearray | memoryview,
    *,
    overwrite: bool = True,
    mode: int = 0o666,
) -> Path:
    """Write ``data`` to ``path`` atomically and durably; returns the path.

    ``overwrite=False`` refuses an existing file with :class:`InvalidValueError`
    (checked before writing and again, race-free, when publishing). A new file gets
    ``mode`` less the umask; a replaced file keeps its permission bits. The parent
    directory is created if needed. ``OSError(errno.ENOSPC)`` when a simulated
    shortage leaves no room (see :mod:`nocturna.core.diskspace`).
    """
    path = Path(path)
    if not overwrite and path.exists():
        raise _exists_error(path)
    with memoryview(data) as view:
        check_room(path, view.nbytes)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), mode)
    try:
        try:
            with memoryview(data) as view:
                _write_all(fd, view.cast("B"))
            os.fsync(fd)
            if overwrite and path.exists():
                os.fchmod(fd, path.stat().st_mode & 0o7777)
        finally:
            os.close(fd)
        _publish(tmp, path, overwrite)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)
    return path


def atomic_write_text(
    path: str | os.PathLike[str], text: str, *, overwrite: bool = True, mode: int = 0o600
) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; see :func:`atomic_write_bytes`.

    New files are private (``0o600``) by default: text files written this way are
    configuration, which may hold secrets.
    """
    return atomic_write_bytes(path, text.encode("utf-8"), overwrite=overwrite, mode=mode)
