"""``nocturna run`` on real time with every device over INDI: Debian's simulators on a
real indiserver, software nocturna did not write. The site is put where it is night
now, a field overhead, and the run lasts a short real-time window: it takes frames and
ends parked and closed, as the simulators themselves then report."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ruamel.yaml import YAML

from indi_helpers import IndiServer
from nocturna.core.astro import local_sidereal_time, site_location
from nocturna.core.config import Config
from nocturna.core.storage import Storage
from nocturna.devices.indi.connection import acquire, release
from unit_helpers import dark_longitude_now

WINDOW = timedelta(seconds=90)


def _site_file(tmp_path: Path, server: IndiServer, longitude: float) -> Path:
    def indi(name: str, simulator: str, **extra: object) -> dict[str, object]:
        return {"name": name, "driver": "indi", "address": server.address,
                "device": server.device(simulator), "timeout_s": 30, **extra}

    site = {
        "data_dir": str(tmp_path / "data"),
        "site": {"longitude": f"{longitude} deg"},
        # the CCD simulator draws its own sky: the loops that measure it stay off
        "observatory": {"calibrations": {"twilight_flats": {"enabled": False},
                                         "dome_flats": {"enabled": False},
                                         "bias": 1, "darks": 1},
                        "pointing": {"enabled": False}, "autofocus": {"enabled": False},
                        "tracking": {"enabled": False}},
        "mount": indi("mount0", "telescope"),
        "dome": indi("dome0", "dome"),
        "focusers": [indi("foc0", "focuser")],
        "filterwheels": [indi("fw0", "wheel")],
        "rotators": [indi("rot0", "rotator")],
        "switches": [],
        "spectrographs": [],
        "weather": [indi("weather0", "weather")],
        "safety_monitors": [indi("safety0", "weather", weather="weather0")],
        "cover_calibrators": [indi("flat0", "lightpanel")],
        "cameras": [indi("cam0", "ccd", primary=True, filterwheel="fw0", focuser="foc0",
                         focal_length_mm=900, aperture_mm=120)],
    }
    path = tmp_path / "site.yaml"
    YAML(typ="safe", pure=True).dump(site, path)
    return path


def _fields_file(tmp_path: Path, config: Config, start: datetime, filter_name: str) -> Path:
    ra_deg = local_sidereal_time(site_location(config.model.site), start + WINDOW / 2).deg
    fields = {"fields": [{"name": "Overhead", "ra": f"{ra_deg:.4f} deg", "dec": "20 deg",
                          "priority": 1, "exptime": "2 s", "filter": filter_name,
                          "min_nexp": 40, "exp_set_size": 2}]}
    path = tmp_path / "fields.yaml"
    YAML(typ="safe", pure=True).dump(fields, path)
    return path


async def _server_view(address: str, site: tuple[float, float, float] | None = None
                       ) -> dict[str, dict[str, object]]:
    """What the simulators say now, read by a client of its own (which switches the
    devices on: their properties appear only then); ``site`` (latitude, east longitude,
    elevation) is given to the telescope first, as its owner would set it up."""
    connection = acquire(address, own=True)
    try:
        await connection.wait_up(10)
        store = connection.store
        for device in ("Telescope Simulator", "Dome Simulator", "Filter Simulator"):
            switch = await connection.wait_for(lambda d=device: store.get(d, "CONNECTION"),
                                               10, f"{device} CONNECTION")
            if not switch["CONNECT"]:
                connection.send_new(switch, {"CONNECT": True, "DISCONNECT": False})
        await connection.wait_for(
            lambda: store.get("Telescope Simulator", "TELESCOPE_PARK")
            and store.get("Dome Simulator", "DOME_SHUTTER")
            and store.get("Filter Simulator", "FILTER_NAME"), 10, "the properties")
        if site is not None:
            place = store.get("Telescope Simulator", "GEOGRAPHIC_COORD")
            connection.send_new(place, {"LAT": site[0], "LONG": site[1] % 360.0,
                                        "ELEV": site[2]})
            await connection.wait_for(
                lambda: abs(store.get("Telescope Simulator", "GEOGRAPHIC_COORD")["LAT"]
                            - site[0]) < 1e-3, 10, "the telescope's site")
        return {"park": store.get("Telescope Simulator", "TELESCOPE_PARK").values(),
                "shutter": store.get("Dome Simulator", "DOME_SHUTTER").values(),
                "names": store.get("Filter Simulator", "FILTER_NAME").values()}
    finally:
        await release(connection)


def test_a_night_runs_with_every_device_over_indi(tmp_path: Path) -> None:
    longitude = dark_longitude_now()
    with IndiServer(tmp_path / "indi") as server:
        site = _site_file(tmp_path, server, longitude)
        config = Config.load(site, environ={})
        place = site_location(config.model.site)
        before = asyncio.run(_server_view(server.address, (
            place.lat.deg, place.lon.deg, place.height.to_value("m"))))
        filter_name = before["names"]["FILTER_SLOT_NAME_2"]
        start = datetime.now(UTC)
        fields = _fields_file(tmp_path, config, start, str(filter_name))
        summary_path = tmp_path / "summary.json"
        run = subprocess.run(
            [sys.executable, "-m", "nocturna.cli.main", "--config", str(site), "run",
             "--no-api", "--fields", str(fields), "--until",
             (start + WINDOW).strftime("%Y-%m-%dT%H:%M:%SZ"), "--summary-json",
             str(summary_path)], capture_output=True, text=True, timeout=600)
        (tmp_path / "run.out").write_text(run.stdout + run.stderr)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        after = asyncio.run(_server_view(server.address))
    summary = json.loads(summary_path.read_text())
    assert summary["time_base"] == "real time"
    assert summary["light_frames"]["Overhead"] >= 3, summary
    assert summary["parked"] and summary["closed"]
    # the simulators themselves say so
    assert after["park"]["PARK"] is True
    assert after["shutter"]["SHUTTER_CLOSE"] is True
    storage = Storage.open(config.model.storage.url, data_dir=config.data_dir)
    try:
        frames = storage.list_exposures(image_type="OBJECT")
        assert len(frames) == summary["light_frames"]["Overhead"]
        assert {frame.header.get("FILTER") for frame in frames} == {filter_name}
        assert all(Path(frame.path).is_file() for frame in frames)
    finally:
        storage.close()
