"""Proof against software nocturna did not write: azcam's own, unmodified sendimage code
(``azcam.tools.exposure_sendimage.SendImage``, from the real ``azcam`` package in its own
environment) sends files to nocturna's image server.

The client side is ``azcam_scripts/sendimage_client.py``. azcam's ``azcam`` server type
sends the whole file with one ``socket.send()`` on a socket with a timeout, which sends
only what fits in the socket buffer: on Linux loopback that breaks for files of a few MB
(upstream defect; see ``test_azcam_single_send_of_a_large_file``).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

from azcam_env import run_azcam

from nocturna.azcam.imageserver import ImageServer
from nocturna.core.atomic import is_temporary_file


def random_file(path: Path, size: int) -> Path:
    path.write_bytes(os.urandom(size))
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def azcam_send(server: ImageServer, localfile: Path, remotefile: str,
                     mode: str) -> tuple[int, str]:
    result = await asyncio.to_thread(run_azcam, "sendimage_client.py", "127.0.0.1",
                                     server.port, localfile, remotefile, mode)
    return result.returncode, result.stdout + result.stderr


async def idle(server: ImageServer) -> None:
    for _ in range(1000):
        if server.connections == 0:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the server did not finish the transfer")


async def test_azcam_type_file_is_byte_identical(server, image_dir, tmp_path):
    source = random_file(tmp_path / "local.fits", 1024 * 1024 + 17)
    code, output = await azcam_send(server, source, "/night/azcam.fits", "azcam")
    assert code == 0 and "sent" in output, output
    landed = image_dir / "night" / "azcam.fits"
    assert sha256(landed) == sha256(source)
    assert server.received[-1].sha256 == sha256(source)


async def test_azcam_overwrite_flag_and_refusal_without_it(server, image_dir, tmp_path):
    first = random_file(tmp_path / "first.fits", 300_000)
    second = random_file(tmp_path / "second.fits", 200_000)
    assert (await azcam_send(server, first, "same.fits", "azcam"))[0] == 0
    code, output = await azcam_send(server, second, "same.fits", "azcam")
    assert code == 1 and "Bad final return status" in output, output  # our "1 exists"
    assert sha256(image_dir / "same.fits") == sha256(first)
    code, output = await azcam_send(server, second, "same.fits", "azcam-overwrite")
    assert code == 0, output  # sent as "!same.fits"
    assert sha256(image_dir / "same.fits") == sha256(second)


async def test_azcam_dataserver_type_file_is_byte_identical(server, image_dir, tmp_path):
    source = random_file(tmp_path / "local.fits", 8 * 1024 * 1024 + 3)
    code, output = await azcam_send(server, source, "data.fits", "dataserver")
    assert code == 0, output
    await idle(server)
    assert sha256(image_dir / "data.fits") == sha256(source)


async def test_azcam_exposure_tool_send_image(server, image_dir, tmp_path):
    source = random_file(tmp_path / "exposure.fits", 500_000)
    code, output = await azcam_send(server, source, "/lab/frame", "exposure")
    assert code == 0, output
    landed = image_dir / "lab" / "frame.fits"  # send_image() adds the extension
    assert sha256(landed) == sha256(source)
    record = server.received[-1]
    assert (record.size_x, record.size_y, record.filetype) == (64, 32, 0)


async def test_azcam_single_send_of_a_large_file(server, image_dir, tmp_path):
    """azcam's ``azcam`` type calls ``send()`` once for the whole file and fails when
    the socket takes less; whichever way it goes here, nocturna's server either has the
    identical file or nothing at all (no partial or temporary file)."""
    source = random_file(tmp_path / "large.fits", 16 * 1024 * 1024)
    code, output = await azcam_send(server, source, "large.fits", "azcam")
    await idle(server)
    if code == 0:
        assert sha256(image_dir / "large.fits") == sha256(source)
    else:
        assert "Did not send entire image file data" in output, output
        assert list(image_dir.iterdir()) == []
    assert not any(is_temporary_file(p) for p in image_dir.rglob("*"))
