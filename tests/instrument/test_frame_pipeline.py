"""The frame pipeline: header sources read at the start, names from configuration, the
weather, Moon and sidereal time, Rice-compressed frames and the database row."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import numpy as np
import pytest
from instrument_helpers import NIGHT, header_of, make_rig

from nocturna import __version__
from nocturna.core.clock import VirtualClock, use_clock
from nocturna.core.errors import InvalidValueError
from nocturna.core.events import get_event_bus
from nocturna.devices.sim.weather import SimObservingConditions
from nocturna.images.fits import read_fits
from nocturna.instrument.pipeline import FrameIdentity, FrameRow

pytestmark = pytest.mark.virtual_time


@pytest.fixture(autouse=True)
async def clock():
    with use_clock(VirtualClock(NIGHT)) as clock:
        yield clock


async def _rig(tmp_path: Path, **options):
    rig = await make_rig(tmp_path, **options)
    context = rig.instrument.context
    context.telescope_name, context.instrument_name = "Demo 85 mm", "Demo imager"
    context.weather = SimObservingConditions("weather0")
    await context.weather.connect()
    return rig


async def test_object_frames_carry_names_weather_moon_lst_and_software(tmp_path):
    rig = await _rig(tmp_path)
    try:
        await rig.mount.slew_and_wait(5.6, -5.4)
        [exposure_id] = await rig.instrument.take_object(2.0, title="M42")
        header = header_of(rig, exposure_id)
        record = rig.storage.get_exposure(rig.instrument.image_id(exposure_id))
    finally:
        rig.storage.close()
    assert (header["TELESCOP"], header["INSTRUME"]) == ("Demo 85 mm", "Demo imager")
    assert (header["MOUNT"], header["CAMERA"], header["OBJECT"]) == ("mount", "cam0", "M42")
    assert record.camera == "cam0"  # the row names the camera device
    assert header["WCSSRC"] == "mount" and header["CTYPE1"] == "RA---TAN"
    for key in ("AMBTEMP", "HUMIDITY", "PRESSURE", "WINDSPD", "LST", "MOONALT", "MOONILLU",
                "MOONSEP"):
        assert key in header, key
    assert 0.0 <= header["MOONILLU"] <= 1.0 and 0.0 <= header["MOONSEP"] <= 180.0
    assert header["SWCREATE"] == f"nocturna {__version__}"
    start, end, middle = (np.datetime64(header[k]) for k in ("DATE-OBS", "DATE-END",
                                                             "DATE-AVG"))
    assert middle - start == end - middle == np.timedelta64(1000, "ms")


async def test_the_header_describes_the_exposure_start_not_its_end(tmp_path):
    rig = await _rig(tmp_path)
    before = (await rig.focuser.state()).position
    try:
        with get_event_bus().subscribe("instrument.progress") as events:
            sequence = asyncio.ensure_future(rig.instrument.take_object(60.0))
            while not any(e.data["phase"] == "exposing" for e in events.drain()):
                await asyncio.sleep(0.001)
            await rig.focuser.move_and_wait(before + 500)  # during the exposure
            [exposure_id] = await sequence
        header = header_of(rig, exposure_id)
    finally:
        rig.storage.close()
    assert header["FOCPOS"] == before


async def test_fits_fz_frames_are_rice_compressed_pixel_identical_and_recorded(tmp_path):
    rig = await _rig(tmp_path, image_format="fits.fz")
    seen: list[np.ndarray] = []
    rig.instrument.frame_observers.append(lambda image: seen.append(image.data.copy()))
    try:
        ids = await rig.instrument.take_darks(1.0, 2)
        records = [rig.storage.get_exposure(rig.instrument.image_id(i)) for i in ids]
    finally:
        rig.storage.close()
    for record, pixels in zip(records, seen, strict=True):
        path = Path(record.path)
        assert path.name.endswith(".fits.fz") and path.is_absolute()
        assert record.checksum == hashlib.sha256(path.read_bytes()).hexdigest()
        assert record.size_bytes == path.stat().st_size < pixels.nbytes
        data, header = read_fits(path, require_checksum=True)
        assert data.dtype == pixels.dtype and np.array_equal(data, pixels)
        assert header["IMAGETYP"] == "DARK"


async def test_a_row_that_cannot_be_added_leaves_no_file(tmp_path):
    rig = await _rig(tmp_path)
    pipeline = rig.instrument.pipeline
    try:
        [exposure_id] = await rig.instrument.take_bias(1)
        taken = rig.instrument.image_id(exposure_id)
        image = await rig.camera.image()
        description = await pipeline.describe(image, identity=FrameIdentity("BIAS"))
        other = tmp_path / "other.fits"
        with pytest.raises(InvalidValueError, match="already exists"):
            pipeline.check_free(taken)
        with pytest.raises(InvalidValueError, match="already exists"):
            await pipeline.save(other, image.data, description, row=FrameRow(taken))
        assert not other.exists()
        assert len(rig.storage.list_exposures()) == 1
    finally:
        rig.storage.close()


async def test_a_colour_sensor_writes_its_bayer_pattern_moved_by_the_subframe(tmp_path):
    import dataclasses

    from instrument_helpers import SMALL

    from nocturna.devices.types import SensorType

    colour = dataclasses.replace(SMALL, sensor_type=SensorType.RGGB)
    rig = await _rig(tmp_path, model=colour)
    try:
        [whole] = await rig.instrument.take_object(1.0, title="M42")
        await rig.camera.set_subframe(1, 2, 64, 64)  # odd column, even row
        [sub] = await rig.instrument.take_object(1.0, title="M42")
        await rig.camera.set_binning(2)
        await rig.camera.set_subframe(0, 0, 128, 96)
        [binned] = await rig.instrument.take_object(1.0, title="M42")
        headers = [header_of(rig, i) for i in (whole, sub, binned)]
    finally:
        rig.storage.close()
    assert [(h["BAYERPAT"], h["XBAYROFF"], h["YBAYROFF"]) for h in headers[:2]] == \
        [("RGGB", 0, 0), ("RGGB", 1, 0)]
    assert "BAYERPAT" not in headers[2]  # binning mixes the colours: no mosaic
