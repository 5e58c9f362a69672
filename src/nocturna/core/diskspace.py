"""Free disk space, with simulated shortages for fault injection.

Everything in nocturna that asks how much room is left (the safety ``disk`` check)
asks :func:`free_bytes`, and every atomic write (:mod:`nocturna.core.atomic`) first
asks :func:`check_room`. Normally both answer from the file system alone:
:func:`free_bytes` is :func:`shutil.disk_usage`'s ``free``, :func:`check_room` never
refuses.

A simulated shortage (:func:`simulate_shortage`, or the :func:`shortage` context
manager), which the ``disk_full`` fault of a simulated unit installs
(:mod:`nocturna.devices.sim.faults`), caps the free space of every path under its
``root`` (all paths when ``root`` is None) at ``free_bytes``, and makes writes there
that do not fit fail with ``OSError(errno.ENOSPC)``, as a full disk would.
Shortages are process-wide; several may be in force, the smallest cap wins.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from nocturna.core.errors import InvalidValueError


@dataclass(frozen=True, eq=False)
class Shortage:
    """A simulated lack of space: paths under ``root`` have ``free_bytes`` left."""

    root: Path | None
    free_bytes: int

    def covers(self, path: str | os.PathLike[str]) -> bool:
        """Whether ``path`` lies under this shortage's root."""
        if self.root is None:
            return True
        return Path(os.path.abspath(path)).is_relative_to(self.root)


_shortages: list[Shortage] = []
_lock = threading.Lock()


def simulate_shortage(root: str | os.PathLike[str] | None = None,
                      free_bytes: int = 0) -> Shortage:
    """Cap the free space under ``root`` (None: everywhere) at ``free_bytes`` until
    :func:`end_shortage`; returns the shortage to end."""
    if isinstance(free_bytes, bool) or not isinstance(free_bytes, int) or free_bytes < 0:
        raise InvalidValueError(f"free_bytes {free_bytes!r} must be an integer >= 0")
    entry = Shortage(None if root is None else Path(os.path.abspath(root)), free_bytes)
    with _lock:
        _shortages.append(entry)
    return entry


def end_shortage(entry: Shortage) -> None:
    """End a simulated shortage (ending one already ended does nothing)."""
    with _lock, contextlib.suppress(ValueError):
        _shortages.remove(entry)


@contextlib.contextmanager
def shortage(root: str | os.PathLike[str] | None = None,
             free_bytes: int = 0) -> Iterator[Shortage]:
    """A simulated shortage for the duration of a ``with`` block."""
    entry = simulate_shortage(root, free_bytes)
    try:
        yield entry
    finally:
        end_shortage(entry)


def active_shortages() -> list[Shortage]:
    """The simulated shortages in force."""
    with _lock:
        return list(_shortages)


def _cap(path: str | os.PathLike[str]) -> int | None:
    """The smallest simulated free space covering ``path``; None without any."""
    if not _shortages:
        return None
    caps = [entry.free_bytes for entry in active_shortages() if entry.covers(path)]
    return min(caps) if caps else None


def free_bytes(path: str | os.PathLike[str]) -> int:
    """Bytes free on the file system that holds ``path`` (or would hold it: a path that
    does not exist yet is measured at its nearest existing parent), capped by any
    simulated shortage. Raises ``OSError`` if the file system cannot be read."""
    existing = Path(path)
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    cap = _cap(path)
    return free if cap is None else min(free, cap)


def check_room(path: str | os.PathLike[str], size: int) -> None:
    """Raise ``OSError(ENOSPC)`` if a simulated shortage leaves no room for ``size``
    bytes at ``path``; without a shortage, never (the file system decides)."""
    cap = _cap(path)
    if cap is not None and (cap == 0 or size > cap):
        raise OSError(errno.ENOSPC, f"{os.strerror(errno.ENOSPC)} (simulated)", str(path))
