"""The INDI camera driver against Debian's CCD simulator (a real indiserver), and the
FITS BLOB decoder against files astropy wrote.

The simulator's sensor is made 512×512 (its smallest) before the camera connects, so
frames stay small; each test sets the binning and subframe it needs.
"""

from __future__ import annotations

import asyncio
import io

import numpy as np
import pytest
import uvloop
from astropy.io import fits

from nocturna.core.errors import (
    DeviceTimeoutError,
    InvalidOperationError,
    InvalidValueError,
    OperationCancelledError,
)
from nocturna.devices.indi.blob import FitsBlobError, fits_image
from nocturna.devices.indi.camera import IndiCamera
from nocturna.devices.indi.connection import acquire, release
from nocturna.devices.types import CameraState, GuideDirection

SIDE = 512


async def set_switch_or_number(server, name: str, values: dict) -> None:
    """Set a property of the CCD simulator from a client of the test's own."""
    device = server.device("ccd")
    connection = acquire(server.address, own=True)
    try:
        await connection.wait_up(10)
        vector = await connection.wait_for(lambda: connection.store.get(device, name), 10,
                                           name)
        connection.send_new(vector, values)

        def shown() -> bool:
            now = connection.store.get(device, name)
            return now is not None and now.state != "Busy" and \
                all(now[key] == value for key, value in values.items())

        await connection.wait_for(shown, 10, f"{name} set")
    finally:
        await release(connection)


async def camera_of(server, **options) -> IndiCamera:
    """A connected camera on the simulator, its sensor 512×512."""
    await set_switch_or_number(server, "SIMULATOR_SETTINGS",
                               {"SIM_XRES": SIDE, "SIM_YRES": SIDE})
    camera = IndiCamera("cam0", address=server.address, device=server.device("ccd"),
                        **options)
    await camera.connect()
    return camera


