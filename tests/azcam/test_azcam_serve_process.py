"""``nocturna azcam serve`` as a real process, on the event loop the CLI really runs
(uvloop when installed): sending images to a remote image server, and the image
sequence number carried across a restart."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from command_helpers import LineClient

from nocturna.azcam.imageserver import ImageServer

_LISTENING = re.compile(r"azcam command server on 127\.0\.0\.1:(\d+)")


@asynccontextmanager
async def azcam_serve(data: Path) -> AsyncIterator[LineClient]:
    """A ``nocturna azcam serve --simulate`` process on a free port, and a client of it;
    stopped with SIGTERM afterwards (it must exit 0)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOCTURNA_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "nocturna", "--data", str(data), "azcam", "serve",
         "--simulate", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        assert process.stdout is not None
        seen = []
        for line in process.stdout:
            seen.append(line)
            match = _LISTENING.search(line)
            if match:
                break
        else:
            raise AssertionError(f"azcam serve did not start: {''.join(seen)}")
        client = await LineClient.connect(int(match.group(1)))
        try:
            yield client
        finally:
            await client.close()
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output


async def test_expose_sends_the_image_byte_identical_to_a_remote_image_server(
        tmp_path: Path) -> None:
    received = tmp_path / "received"
    received.mkdir()
    async with ImageServer(received, port=0) as image_server, \
            azcam_serve(tmp_path / "data") as client:
        assert await client.ask("exposure.sendimage.set_remote_imageserver 127.0.0.1 "
                                f"{image_server.port} azcam") == "OK"
        assert await client.ask("exposure.expose 0.01 zero sent") == "OK"
    [record] = image_server.received
    local = tmp_path / "data" / "azcam" / "image.001.fits"
    assert record.name == "image.001.fits"
    assert (received / "image.001.fits").read_bytes() == local.read_bytes()
    assert sorted(p.name for p in received.iterdir()) == ["image.001.fits"]


async def test_the_sequence_number_continues_after_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with azcam_serve(data) as client:
        for _ in range(2):
            assert await client.ask("exposure.expose 0.01 zero") == "OK"
    async with azcam_serve(data) as client:
        assert await client.ask("exposure.expose 0.01 zero") == "OK"
        assert await client.ask("exposure.get_sequence_number") == "OK 4"
    assert sorted(p.name for p in (data / "azcam").glob("image.*")) == [
        "image.001.fits", "image.002.fits", "image.003.fits"]
