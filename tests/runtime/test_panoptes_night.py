"""The PANOPTES example site file, simulated: every hardware driver (iOptron, two DSLRs,
the weather and power boards, an Astrohaven dome when added) runs against the protocol
simulator of its device, and the night ends parked and closed with both cameras'
frames on disk, each with its row."""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from astropy.io import fits
from PIL import Image

from nocturna.core.config import Config
from nocturna.core.storage import Storage
from nocturna.images.bayer import pattern_at
from nocturna.images.preview import preview_bytes
from nocturna.runtime.runner import run

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
START = datetime(2026, 12, 15, 8, 30, tzinfo=UTC)  # 22:30 in Hawaii
RAIN = datetime(2026, 12, 15, 9, 0, tzinfo=UTC)  # 23:00 in Hawaii (the rain scenario)


def panoptes(tmp_path: Path, **values) -> Config:
    config = Config.load(EXAMPLES / "panoptes.yaml", environ={})
    config.set("data_dir", str(tmp_path / "data"))
    config.set("scheduler.fields_file", str(EXAMPLES / "panoptes-fields.yaml"))
    for key, value in values.items():
        config.set(key, value)
    return config


def every_device_set_to_sim(config: Config) -> None:
    """``driver: sim`` on each device entry, everything else (ports...) left as it is."""
    model = config.model
    for key in ("mount", "dome"):
        if getattr(model, key) is not None:
            config.set(f"{key}.driver", "sim")
    for key in ("cameras", "weather", "safety_monitors", "switches"):
        for index in range(len(getattr(model, key))):
            config.set(f"{key}[{index}].driver", "sim")


@pytest.mark.parametrize("how", ["--simulate", "driver: sim"])
def test_a_simulated_panoptes_night_goes_through_every_driver(tmp_path, how):
    config = panoptes(tmp_path)
    if how == "driver: sim":
        every_device_set_to_sim(config)
    units = []
    summary = run(config, simulate=how == "--simulate", start=START,
                  until=START + timedelta(hours=1), seed=4, on_unit=units.append,
                  signals=False).summary
    assert summary.parked and summary.closed and summary.failure is None
    assert summary.time_base.startswith("virtual time")
    devices = units[0].devices
    drivers = {device.name: device.driver_name for device in devices}
    assert drivers == {"mount": "ioptron", "cam00": "gphoto2", "cam01": "gphoto2",
                       "weather": "weather_board", "power": "power_board",
                       "weather-safety": "weather_board" if how == "--simulate" else "sim"}
    for name in ("mount", "weather", "power"):
        assert devices.get(name).port.startswith("nocturna-sim://"), name
    with Storage.open(data_dir=config.data_dir) as storage:
        lights = storage.list_exposures(image_type="OBJECT")
    per_camera = Counter(row.camera for row in lights)
    assert per_camera["cam00"] >= 10 and per_camera["cam00"] == per_camera["cam01"]
    assert summary.camera_frames["cam01"]["light"] == per_camera["cam01"]
    for row in lights:
        assert Path(row.path).is_file(), row.path
    with fits.open(lights[-1].path) as hdus:
        header, data = hdus[0].header, hdus[0].data
    assert header["BAYERPAT"] in ("RGGB", "BGGR", "GRBG", "GBRG")
    assert header["RAWFILE"].endswith(".DNG") and header["ISOSPEED"] == 100
    assert data.dtype.kind in "ui" and data.shape == (864, 1296)
    preview = Image.open(io.BytesIO(preview_bytes(data, bayer=pattern_at(header))))
    assert preview.mode == "RGB" and preview.size == (648, 432)  # what the API serves
    pointing = [p for p in summary.pointing if p["success"]]
    assert pointing, "the iOptron driver's pointing was never corrected by a solve"


def test_rain_on_the_weather_board_closes_the_astrohaven_dome(tmp_path):
    config = panoptes(tmp_path)
    config.set("dome", {"name": "dome", "driver": "astrohaven",
                        "port": "/dev/ttyUSB9", "simulator": {"travel_s": 15}})
    units = []
    summary = run(config, simulate=True, start=START, until=RAIN + timedelta(minutes=40),
                  seed=5, weather="rain", on_unit=units.append, signals=False).summary
    assert units[0].dome.driver_name == "astrohaven"
    assert summary.parked and summary.closed and summary.failure is None
    rain_parks = [p for p in summary.parks if p["start"] >= RAIN - timedelta(minutes=1)]
    assert rain_parks and "weather-safety" in rain_parks[0]["reason"], summary.parks
    (interruption, *_) = summary.interruptions
    assert interruption["closed_after_s"] is not None
    with Storage.open(data_dir=config.data_dir) as storage:
        lights = storage.list_exposures(image_type="OBJECT")
    assert lights and all(row.start_time < RAIN + timedelta(minutes=2) for row in lights)


def test_evening_flats_on_a_mount_without_alt_az_gotos(tmp_path):
    config = panoptes(tmp_path)
    dusk = datetime(2026, 12, 15, 3, 40, tzinfo=UTC)  # 17:40 in Hawaii, before sunset
    summary = run(config, simulate=True, start=dusk, until=dusk + timedelta(hours=1, minutes=20),
                  seed=6, signals=False).summary
    assert summary.parked and summary.closed and summary.failure is None
    assert "no evening sky flats" not in summary.warnings
    with Storage.open(data_dir=config.data_dir) as storage:
        flats = storage.list_exposures(image_type="FLAT")
    assert len(flats) >= 3 and {row.camera for row in flats} >= {"cam00"}