async def test_a_binned_subframe_comes_back_with_its_size_and_the_fits_header(indi_server):
    camera = await camera_of(indi_server)
    try:
        info = await camera.info()
        assert (info.width, info.height, info.max_bin_x) == (SIDE, SIDE, 4)
        await camera.set_binning(2)
        state = await camera.state()
        assert (state.bin_x, state.num_x, state.num_y) == (2, SIDE // 2, SIDE // 2)
        await camera.set_subframe(8, 4, 100, 60)
        state = await camera.state()
        assert (state.start_x, state.start_y, state.num_x, state.num_y) == (8, 4, 100, 60)

        image = await camera.expose(0.05)

        assert image.data.shape == (60, 100) and image.data.dtype == np.uint16
        assert image.light and (image.bin_x, image.start_x, image.start_y) == (2, 8, 4)
        header = image.extra["indi_header"]
        assert header["INSTRUME"] == "CCD Simulator"  # written by the simulator
        assert (header["NAXIS1"], header["NAXIS2"], header["XBINNING"]) == (100, 60, 2)
        assert header["FRAME"] == "Light" and header["EXPTIME"] == pytest.approx(0.05)
        assert image.data.max() > image.data.min()  # noise: real pixels, not a blank
        state = await camera.state()
        assert state.image_ready and state.camera_state == CameraState.IDLE
        assert state.last_exposure_duration_s == 0.05
        assert await camera.image() is image  # decoded once
    finally:
        await camera.disconnect()


async def test_a_dark_is_a_dark_frame_and_a_dark_of_0_s_a_bias(indi_server):
    camera = await camera_of(indi_server)
    try:
        await camera.set_binning(4)
        dark = await camera.expose(0.02, light=False)
        assert not dark.light and dark.extra["indi_header"]["FRAME"] == "Dark"
        assert dark.data.shape == (SIDE // 4, SIDE // 4)
        bias = await camera.expose(0, light=False)
        assert bias.extra["indi_header"]["FRAME"] == "Bias"
        light = await camera.expose(0.02)
        assert light.extra["indi_header"]["FRAME"] == "Light"
    finally:
        await camera.disconnect()


async def test_abort_leaves_the_camera_idle_with_no_new_image(indi_server):
    camera = await camera_of(indi_server)
    try:
        await camera.set_binning(4)
        await camera.expose(0.02)
        await camera.start_exposure(30)
        exposing = await camera.wait_until(lambda s: s.camera_state == CameraState.EXPOSING,
                                           timeout_s=10, poll_s=0.05)
        assert not exposing.image_ready
        await camera.abort_exposure()
        state = await camera.state()
        assert state.camera_state == CameraState.IDLE and not state.image_ready
        with pytest.raises(InvalidOperationError, match="no image is ready"):
            await camera.image()
        with pytest.raises(OperationCancelledError, match="aborted"):
            await camera.wait_until_ready(30)
        # usable at once, and the next image is the next exposure's, not a stale one
        image = await camera.expose(0.03)
        assert image.extra["indi_header"]["EXPTIME"] == pytest.approx(0.03)
    finally:
        await camera.disconnect()


async def test_bad_requests_are_refused_with_typed_errors(indi_server):
    camera = await camera_of(indi_server)
    try:
        await camera.set_binning(1)
        with pytest.raises(InvalidOperationError, match="no image is ready"):
            await camera.image()
        for binning in (0, 5, 1.5, True):
            with pytest.raises(InvalidValueError, match="binning"):
                await camera.set_binning(binning)
        with pytest.raises(InvalidValueError, match=f"does not fit the {SIDE}x{SIDE}"):
            await camera.set_subframe(500, 0, 20, 10)
        with pytest.raises(InvalidValueError, match="does not fit"):
            await camera.set_subframe(0, 0, 0, 10)
        for seconds in (0, -1, 7200, float("nan")):
            with pytest.raises(InvalidValueError, match="exposure time"):
                await camera.start_exposure(seconds)
        with pytest.raises(InvalidValueError, match=r"gain 1000 is not in 0\.\.100"):
            await camera.set_gain(1000)
        with pytest.raises(InvalidValueError, match="set point"):
            await camera.set_target_temperature(80)

        await camera.start_exposure(30)
        with pytest.raises(InvalidOperationError, match="during an exposure"):
            await camera.start_exposure(1)
        with pytest.raises(InvalidOperationError, match="during an exposure"):
            await camera.set_binning(2)
        await camera.abort_exposure()
    finally:
        await camera.disconnect()


async def test_gain_offset_and_cooling_reach_the_device(indi_server):
    camera = await camera_of(indi_server)
    try:
        info = await camera.info()
        assert (info.gain_min, info.gain_max) == (0, 100) and info.can_set_ccd_temperature
        before = (await camera.state()).gain
        gain = 40 if before != 40 else 41
        await camera.set_gain(gain)
        await camera.set_offset(12)
        await camera.set_cooler(True)
        await camera.set_target_temperature(-5)
        state = await camera.state()
        assert (state.gain, state.offset, state.cooler_on) == (gain, 12, True)
        assert state.set_ccd_temperature_c == -5
        await camera.set_binning(4)
        image = await camera.expose(0.02)
        assert (image.gain, image.offset, image.set_ccd_temperature_c) == (gain, 12, -5)
        await camera.pulse_guide(GuideDirection.NORTH, 50)
        await camera.wait_until(lambda s: not s.is_pulse_guiding, timeout_s=10, poll_s=0.05)
    finally:
        await camera.disconnect()


async def test_a_frame_that_never_arrives_is_a_timeout_naming_the_upload_mode(indi_server):
    camera = await camera_of(indi_server, timeout_s=2)
    try:
        await camera.set_binning(4)
        # another client makes the simulator keep its frames on the server's disk
        await set_switch_or_number(indi_server, "UPLOAD_MODE", {"UPLOAD_LOCAL": True})
        await camera.start_exposure(0.02)
        with pytest.raises(DeviceTimeoutError, match="UPLOAD_MODE is UPLOAD_LOCAL"):
            await camera.wait_until_ready(0.02)
        with pytest.raises(InvalidOperationError, match="no image is ready"):
            await camera.image()
    finally:
        await set_switch_or_number(indi_server, "UPLOAD_MODE", {"UPLOAD_CLIENT": True})
        await camera.disconnect()


async def test_a_new_client_of_the_server_does_not_reset_the_properties_counts(indi_server):
    """indiserver sends every definition to all clients when any client asks for them:
    the update counts that waits rely on must go on, not restart at 0."""
    camera = await camera_of(indi_server)
    try:
        first = camera.vector("CCD_FRAME")
        before = first.updates
        other = acquire(indi_server.address, own=True)
        try:
            await other.wait_up(10)
            await camera.connection.wait_for(
                lambda: camera.vector("CCD_FRAME") is not first, 10,
                "CCD_FRAME defined again")
        finally:
            await release(other)
        assert camera.vector("CCD_FRAME").updates >= before
        await camera.set_binning(4)
        assert (await camera.expose(0.02)).data.shape == (SIDE // 4, SIDE // 4)
    finally:
        await camera.disconnect()


def test_an_exposure_under_uvloop(indi_server):
    async def expose() -> tuple[int, ...]:
        camera = await camera_of(indi_server)
        try:
            await camera.set_binning(2)
            await camera.set_subframe(0, 0, 32, 16)
            return (await camera.expose(0.02)).data.shape
        finally:
            await camera.disconnect()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert runner.run(expose()) == (16, 32)


# ------------------------------------------------------------------ the FITS decoder
def fits_bytes(data: np.ndarray) -> bytes:
    hdu = fits.PrimaryHDU(data)
    out = io.BytesIO()
    hdu.writeto(out)
    return out.getvalue()


@pytest.mark.parametrize("dtype", ["uint16", "int16", "uint8", "int8", "uint32", "int32",
                                   "int64", "float32", "float64"])
def test_the_decoder_gives_what_astropy_reads(dtype):
    rng = np.random.default_rng(7)
    if np.dtype(dtype).kind == "f":
        data = rng.normal(size=(5, 7)).astype(dtype)
    else:
        limits = np.iinfo(dtype)
        data = rng.integers(limits.min, limits.max, (5, 7), dtype=dtype, endpoint=True)
    raw = fits_bytes(data)
    for buffer in (raw, bytearray(raw)):  # read-only: copied; writable: in place
        image, header = fits_image(buffer)
        assert image.dtype == data.dtype and np.array_equal(image, data)
        assert header["NAXIS1"] == 7


def test_the_decoder_scales_like_astropy_and_refuses_what_is_not_an_image():
    hdu = fits.PrimaryHDU(np.arange(12, dtype=np.float32).reshape(3, 4) * 0.5 + 10)
    hdu.scale("int16", bscale=0.5, bzero=10)
    out = io.BytesIO()
    hdu.writeto(out)
    expected = fits.open(io.BytesIO(out.getvalue()))[0].data
    image, header = fits_image(bytearray(out.getvalue()))
    assert header["BSCALE"] == 0.5
    assert image.dtype == expected.dtype == np.float32 and np.array_equal(image, expected)
    with pytest.raises(FitsBlobError, match="does not start with SIMPLE"):
        fits_image(b"GIF89a" + bytes(3000))
    with pytest.raises(FitsBlobError, match="cut short"):
        fits_image(fits_bytes(np.zeros((40, 40), np.uint16))[:2880 + 100])
    with pytest.raises(FitsBlobError, match="no END card"):
        fits_image(b"SIMPLE  =" + b" " * 5000)
