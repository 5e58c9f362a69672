"""SIGKILL in the middle of a FITS write: the final path holds a whole file or nothing.

A child process writes with ``write_fits``; its disk writes are slowed (1 MiB at a
time, with a pause) so the parent can see a half-written temporary file and kill the
child right then. No timing is asserted: the parent waits for a state on disk.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from nocturna.core.atomic import is_temporary_file, temporary_files
from nocturna.images.fits import CorruptImageError, read_fits, verify_fits

SHAPE = (2048, 2048)  # 8 MiB of uint16: 8 slowed chunks
CHILD = """
import sys, time
import numpy as np
from astropy.io import fits
from nocturna.core import atomic
from nocturna.images.fits import write_fits

real_write_all = atomic._write_all

def slow_write_all(fd, view):
    step = 1 << 20
    for offset in range(0, len(view), step):
        real_write_all(fd, view[offset : offset + step])
        time.sleep(0.05)

atomic._write_all = slow_write_all
path, loops = sys.argv[1], int(sys.argv[2])
base = (np.arange({pixels}, dtype=np.uint32) % 65536).astype(np.uint16).reshape({shape})
for i in range(loops):
    header = fits.Header()
    header["ITER"] = (i, "write number")
    write_fits(path, base + np.uint16(i), header, overwrite=True)
time.sleep(3600)  # wait to be killed
"""


def _start(path: Path, loops: int) -> subprocess.Popen[bytes]:
    code = CHILD.format(pixels=SHAPE[0] * SHAPE[1], shape=SHAPE)
    return subprocess.Popen([sys.executable, "-c", code, str(path), str(loops)])


def _wait_for(condition, child: subprocess.Popen[bytes], what: str) -> None:
    """Poll the directory until ``condition()`` holds (the deadline only stops a hang)."""
    deadline = time.monotonic() + 120
    while not condition():
        if child.poll() is not None:
            pytest.fail(f"the writer exited ({child.returncode}) before {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.002)


def _partial_temporary(directory: Path) -> bool:
    full = SHAPE[0] * SHAPE[1] * 2
    for temporary in temporary_files(directory):
        try:
            if 0 < temporary.stat().st_size < full:
                return True
        except FileNotFoundError:  # renamed into place meanwhile
            continue
    return False


def _kill(child: subprocess.Popen[bytes]) -> None:
    os.kill(child.pid, signal.SIGKILL)
    child.wait(30)


def _expected(iteration: int) -> np.ndarray:
    pixels = SHAPE[0] * SHAPE[1]
    base = (np.arange(pixels, dtype=np.uint32) % 65536).astype(np.uint16).reshape(SHAPE)
    return base + np.uint16(iteration)


def _leftovers_are_only_temporaries(directory: Path, final: Path) -> None:
    for entry in directory.iterdir():
        if entry != final:
            assert is_temporary_file(entry), entry
            assert entry.name.startswith(".") and entry.suffix == ".tmp"


def test_kill_during_the_first_write_leaves_no_file_at_the_final_path(tmp_path):
    final = tmp_path / "frame.fits"
    child = _start(final, loops=1)
    try:
        _wait_for(lambda: _partial_temporary(tmp_path), child, "a half-written temporary")
        _kill(child)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(30)
    assert not final.exists()
    assert list(temporary_files(tmp_path))  # the half-written file, recognisably temporary
    _leftovers_are_only_temporaries(tmp_path, final)
    assert sorted(tmp_path.glob("*.fits")) == []


def test_kill_during_an_overwrite_leaves_the_previous_complete_file(tmp_path):
    final = tmp_path / "frame.fits"
    child = _start(final, loops=1000)
    try:
        _wait_for(lambda: final.exists() and _partial_temporary(tmp_path), child,
                  "a complete file and a half-written replacement")
        _kill(child)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(30)
    data, header = read_fits(final, require_checksum=True)  # checksums verified
    assert np.array_equal(data, _expected(header["ITER"]))
    _leftovers_are_only_temporaries(tmp_path, final)
    assert sorted(tmp_path.glob("*.fits")) == [final]


def test_half_written_temporary_is_named_as_one_and_fails_verification(tmp_path):
    final = tmp_path / "frame.fits"
    child = _start(final, loops=1)
    try:
        _wait_for(lambda: _partial_temporary(tmp_path), child, "a half-written temporary")
        _kill(child)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(30)
    (temporary,) = temporary_files(tmp_path)
    assert temporary.name.startswith(".frame.fits.") and temporary.name.endswith(".tmp")
    with pytest.raises(CorruptImageError, match="truncated"):
        verify_fits(temporary)
