"""The Alpaca camera client against alpaca-simulators: dark frames end to end.

The simulator's camera is 320 × 240 here (see conftest.py), so an image in the wrong
orientation would have the wrong shape. Light frames there need the internet (a Gaia
query), so every exposure is a dark.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from nocturna.core.errors import OperationCancelledError
from nocturna.devices.alpaca.camera import AlpacaCamera
from nocturna.devices.types import CameraState, SensorType


@pytest.fixture
async def camera(alpaca_sim):
    device = AlpacaCamera("cam0", address=alpaca_sim, timeout_s=20)
    await device.connect()
    await device.set_binning(1)
    try:
        yield device
    finally:
        await device.disconnect()


def record_gets(device: AlpacaCamera) -> list[str]:
    seen: list[str] = []
    original = device._get

    async def spy(member: str, **params: Any) -> Any:
        seen.append(member)
        return await original(member, **params)

    device._get = spy  # type: ignore[method-assign]
    return seen


async def test_camera_info_is_read_at_connect(camera):
    info = await camera.info()
    assert (info.width, info.height) == (320, 240)
    assert info.sensor_type == SensorType.MONOCHROME
    assert info.bayer_offset_x is None  # monochrome: no Bayer offsets
    assert (info.max_bin_x, info.max_adu, info.pixel_size_x_um) == (8, 65535, 10.0)
    assert info.readout_modes == ["Fast", "Normal", "High Quality"]
    assert info.gains is not None and info.gains[0] == "1"
    assert info.can_abort_exposure and info.has_shutter


async def test_a_dark_frame_end_to_end(camera):
    before = datetime.now(UTC) - timedelta(seconds=5)
    image = await camera.expose(0.2, light=False, timeout_s=30)
    assert image.data.shape == (240, 320)  # (y, x): rows are the camera's Y
    assert image.data.dtype == np.uint16
    assert 0 < float(image.data.mean()) < 65535
    assert not image.light
    assert image.duration_s == pytest.approx(0.2)
    assert before <= image.start_time <= datetime.now(UTC)
    assert (image.bin_x, image.bin_y, image.start_x, image.start_y) == (1, 1, 0, 0)
    assert (image.gain, image.offset, image.readout_mode) == (1, 1, 0)
    assert image.ccd_temperature_c == -20.0
    assert image.set_ccd_temperature_c == -20.0
    assert image.extra["alpaca_imagebytes"] is True
    state = await camera.state()
    assert state.last_exposure_duration_s == pytest.approx(0.2)
    assert state.camera_state == CameraState.IDLE


async def test_binning_resets_the_subframe_to_the_whole_binned_sensor(camera):
    await camera.set_subframe(10, 20, 100, 50)
    await camera.set_binning(2)
    state = await camera.state()
    assert (state.bin_x, state.bin_y) == (2, 2)
    assert (state.start_x, state.start_y, state.num_x, state.num_y) == (0, 0, 160, 120)
    image = await camera.expose(0.05, light=False, timeout_s=30)
    assert image.data.shape == (120, 160)
    assert (image.bin_x, image.bin_y) == (2, 2)


async def test_a_subframe_reads_out_its_size(camera):
    await camera.set_subframe(10, 20, 100, 50)
    state = await camera.state()
    assert (state.start_x, state.start_y, state.num_x, state.num_y) == (10, 20, 100, 50)
    image = await camera.expose(0.05, light=False, timeout_s=30)
    assert image.data.shape == (50, 100)
    assert (image.start_x, image.start_y) == (10, 20)


async def test_settings_reach_the_camera(camera):
    await camera.set_offset(2)
    await camera.set_readout_mode(1)
    await camera.set_target_temperature(-10.0)
    await camera.set_cooler(True)
    state = await camera.state()
    assert (state.offset, state.readout_mode, state.set_ccd_temperature_c) == (2, 1, -10.0)
    assert state.cooler_on
    await camera.set_offset(1)
    await camera.set_readout_mode(0)
    await camera.set_cooler(False)
    await camera.set_target_temperature(-20.0)


async def test_waiting_for_the_image_polls_only_imageready(camera):
    await camera.start_exposure(0.1, light=False)
    gets = record_gets(camera)
    await camera.wait_until_ready(0.1, timeout_s=30)
    assert gets and set(gets) == {"imageready"}
    assert (await camera.image()).data.shape == (240, 320)


async def test_an_aborted_exposure_ends_the_wait_as_cancelled(camera):
    # Last in this module: the simulator's exposure task runs on after an abort.
    await camera.start_exposure(3.0, light=False)
    await camera.abort_exposure()
    with pytest.raises(OperationCancelledError, match="without an image"):
        await camera.wait_until_ready(0.0, timeout_s=30)
