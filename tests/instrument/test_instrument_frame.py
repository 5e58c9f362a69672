"""A frame end to end: mount points, camera renders the sky, header WCS locates the stars."""

from __future__ import annotations

import asyncio
import dataclasses
import math

import numpy as np
import pytest

from nocturna.core.clock import SimClock, use_clock
from nocturna.core.config import Config
from nocturna.core.storage import Storage
from nocturna.devices.sim.camera import SimCamera, SimCameraModel
from nocturna.devices.sim.focuser import SimFocuser
from nocturna.devices.sim.mount import SimMount
from nocturna.devices.sim.sky.catalog import load_catalog
from nocturna.images.fits import read_fits
from nocturna.instrument.frame import FrameContext, Optics, describe_frame, save_frame

NIGHT = "2026-12-15T10:00Z"  # midnight in Hawaii; Orion is high
MODEL = SimCameraModel(width=1024, height=768, noise_seed=11, rotation_deg=0.0)


@pytest.fixture
def clock():
    clock = SimClock(NIGHT, speed=0)
    with use_clock(clock):
        yield clock


@pytest.fixture
def site():
    return Config.load(environ={}).model.site


async def unit(site, model=MODEL, focus=30_000):
    mount = SimMount(latitude_deg=19.54, longitude_deg=-155.58, elevation_m=3400)
    focuser = SimFocuser(position=focus)
    camera = SimCamera("cam0", model=model, site=site, mount=mount, focuser=focuser)
    for device in (mount, focuser, camera):
        await device.connect()
    await mount.unpark()
    await mount.set_tracking(True)
    return mount, focuser, camera


async def point_and_expose(clock, mount, camera, ra_deg, dec_deg, exposure_s=2.0):
    await mount.slew_to_coordinates(ra_deg / 15.0, dec_deg)
    clock.advance(120)
    assert not (await mount.state()).slewing
    await camera.start_exposure(exposure_s)
    clock.advance(exposure_s + 5)
    await asyncio.sleep(0)
    return await camera.image()


def centroid(data: np.ndarray, x: float, y: float, box: int = 6) -> tuple[float, float]:
    x0, y0 = round(x), round(y)
    cut = data[y0 - box:y0 + box + 1, x0 - box:x0 + box + 1].astype(float)
    cut -= np.median(data)
    cut[cut < 0] = 0
    ys, xs = np.mgrid[y0 - box:y0 + box + 1, x0 - box:x0 + box + 1]
    return float((cut * xs).sum() / cut.sum()), float((cut * ys).sum() / cut.sum())


def second_moment_width(data: np.ndarray, x: float, y: float, box: int = 15) -> float:
    x0, y0 = round(x), round(y)
    cut = data[y0 - box:y0 + box + 1, x0 - box:x0 + box + 1].astype(float)
    cut -= np.median(data)
    cut[cut < 0] = 0
    ys, xs = np.mgrid[-box:box + 1, -box:box + 1]
    total = cut.sum()
    cx, cy = (cut * xs).sum() / total, (cut * ys).sum() / total
    return float(np.sqrt((cut * ((xs - cx) ** 2 + (ys - cy) ** 2)).sum() / total / 2))


async def test_a_bright_star_lands_where_the_header_wcs_predicts(clock, site):
    mount, _, camera = await unit(site)
    catalog = load_catalog()
    rigel = catalog.cone(78.634, -8.202, 0.2, mag_limit=1.0)  # Rigel, G ~ 0.1
    assert len(rigel.ra_deg) == 1
    star_ra, star_dec = float(rigel.ra_deg[0]), float(rigel.dec_deg[0])
    # Point a little off the star so it is not at the reference pixel.
    image = await point_and_expose(clock, mount, camera, star_ra + 0.6, star_dec - 0.4)
    header = await describe_frame(image, FrameContext(camera=camera, site=site, mount=mount,
                                                      optics=Optics(focal_length_mm=85.0)))
    from astropy.wcs import WCS

    x, y = WCS(header).all_world2pix([[star_ra, star_dec]], 0)[0]
    assert 20 < x < MODEL.width - 20 and 20 < y < MODEL.height - 20
    cx, cy = centroid(image.data, x, y)
    assert abs(cx - x) < 2 and abs(cy - y) < 2


async def test_a_frame_far_from_best_focus_has_wider_stars(clock, site):
    widths = []
    for focus in (30_000, 32_000):  # best focus, and 2000 steps away
        mount, _, camera = await unit(site, focus=focus)
        image = await point_and_expose(clock, mount, camera, 78.634 + 0.6, -8.202 - 0.4)
        wcs = image.extra["wcs"]
        x, y = wcs.all_world2pix([[78.634, -8.202]], 0)[0]
        widths.append(second_moment_width(image.data, x, y))
    assert widths[1] > 3 * widths[0]


async def test_saved_frame_has_checksums_headers_and_a_database_row(clock, site, tmp_path):
    mount, focuser, camera = await unit(site)
    image = await point_and_expose(clock, mount, camera, 83.8, -5.4, exposure_s=1.0)
    context = FrameContext(camera=camera, site=site, mount=mount, focuser=focuser,
                           unit_name="test-unit")
    header = await describe_frame(image, context, image_type="LIGHT")
    with Storage.open(data_dir=tmp_path) as storage:
        written = await save_frame(tmp_path / "frame0001.fits", image, header, storage=storage)
        row = storage.get_exposure("frame0001")
    data, read_header = read_fits(written.path, require_checksum=True)
    assert np.array_equal(data, image.data)
    for key in ("DATE-OBS", "EXPTIME", "IMAGETYP", "INSTRUME", "CCD-TEMP", "RA", "DEC",
                "AIRMASS", "FOCPOS", "CTYPE1", "CHECKSUM", "DATASUM"):
        assert key in read_header, key
    assert read_header["UNIT"] == "test-unit"
    assert row is not None and row.size_bytes == written.size_bytes
    assert row.checksum == written.checksum and row.header["EXPTIME"] == 1.0


async def test_readings_a_camera_does_not_have_are_left_out_of_the_header(clock, site):
    """A network camera answering "not implemented" for its temperatures reports NaN."""
    mount, focuser, camera = await unit(site)
    image = await point_and_expose(clock, mount, camera, 83.8, -5.4, exposure_s=1.0)
    image = dataclasses.replace(image, ccd_temperature_c=math.nan,
                                set_ccd_temperature_c=math.nan)
    context = FrameContext(camera=camera, site=site, mount=mount, focuser=focuser)
    header = await describe_frame(image, context, image_type="LIGHT")
    assert "CCD-TEMP" not in header and "SET-TEMP" not in header
    assert header["EXPTIME"] == 1.0


def test_optics_from_config_converts_units_and_refuses_non_numbers():
    import astropy.units as u

    from nocturna.core.config.models import DeviceConfig
    from nocturna.core.errors import InvalidValueError

    entry = DeviceConfig.model_validate({"name": "cam0", "focal_length_mm": 0.2 * u.m,
                                         "rotation_deg": "90 deg"})
    optics = Optics.from_config(entry)
    assert optics.focal_length_mm == pytest.approx(200.0) and optics.rotation_deg == 90.0
    assert Optics.from_config(None).focal_length_mm == 85.0
    with pytest.raises(InvalidValueError, match=r"cam0\.aperture_mm"):
        Optics.from_config(DeviceConfig.model_validate({"name": "cam0", "aperture_mm": "big"}))
