"""One controller per unit: an exclusive lock on the data directory.

``nocturna run`` holds ``DATA/nocturna.lock`` (an ``flock`` lock, released by the
kernel when the process ends, however it ends) for the whole run. A second run on the
same data directory is refused with :class:`~nocturna.core.errors.UnitBusyError`
naming the PID that holds it. The file keeps the holder's PID and start time for
people; the lock itself is what counts, so a stale file left by a killed process
never blocks a restart.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from nocturna.core.errors import UnitBusyError

LOCK_NAME = "nocturna.lock"


def _holder(path: Path) -> str:
    """Who holds the lock, from the file's text (best effort)."""
    try:
        text = path.read_text(encoding="utf-8").split()
    except OSError:
        return "another process"
    return f"PID {text[0]}" if text and text[0].isdigit() else "another process"


@contextlib.contextmanager
def unit_lock(data_dir: Path) -> Iterator[Path]:
    """Hold the data directory's lock inside the block (see the module docstring)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UnitBusyError(f"{data_dir} is in use by another nocturna run ({_holder(path)} "
                                f"holds {path}); one controller per unit") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {datetime.now(UTC).isoformat()}\n".encode())
        try:
            yield path
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing releases the lock
