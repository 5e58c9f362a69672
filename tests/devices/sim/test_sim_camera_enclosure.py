"""The simulated camera sees the dome shutter and the cover calibrator (flat panel)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import numpy as np
import pytest
from sim_device_helpers import run_advancing

from nocturna.core.clock import SimClock, use_clock
from nocturna.core.config import Config
from nocturna.core.config.models import DeviceConfig
from nocturna.devices.sim.camera import SimCamera, SimCameraModel
from nocturna.devices.sim.covercalibrator import SimCoverCalibrator
from nocturna.devices.sim.dome import SimDome
from nocturna.devices.sim.filterwheel import SimFilterWheel

NIGHT = "2026-12-15T10:00Z"  # 00:00 in Hawaii: dark, the zenith full of stars
MODEL = SimCameraModel(width=256, height=256, readout_s=0.5, noise_seed=11,
                       hot_pixel_fraction=0.0)
BIAS_ADU = MODEL.bias_adu + MODEL.default_offset  # e⁻/ADU is 1 at the default gain


@pytest.fixture
def clock():
    clock = SimClock(NIGHT, speed=0)
    with use_clock(clock):
        yield clock


@pytest.fixture
def site():
    return Config.load(environ={}).model.site


async def connected(*devices):
    for device in devices:
        await device.connect()


async def expose(camera: SimCamera, clock: SimClock, duration_s: float = 5.0, *,
                 light: bool = True):
    await camera.start_exposure(duration_s, light=light)
    clock.advance(duration_s + 3)
    await asyncio.sleep(0)
    return await camera.image()


async def panel_on(panel: SimCoverCalibrator, clock: SimClock, brightness: int) -> None:
    await panel.calibrator_on(brightness)
    clock.advance(panel.warmup_s + 0.1)


def above_bias(image) -> float:
    return float(np.mean(image.data)) - BIAS_ADU


async def test_a_closed_shutter_gives_a_light_frame_no_stars_and_only_bias(clock, site):
    dome = SimDome(shutter_open=False)
    camera = SimCamera(model=MODEL, site=site, dome=dome)
    await connected(dome, camera)
    image = await expose(camera, clock)
    assert image.light and image.extra["illumination"] == "none"
    assert image.extra["stars"] == 0 and image.extra["sky_e_per_s_per_px"] == 0
    assert abs(above_bias(image)) < 1.0


async def test_an_open_shutter_lets_the_sky_in(clock, site):
    dome = SimDome(shutter_open=True)
    camera = SimCamera(model=MODEL, site=site, dome=dome)
    await connected(dome, camera)
    image = await expose(camera, clock)
    assert image.extra["illumination"] == "sky"
    assert image.extra["stars"] > 0 and image.extra["sky_e_per_s_per_px"] > 0


async def test_the_sky_is_blocked_while_the_shutter_opens_and_seen_once_open(clock, site):
    dome = SimDome(shutter_open=False, shutter_time_s=30.0)
    camera = SimCamera(model=MODEL, site=site, dome=dome)
    await connected(dome, camera)
    await dome.open_shutter()
    clock.advance(10)
    assert (await expose(camera, clock, 1.0)).extra["illumination"] == "none"
    clock.advance(30)
    assert (await expose(camera, clock, 1.0)).extra["illumination"] == "sky"


async def test_a_disconnected_dome_blocks_nothing(clock, site):
    camera = SimCamera(model=MODEL, site=site, dome=SimDome(shutter_open=False))
    await camera.connect()
    assert (await expose(camera, clock)).extra["illumination"] == "sky"


async def test_a_camera_without_dome_or_panel_sees_the_sky(clock, site):
    camera = SimCamera(model=MODEL, site=site)
    await camera.connect()
    image = await expose(camera, clock)
    assert image.extra["illumination"] == "sky" and image.extra["stars"] > 0
    assert image.extra["panel_e_per_s_per_px"] == 0


async def test_a_lit_panel_behind_a_closed_cover_is_uniform_and_scales_with_brightness(
        clock, site):
    dome = SimDome(shutter_open=False)  # the panel does not need the sky
    panel = SimCoverCalibrator(cover_open=False, max_brightness=255)
    camera = SimCamera(model=MODEL, site=site, dome=dome, calibrator=panel)
    await connected(dome, panel, camera)
    levels = {}
    for brightness in (64, 128):
        await panel_on(panel, clock, brightness)
        image = await expose(camera, clock, 5.0)
        assert image.extra["illumination"] == "panel" and image.extra["stars"] == 0
        expected = MODEL.flat_panel_e_per_s * brightness / 255 * 5.0
        assert image.extra["panel_e_per_s_per_px"] * 5.0 == pytest.approx(expected)
        assert above_bias(image) == pytest.approx(expected, rel=0.01)
        # Uniform: the pixel scatter is the shot noise of the level, no structure.
        assert float(np.std(image.data)) == pytest.approx(np.sqrt(expected), rel=0.1)
        levels[brightness] = above_bias(image)
    assert levels[128] / levels[64] == pytest.approx(2.0, rel=0.03)


async def test_the_default_panel_rate_gives_a_good_flat_in_five_seconds_at_half_brightness(
        clock):
    panel = SimCoverCalibrator(max_brightness=100)
    camera = SimCamera(model=SimCameraModel(width=64, height=64, noise_seed=1),
                       calibrator=panel)
    await connected(panel, camera)
    await panel_on(panel, clock, 50)
    assert 20_000 <= float(np.median((await expose(camera, clock, 5.0)).data)) <= 30_000


async def test_the_filter_throughput_dims_the_panel(clock, site):
    wheel = SimFilterWheel(names=["L", "R", "Dark"], dark_position=2)
    panel = SimCoverCalibrator(cover_open=False)
    camera = SimCamera(model=MODEL, site=site, filterwheel=wheel, calibrator=panel)
    await connected(wheel, panel, camera)
    await panel_on(panel, clock, 200)
    levels = {}
    for position, name in enumerate(("L", "R")):
        await wheel.set_position(position)
        clock.advance(5)
        image = await expose(camera, clock, 4.0)
        assert image.extra["filter"] == name and image.extra["illumination"] == "panel"
        levels[name] = above_bias(image)
    assert levels["R"] / levels["L"] == pytest.approx(0.3, rel=0.03)
    await wheel.set_position(2)
    clock.advance(5)
    image = await expose(camera, clock, 4.0)
    assert image.extra["illumination"] == "none" and abs(above_bias(image)) < 1.0


@pytest.mark.parametrize("warm", [False, True], ids=["off", "warming-up"])
async def test_a_closed_cover_with_the_panel_not_ready_is_dark(clock, site, warm):
    panel = SimCoverCalibrator(cover_open=False, warmup_s=60.0)
    camera = SimCamera(model=MODEL, site=site, calibrator=panel)
    await connected(panel, camera)
    if warm:
        await panel.calibrator_on(200)  # not READY for a minute
    image = await expose(camera, clock)
    assert image.extra["illumination"] == "none" and image.extra["stars"] == 0
    assert abs(above_bias(image)) < 1.0


async def test_an_open_cover_lets_the_sky_in_again_and_a_moving_one_blocks_it(clock, site):
    panel = SimCoverCalibrator(cover_open=False, cover_time_s=10.0)
    camera = SimCamera(model=MODEL, site=site, calibrator=panel)
    await connected(panel, camera)
    await panel_on(panel, clock, 100)
    assert (await expose(camera, clock, 1.0)).extra["illumination"] == "panel"
    await panel.calibrator_off()
    await panel.open_cover()
    clock.advance(2)
    assert (await expose(camera, clock, 1.0)).extra["illumination"] == "none"  # moving
    clock.advance(10)
    image = await expose(camera, clock, 1.0)
    assert image.extra["illumination"] == "sky" and image.extra["stars"] > 0


async def test_a_calibrator_without_cover_lets_the_sky_in(clock, site):
    panel = SimCoverCalibrator(has_cover=False)
    camera = SimCamera(model=MODEL, site=site, calibrator=panel)
    await connected(panel, camera)
    assert (await expose(camera, clock)).extra["illumination"] == "sky"


async def test_a_dark_frame_gets_no_panel_light(clock, site):
    panel = SimCoverCalibrator(cover_open=False)
    camera = SimCamera(model=MODEL, site=site, calibrator=panel)
    await connected(panel, camera)
    await panel_on(panel, clock, 255)
    image = await expose(camera, clock, 5.0, light=False)
    assert image.extra["illumination"] == "none" and image.extra["panel_e_per_s_per_px"] == 0
    assert abs(above_bias(image)) < 1.0


async def test_a_stuttered_panel_frame_has_no_stars_and_panel_light_per_segment(clock, site):
    panel = SimCoverCalibrator(cover_open=False)
    camera = SimCamera(model=MODEL, site=site, calibrator=panel)
    await connected(panel, camera)
    await panel_on(panel, clock, 51)  # 2000 e⁻/s
    await camera.start_stuttered_exposure(1.0, 3, 10)
    await run_advancing(clock, camera.wait_until_ready(3.0))
    image = await camera.image()
    assert image.extra["illumination"] == "panel" and image.extra["stars"] == 0
    assert image.extra["segment_illumination"] == ["panel"] * 3
    rows = image.data.mean(axis=1) - BIAS_ADU
    assert float(np.mean(rows[:100])) == pytest.approx(3 * 2000.0, rel=0.01)  # 3 segments
    assert float(np.mean(rows[-10:])) == pytest.approx(2000.0, rel=0.02)  # the last only


def test_from_config_accepts_a_calibrator_reference_and_the_panel_rate():
    entry = DeviceConfig.model_validate({"name": "cam9", "driver": "sim",
                                         "calibrator": "flat0",
                                         "flat_panel_e_per_s": 2500})
    camera = SimCamera.from_config(entry)
    assert camera.model.flat_panel_e_per_s == 2500.0 and camera.calibrator is None


def test_a_frame_spec_without_stars_renders_the_uniform_light_only():
    from nocturna.devices.sim.sky.render import FrameSpec, render_frame

    spec = FrameSpec(ra_deg=84.0, dec_deg=-2.0, exposure_s=10.0, width=256, height=256,
                     background_e_per_s_per_px=100.0, read_noise_e=0.0,
                     hot_pixel_fraction=0.0, bias_adu=0.0)
    with_stars = render_frame(spec, 1)
    flat = render_frame(replace(spec, stars=False), 1)
    assert len(with_stars.stars) > 0 and len(flat.stars) == 0
    assert flat.background_e == with_stars.background_e == 1000.0
    assert float(flat.data.max()) < 1000.0 + 8 * np.sqrt(1000.0)
