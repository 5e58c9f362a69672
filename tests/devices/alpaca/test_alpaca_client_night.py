"""A night's observing run whose devices all come over Alpaca.

The mount, dome, focuser, filter wheel, weather station, safety monitor and cover
calibrator are alpaca-simulators' (a separate process, software nocturna did not
write); the camera, which renders light frames offline, is a simulated camera served
by nocturna's own Alpaca server. The unit sees only ``driver: alpaca`` entries, as in
any site file. With real devices a unit runs on real time, so the site is put where it
is night now, and the run lasts 35 real seconds of short exposures.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from alpaca.dome import Dome, ShutterState
from alpaca.telescope import Telescope
from ruamel.yaml import YAML

from nocturna.alpaca.runner import start_in_thread
from nocturna.core.astro import local_sidereal_time, site_location
from nocturna.core.config import Config
from nocturna.core.storage import Storage
from nocturna.devices.alpaca.camera import AlpacaCamera
from nocturna.devices.alpaca.mount import AlpacaMount
from nocturna.devices.factory import build_devices
from nocturna.runtime.runner import run
from unit_helpers import dark_longitude_now

WINDOW = timedelta(seconds=35)


def _site_file(tmp_path: Path, simulators: str, nocturna: str, longitude: float) -> Path:
    def remote(name: str, address: str = simulators, **extra: object) -> dict[str, object]:
        return {"name": name, "driver": "alpaca", "address": address, "device_number": 0,
                **extra}

    site = {
        "data_dir": str(tmp_path / "data"),
        "site": {"longitude": f"{longitude} deg"},
        # The camera (nocturna's server) cannot see where alpaca-simulators' mount points,
        # so the loops that measure the sky stay off here.
        "observatory": {"calibrations": {"twilight_flats": {"enabled": False},
                                         "dome_flats": {"enabled": False},
                                         "bias": 2, "darks": 1},
                        "pointing": {"enabled": False}, "autofocus": {"enabled": False},
                        "tracking": {"enabled": False}},
        "mount": remote("mount0"),
        "dome": remote("dome0"),
        "focusers": [remote("foc0")],
        "filterwheels": [remote("fw0")],
        "switches": [],
        "weather": [remote("weather0")],
        "safety_monitors": [remote("safety0", weather="weather0")],
        "cover_calibrators": [remote("flat0")],
        "cameras": [remote("cam0", nocturna, primary=True, filterwheel="fw0",
                           focuser="foc0", focal_length_mm=85, aperture_mm=60)],
    }
    path = tmp_path / "site.yaml"
    YAML(typ="safe", pure=True).dump(site, path)
    return path


def _fields_file(tmp_path: Path, config: Config, start: datetime) -> Path:
    location = site_location(config.model.site)
    ra_deg = local_sidereal_time(location, start + WINDOW / 2).deg
    fields = {"fields": [{"name": "Overhead", "ra": f"{ra_deg:.4f} deg", "dec": "20 deg",
                          "priority": 1, "exptime": "3 s", "filter": "Luminance",
                          "min_nexp": 40, "exp_set_size": 2}]}
    path = tmp_path / "fields.yaml"
    YAML(typ="safe", pure=True).dump(fields, path)
    return path


def test_a_night_runs_with_every_device_over_alpaca(alpaca_sim: str, tmp_path: Path) -> None:
    longitude = dark_longitude_now()
    served = Config.load(None, overrides={"site.longitude": f"{longitude} deg"},
                         load_local=False, environ={})
    camera_unit = build_devices(served, simulate=True)
    with start_in_thread(camera_unit, unit="camera-server") as camera_server:
        nocturna = camera_server.url.removeprefix("http://")
        config = Config.load(_site_file(tmp_path, alpaca_sim, nocturna, longitude), environ={})
        start = datetime.now(UTC)
        fields = _fields_file(tmp_path, config, start)
        units = []
        result = run(config, until=start + WINDOW, fields=fields, on_unit=units.append,
                     signals=False)
    summary = result.summary
    assert summary.time_base == "real time"

    unit = units[0]
    assert isinstance(unit.devices.mount, AlpacaMount)
    assert isinstance(unit.devices.camera(), AlpacaCamera)
    storage = Storage.open(config.model.storage.url, data_dir=config.data_dir)
    assert summary.light_frames["Overhead"] >= 4
    assert summary.parked and summary.closed
    frames = storage.list_exposures(image_type="OBJECT")
    assert len(frames) == summary.light_frames["Overhead"]
    assert {frame.header.get("FILTER") for frame in frames} == {"Luminance"}  # its wheel
    assert all(Path(frame.path).is_file() for frame in frames)
    # the mount and the dome that did the work are alpaca-simulators' own
    scope, dome = Telescope(alpaca_sim, 0), Dome(alpaca_sim, 0)
    scope.Connected = dome.Connected = True
    assert scope.AtPark
    assert dome.ShutterStatus == ShutterState.shutterClosed
    scope.Connected = dome.Connected = False
    storage.close()
