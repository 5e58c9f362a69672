"""The simulated DSLR: SimCamera's RGGB mosaic, and the driver on the stand-in whose
sensor is a SimCamera (what a simulated PANOPTES night uses).

Boundary: the SimCamera interface (its image) and, end to end, the whole driver path
(release, DNG file, download, LibRaw) with nocturna's sky renderer behind the shutter.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from nocturna.core.clock import SimClock, use_clock
from nocturna.core.errors import InvalidValueError
from nocturna.core.events import EventBus
from nocturna.devices.gphoto2.camera import Gphoto2Camera
from nocturna.devices.sim.camera import BAYER_RESPONSE, SimCamera, SimCameraModel, bayer_mosaic
from nocturna.devices.types import SensorType

FLAT = SimCameraModel(width=64, height=48, sensor_type=SensorType.RGGB, read_noise_e=0.0,
                      hot_pixel_fraction=0.0, dark_e_per_s_at_0c=0.0, readout_s=0.5,
                      noise_seed=1)


@pytest.fixture
def clock():
    clock = SimClock("2026-12-15T08:00Z", speed=500.0)
    with use_clock(clock):
        yield clock


def test_the_mosaic_scales_each_pixel_by_its_filter():
    data = np.full((4, 6), 1300, dtype=np.uint16)
    out = bayer_mosaic(data, bias_adu=300.0)
    expected = {(0, 0): "R", (0, 1): "G", (1, 0): "G", (1, 1): "B"}
    for (dy, dx), colour in expected.items():
        assert np.all(out[dy::2, dx::2] == round(300 + 1000 * BAYER_RESPONSE[colour]))
    shifted = bayer_mosaic(data, bias_adu=300.0, start_x=1)  # a subframe from an odd column
    assert shifted[0, 0] == out[0, 1] and shifted[0, 1] == out[0, 0]


async def test_a_colour_simcamera_reads_an_rggb_mosaic_a_mono_one_does_not(clock):
    mono_model = dataclasses.replace(FLAT, sensor_type=SensorType.MONOCHROME)
    colour = SimCamera("c", model=FLAT, clock=clock, events=EventBus())
    mono = SimCamera("m", model=mono_model, clock=clock, events=EventBus())
    images = []
    for camera in (colour, mono):
        await camera.connect()
        images.append(await camera.expose(1.0))
    bias = FLAT.bias_adu + FLAT.default_offset
    rgb, grey = (image.data.astype(float) - bias for image in images)
    assert np.allclose(rgb[0::2, 0::2], grey[0::2, 0::2] * BAYER_RESPONSE["R"], atol=1)
    assert np.allclose(rgb[1::2, 1::2], grey[1::2, 1::2] * BAYER_RESPONSE["B"], atol=1)
    assert np.allclose(rgb[0::2, 1::2], grey[0::2, 1::2], atol=1)
    assert (await colour.info()).bayer_offset_x == 0


async def test_the_simulated_dslr_serves_the_simcamera_frame_as_a_real_dslr_would(clock):
    sim = SimCamera("sensor", model=FLAT, clock=clock, events=EventBus())
    camera = Gphoto2Camera.simulated("dslr1", sim, clock=clock, events=EventBus(),
                                     image_format="RAW")
    await camera.connect()
    image = await camera.expose(2.0)
    direct = await sim.image()  # the frame the simulated sensor read
    assert np.array_equal(image.data, np.clip(direct.data, 0, FLAT.max_adu))
    assert image.extra["bayer_pattern"] == "RGGB"
    assert image.extra["header_cards"]["CAMSERNO"][0] == "dslr1"
    assert image.data.shape == (48, 64) and image.data.dtype == np.uint16


async def test_a_subframe_is_cut_from_the_mosaic_and_its_pattern_follows(clock):
    sim = SimCamera("sensor", model=FLAT, clock=clock, events=EventBus())
    camera = Gphoto2Camera.simulated("dslr1", sim, clock=clock, events=EventBus())
    await camera.connect()
    await camera.set_subframe(5, 2, 20, 10)  # odd column, even row
    state = await camera.state()
    assert (state.start_x, state.start_y, state.num_x, state.num_y) == (5, 2, 20, 10)
    image = await camera.expose(1.0)
    whole = np.clip((await sim.image()).data, 0, FLAT.max_adu)
    assert np.array_equal(image.data, whole[2:12, 5:25])
    assert (image.start_x, image.start_y) == (5, 2)
    assert image.extra["bayer_pattern"] == "GRBG"  # RGGB seen from an odd column
    with pytest.raises(InvalidValueError, match="does not fit"):
        await camera.set_subframe(60, 0, 10, 10)
    with pytest.raises(InvalidValueError, match="unbinned"):
        await camera.set_binning(2)
    await camera.set_binning(1)
    await camera.set_subframe(0, 0, 64, 48)
    assert (await camera.expose(1.0)).data.shape == (48, 64)
