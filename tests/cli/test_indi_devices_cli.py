"""The device commands with INDI devices from the site file: ``camera expose`` and
``take`` write the CCD simulator's frames as FITS, ``mount slew`` moves the telescope
simulator, and ``azcam serve`` exposes with the INDI CCD for an azcam client (a real
indiserver with Debian's simulators)."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from astropy.io import fits
from ruamel.yaml import YAML

from indi_helpers import IndiServer
from nocturna.core.astro import local_sidereal_time, site_location
from nocturna.core.config import Config
from nocturna.devices.indi.focuser import IndiFocuser
from nocturna.devices.indi.mount import IndiMount
from unit_helpers import dark_longitude_now


def nocturna(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nocturna.cli.main", "--config", str(site),
                           *args], capture_output=True, text=True, timeout=300)


def site_file(tmp_path: Path, server: IndiServer, *, focuser: bool = False) -> Path:
    def indi(name: str, simulator: str, **extra: object) -> dict[str, object]:
        return {"name": name, "driver": "indi", "address": server.address,
                "device": server.device(simulator), **extra}

    site = {"data_dir": str(tmp_path / "data"),
            "site": {"longitude": f"{dark_longitude_now()} deg"},
            "mount": indi("mount0", "telescope"), "dome": None,
            "focusers": [indi("foc0", "focuser")] if focuser else [],
            "filterwheels": [], "rotators": [], "switches": [], "weather": [],
            "safety_monitors": [], "cover_calibrators": [], "spectrographs": [],
            "cameras": [indi("cam0", "ccd", primary=True, focal_length_mm=900,
                             aperture_mm=120, **({"focuser": "foc0"} if focuser else {}))]}
    path = tmp_path / "site.yaml"
    YAML(typ="safe", pure=True).dump(site, path)
    return path


def test_camera_expose_and_mount_slew_drive_indi_devices(tmp_path):
    with IndiServer(tmp_path / "indi", "ccd", "telescope") as server:
        site = site_file(tmp_path, server)
        out = tmp_path / "frame.fits"
        exposed = nocturna(site, "camera", "expose", "--exptime", "1", "--out", str(out))
        assert exposed.returncode == 0, exposed.stdout + exposed.stderr
        with fits.open(out) as hdus:
            header, data = hdus[0].header, hdus[0].data
        assert data.shape == (1024, 1280)  # the CCD simulator's sensor
        assert header["EXPTIME"] == 1.0
        assert data.std() > 0

        config = Config.load(site, environ={})
        lst_deg = local_sidereal_time(site_location(config.model.site), datetime.now(UTC)).deg
        ra_hours = ((lst_deg - 5.0) % 360.0) / 15.0  # up, just west of the meridian
        slewed = nocturna(site, "mount", "slew", "--ra", f"{ra_hours:.5f}", "--dec", "25")
        assert slewed.returncode == 0, slewed.stdout + slewed.stderr

        async def where() -> tuple[float, float]:
            mount = IndiMount("check", address=server.address,
                              device=server.device("telescope"))
            await mount.connect()
            try:
                status = await mount.state()
                return status.ra_hours, status.dec_deg
            finally:
                await mount.disconnect()

        ra, dec = asyncio.run(where())
        assert abs((ra - ra_hours + 12) % 24 - 12) < 0.01  # within 9 arcmin of time
        assert abs(dec - 25.0) < 0.1


def test_take_and_the_azcam_server_use_the_indi_ccd(tmp_path):
    with IndiServer(tmp_path / "indi", "ccd", "telescope", "focuser") as server:
        site = site_file(tmp_path, server, focuser=True)
        taken = nocturna(site, "take", "dark", "--exptime", "1", "--n", "2")
        assert taken.returncode == 0, taken.stdout + taken.stderr
        darks = sorted((tmp_path / "data").rglob("*.fits*"))
        assert len(darks) == 2, darks
        for path in darks:
            with fits.open(path) as hdus:
                image = next(h for h in hdus if h.data is not None)
                assert image.data.shape == (1024, 1280)
                assert image.header["IMAGETYP"] == "DARK"

        azcam = subprocess.Popen(
            [sys.executable, "-m", "nocturna.cli.main", "--config", str(site), "--data",
             str(tmp_path / "azcam-data"), "azcam", "serve", "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            assert azcam.stdout is not None
            seen = []
            for line in azcam.stdout:
                seen.append(line)
                found = re.search(r"azcam command server on 127\.0\.0\.1:(\d+)", line)
                if found:
                    break
            else:
                raise AssertionError("azcam serve did not start: " + "".join(seen))
            port = int(found.group(1))

            async def expose() -> list[str]:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                answers = []
                for command in ("exposure.expose 1 dark indi",):
                    writer.write(command.encode() + b"\r\n")
                    await writer.drain()
                    answers.append((await asyncio.wait_for(reader.readline(), 120))
                                   .decode().strip())
                writer.close()
                await writer.wait_closed()
                return answers

            [exposed] = asyncio.run(expose())
            assert exposed == "OK", exposed
        finally:
            azcam.send_signal(signal.SIGTERM)
            output, _ = azcam.communicate(timeout=60)
        assert azcam.returncode == 0, output
        [written] = sorted((tmp_path / "azcam-data" / "azcam").glob("image.*"))
        with fits.open(written) as hdus:
            image = next(h for h in hdus if h.data is not None)
            assert image.data.shape == (1024, 1280)


def test_focus_sweeps_the_indi_focuser_with_the_indi_ccd(tmp_path):
    """The sweep moves the INDI focuser through 11 positions and takes a frame at each.
    The CCD simulator draws its stars from the GSC catalogue through a ``gsc`` program,
    which indi-bin does not install: its frames hold no stars, so the curve is flat,
    and the run says so, exits 1 and leaves the focuser where it started."""
    with IndiServer(tmp_path / "indi", "ccd", "telescope", "focuser") as server:
        site = site_file(tmp_path, server, focuser=True)
        swept = nocturna(site, "focus", "--exptime", "1", "--range", "40000", "--step",
                         "4000", "--no-plot")
        assert swept.returncode == 1, swept.stdout + swept.stderr
        assert "11/11" in swept.stdout and "fine focus of foc0" in swept.stdout
        assert "no significant peak" in swept.stdout

        async def position() -> int:
            focuser = IndiFocuser("check", address=server.address,
                                  device=server.device("focuser"))
            await focuser.connect()
            try:
                return (await focuser.state()).position
            finally:
                await focuser.disconnect()

        assert asyncio.run(position()) == 50000  # the simulator's start, restored
