"""The simulated camera: exposure lifecycle, errors, cooling, and the physics of its frames."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from nocturna.core.astro import site_location
from nocturna.core.clock import SimClock, use_clock
from nocturna.core.config import Config
from nocturna.core.errors import (
    InvalidOperationError,
    InvalidValueError,
    NotConnectedError,
    NotImplementedByDeviceError,
)
from nocturna.devices.sim.camera import SimCamera, SimCameraModel
from nocturna.devices.types import CameraState, GuideDirection

NIGHT = "2026-12-15T10:00Z"  # 00:00 in Hawaii: dark, Sun far below the horizon
TWILIGHT = "2026-12-15T04:05Z"  # Sun about 8 degrees below the horizon at Mauna Loa

SMALL = SimCameraModel(width=256, height=256, readout_s=1.0, noise_seed=7)


@pytest.fixture
def clock():
    clock = SimClock(NIGHT, speed=0)
    with use_clock(clock):
        yield clock


@pytest.fixture
def site():
    return Config.load(environ={}).model.site


async def connected(model: SimCameraModel = SMALL, **kwargs) -> SimCamera:
    camera = SimCamera("cam0", model=model, **kwargs)
    await camera.connect()
    return camera


async def finish(camera: SimCamera, clock: SimClock, duration_s: float):
    clock.advance(duration_s + 5)
    await asyncio.sleep(0)
    return await camera.image()


async def test_exposure_goes_through_exposing_reading_ready(clock):
    camera = await connected()
    await camera.start_exposure(10.0)
    clock.advance(5)
    state = await camera.state()
    assert state.camera_state == CameraState.EXPOSING and 40 <= state.percent_completed <= 60
    assert not state.image_ready
    clock.advance(5.5)
    assert (await camera.state()).camera_state == CameraState.READING
    clock.advance(2)
    state = await camera.state()
    assert state.camera_state == CameraState.IDLE and state.image_ready
    image = await camera.image()
    assert image.data.shape == (256, 256) and image.data.dtype == np.uint16
    assert image.duration_s == 10.0 and image.start_time == clock.start


async def test_last_exposure_values_are_unset_before_the_first_exposure(clock):
    camera = await connected()
    state = await camera.state()
    assert state.last_exposure_duration_s is None and state.last_exposure_start_time is None
    await camera.start_exposure(3.0)
    await finish(camera, clock, 3.0)
    assert (await camera.state()).last_exposure_duration_s == 3.0


async def test_every_member_refuses_while_disconnected():
    camera = SimCamera("cam0", model=SMALL)
    for call in (camera.info(), camera.state(), camera.start_exposure(1.0), camera.image(),
                 camera.set_binning(2), camera.set_cooler(True), camera.abort_exposure()):
        with pytest.raises(NotConnectedError):
            await call


@pytest.mark.parametrize("duration", [-1.0, float("nan"), 4000.0, "ten", True])
async def test_invalid_exposure_time_is_refused(clock, duration):
    camera = await connected()
    with pytest.raises(InvalidValueError):
        await camera.start_exposure(duration)


async def test_starting_while_exposing_is_an_invalid_operation(clock):
    camera = await connected()
    await camera.start_exposure(10.0)
    with pytest.raises(InvalidOperationError, match="during an exposure"):
        await camera.start_exposure(1.0)
    with pytest.raises(InvalidOperationError):
        await camera.set_binning(2)


async def test_image_before_it_is_ready_is_an_invalid_operation(clock):
    camera = await connected()
    with pytest.raises(InvalidOperationError, match="no image"):
        await camera.image()
    await camera.start_exposure(10.0)
    with pytest.raises(InvalidOperationError, match="no image"):
        await camera.image()


async def test_abort_discards_the_image(clock):
    camera = await connected()
    await camera.start_exposure(10.0)
    clock.advance(3)
    await camera.abort_exposure()
    clock.advance(20)
    state = await camera.state()
    assert state.camera_state == CameraState.IDLE and not state.image_ready


async def test_stop_reads_out_what_was_exposed(clock):
    camera = await connected()
    await camera.start_exposure(100.0)
    clock.advance(20)
    await camera.stop_exposure()
    image = await finish(camera, clock, 0)
    assert image.duration_s == pytest.approx(20.0)
    with pytest.raises(InvalidOperationError):
        await camera.stop_exposure()


@pytest.mark.parametrize(("call", "args"), [
    ("set_binning", (5,)), ("set_binning", (0,)), ("set_binning", (2, 1)),
    ("set_subframe", (0, 0, 300, 10)), ("set_subframe", (-1, 0, 10, 10)),
    ("set_gain", (301,)), ("set_offset", (-1,)), ("set_readout_mode", (2,)),
    ("set_target_temperature", (-80.0,)),
])
async def test_out_of_range_settings_are_invalid_values(clock, call, args):
    camera = await connected()
    with pytest.raises(InvalidValueError):
        await getattr(camera, call)(*args)


async def test_pulse_guiding_is_not_implemented(clock):
    camera = await connected()
    assert not (await camera.info()).can_pulse_guide
    with pytest.raises(NotImplementedByDeviceError):
        await camera.pulse_guide(GuideDirection.NORTH, 100)


async def test_binning_and_subframe_shape_the_image(clock):
    camera = await connected()
    await camera.set_binning(2)
    await camera.set_subframe(10, 20, 50, 40)
    await camera.start_exposure(1.0)
    image = await finish(camera, clock, 1.0)
    assert image.data.shape == (40, 50)
    assert (image.bin_x, image.start_x, image.start_y) == (2, 10, 20)


async def test_cooling_approaches_the_set_point_and_becomes_stable(clock):
    camera = await connected()
    assert (await camera.state()).ccd_temperature_c == pytest.approx(10.0)
    await camera.set_target_temperature(-10.0)
    await camera.set_cooler(True)
    clock.advance(60)  # one time constant: 63 % of the way
    state = await camera.state()
    assert state.ccd_temperature_c == pytest.approx(10 - 20 * (1 - np.exp(-1)), abs=0.01)
    assert state.cooler_power_pct > 0 and not state.temperature_stable
    clock.advance(600)
    state = await camera.state()
    assert state.ccd_temperature_c == pytest.approx(-10.0, abs=0.1)
    assert state.temperature_stable


async def test_a_set_point_beyond_the_cooler_is_never_stable(clock):
    camera = await connected()
    await camera.set_target_temperature(-45.0)  # ambient 10 °C, cooler reaches -30 °C
    await camera.set_cooler(True)
    clock.advance(3000)
    state = await camera.state()
    assert state.ccd_temperature_c == pytest.approx(-30.0, abs=0.1)
    assert not state.temperature_stable and state.cooler_power_pct == pytest.approx(100)


async def test_dark_frame_has_no_sky_and_its_mean_grows_with_exposure(clock, site):
    camera = await connected(SimCameraModel(width=256, height=256, noise_seed=3,
                                            dark_e_per_s_at_0c=2.0, hot_pixel_fraction=0),
                             site=site)
    means = []
    for duration in (10.0, 300.0):
        await camera.start_exposure(duration, light=False)
        image = await finish(camera, clock, duration)
        means.append(float(np.mean(image.data)))
        assert image.extra["stars"] == 0 and image.extra["sky_e_per_s_per_px"] == 0
    assert means[1] > means[0] + 50


async def test_twilight_frame_is_brighter_than_a_night_frame(site):
    medians = {}
    for name, start in (("twilight", TWILIGHT), ("night", NIGHT)):
        clock = SimClock(start, speed=0)
        with use_clock(clock):
            camera = await connected(site=site)
            await camera.start_exposure(10.0)
            image = await finish(camera, clock, 10.0)
            medians[name] = float(np.median(image.data))
    assert medians["twilight"] > 3 * medians["night"]


async def test_a_light_frame_without_a_mount_looks_at_the_zenith(clock, site):
    camera = await connected(site=site)
    await camera.start_exposure(5.0)
    image = await finish(camera, clock, 5.0)
    assert image.extra["true_dec_deg"] == pytest.approx(19.54)
    assert image.extra["stars"] > 0


async def test_exposure_events_are_published(clock):
    camera = await connected()
    with camera.events.subscribe("camera.exposure.*") as events:
        await camera.start_exposure(2.0)
        clock.advance(2.1)
        await asyncio.sleep(0.01)
        clock.advance(2)
        await asyncio.sleep(0.01)
        topics = [event.topic for event in events.drain()]
    assert topics == ["camera.exposure.started", "camera.exposure.reading",
                      "camera.exposure.ready"]


async def test_gain_changes_electrons_per_adu(clock):
    camera = await connected()
    assert camera.electrons_per_adu(100) == pytest.approx(1.0)
    assert camera.electrons_per_adu(300) == pytest.approx(0.1)


def _camera_entry(**extra):
    from nocturna.core.config.models import DeviceConfig

    return DeviceConfig.model_validate({"name": "cam9", "driver": "sim", **extra})


def test_from_config_converts_quantities_to_the_unit_in_the_name():
    import astropy.units as u

    camera = SimCamera.from_config(_camera_entry(
        focal_length_mm=0.085 * u.m, readout_s=2 * u.min, width=512, sensor_type="rggb",
        focuser="foc0", primary=True))
    assert camera.model.focal_length_mm == pytest.approx(85.0)
    assert camera.model.readout_s == pytest.approx(120.0)
    assert camera.model.width == 512 and camera.model.sensor_type.name == "RGGB"


def test_from_config_names_every_bad_option():
    from nocturna.core.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        SimCamera.from_config(_camera_entry(focal_lenght_mm=85, sensor_type="purple",
                                            width=1.5))
    message = str(caught.value)
    assert "cam9.focal_lenght_mm: not an option" in message
    assert "cam9.sensor_type" in message and "cam9.width" in message


async def test_readout_takes_the_pixels_read_plus_the_overhead(clock):
    model = SimCameraModel(width=256, height=256, readout_s=2.0, fast_readout_s=0.5,
                           readout_overhead_s=0.25, noise_seed=1)
    camera = await connected(model)
    await camera.set_subframe(0, 0, 128, 256)  # half the pixels
    for fast, readout in ((False, 1.0 + 0.25), (True, 0.25 + 0.25)):
        await camera.set_fast_readout(fast)
        await camera.start_exposure(1.0)
        clock.advance(1.0 + readout - 0.01)
        assert (await camera.state()).camera_state == CameraState.READING
        clock.advance(0.01)
        assert (await camera.state()).image_ready


async def test_a_zero_readout_model_is_allowed(clock):
    model = SimCameraModel(width=64, height=64, readout_s=0, fast_readout_s=0,
                           readout_overhead_s=0, noise_seed=1)
    camera = await connected(model)
    await camera.start_exposure(1.0)
    clock.advance(1.0)
    state = await camera.state()
    assert state.camera_state == CameraState.IDLE and state.image_ready


@pytest.mark.parametrize("option", ["readout_s", "fast_readout_s", "readout_overhead_s"])
@pytest.mark.parametrize("value", [-0.1, float("nan")])
def test_a_negative_readout_time_is_refused(option, value):
    with pytest.raises(InvalidValueError, match=option):
        SimCameraModel(**{option: value})


async def test_the_sky_brightness_follows_astropy_without_an_astropy_call_per_frame(
        clock, site, monkeypatch):
    from nocturna.devices.sim.sky import ephemeris as sky_ephemeris
    from nocturna.devices.sim.sky.background import sky_conditions

    class FixedMount:
        connected = True

        @staticmethod
        def true_pointing():
            return 84.0, 10.0

    camera = await connected(site=site, mount=FixedMount())
    tables = []
    compute = sky_ephemeris.SkyEphemeris._compute

    def counting(self, start_s):
        tables.append(start_s)
        return compute(self, start_s)

    monkeypatch.setattr(sky_ephemeris, "_SITES", {})
    monkeypatch.setattr(sky_ephemeris.SkyEphemeris, "_compute", counting)
    for _ in range(3):
        await camera.start_exposure(1.0)
        image = await finish(camera, clock, 1.0)
        clock.advance(45)
    assert len(tables) == 1  # one day's Sun and Moon, for every frame of it
    conditions = sky_ephemeris.site_ephemeris(site).conditions(
        image.start_time.timestamp(), 84.0, 10.0)
    exact = sky_conditions(image.start_time, site_location(site), 84.0, 10.0)
    assert conditions.field_alt_deg == pytest.approx(exact.field_alt_deg, abs=0.02)
    assert conditions.sky_brightness() == pytest.approx(exact.sky_brightness(), abs=0.01)
