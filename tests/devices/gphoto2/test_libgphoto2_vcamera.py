"""python-gphoto2 against libgphoto2's own virtual camera (vusb, bundled in the wheel).

Boundary: nocturna's libgphoto2 layer over the real libgphoto2 stack (port
enumeration, PTP session, config widgets, file listing, download). The virtual
camera is selected when python-gphoto2 is first imported with VCAMERADIR set, so each
check runs in a fresh interpreter. It is a generic PTP camera: it cannot show the
Canon path (no eosremoterelease, iso or imageformat; see test_camera.py for that).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from nocturna.devices.gphoto2.dng import dng_bytes

SCRIPT = """
import asyncio, json, sys
from nocturna.devices.gphoto2.layer import Gphoto2Error
from nocturna.devices.gphoto2.libgphoto2 import LibGphoto2Layer

async def main():
    layer = LibGphoto2Layer()
    found = await layer.detect()
    link = await layer.open(found[0])
    serial = (await link.config("serialnumber")).value
    files = await link.list_files("/")
    dng = [f for f in files if f.name == "frame.dng"][0]
    data = await link.download(dng)
    try:
        await link.config("eosremoterelease")
        eos = "present"
    except Gphoto2Error as exc:
        eos = str(exc)
    await link.close()
    try:
        await link.config("serialnumber")
        after_close = "answered"
    except Exception as exc:
        after_close = type(exc).__name__
    sys.stdout.write(json.dumps({
        "found": [[c.model, c.port] for c in found], "serial": serial,
        "path": dng.path, "size": len(data), "data": data.hex(), "eos": eos,
        "after_close": after_close}))

asyncio.run(main())
"""


def test_the_virtual_camera_is_found_and_serves_a_dng_byte_exact(tmp_path: Path):
    pixels = np.random.default_rng(3).integers(0, 4096, (32, 48), dtype=np.uint16)
    data = dng_bytes(pixels, white_level=4095)
    (tmp_path / "frame.dng").write_bytes(data)
    env = {**os.environ, "VCAMERADIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["found"] == [["Nikon DSC D750", "usb:001,001"]]
    assert result["serial"] == "0.1"
    assert result["path"] == "/store_00010001/frame.dng"
    assert bytes.fromhex(result["data"]) == data
    assert "get config eosremoterelease" in result["eos"]
    assert result["after_close"] == "CameraGoneError"
