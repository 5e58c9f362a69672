"""The azcam focus tool: a charge-shift focus frame on the simulated camera and focuser."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from nocturna.azcam.remote import remote_methods
from nocturna.azcam.tools.focus import FocusTool
from nocturna.core.clock import VirtualClock, use_clock
from nocturna.core.config import Config
from nocturna.core.errors import (
    InvalidOperationError,
    InvalidValueError,
    OperationCancelledError,
)
from nocturna.devices.sim.camera import SimCamera, SimCameraModel
from nocturna.devices.sim.focuser import SimFocuser
from nocturna.devices.sim.mount import SimMount
from nocturna.devices.sim.sky.catalog import julian_year, load_catalog
from nocturna.devices.sim.sky.render import defocus_fwhm
from nocturna.devices.types import CameraState

NIGHT = "2026-12-15T10:00Z"  # midnight in Hawaii: Orion is high
FIELD = (76.6532, -13.4124)  # a G = 6 star alone in its column, 100 px above the centre
MODEL = SimCameraModel(width=512, height=512, readout_s=1.0, noise_seed=5,
                       hot_pixel_fraction=0.0)
PERFECT = {"pointing_error_ra_arcsec": 0.0, "pointing_error_dec_arcsec": 0.0,
           "pointing_scatter_arcsec": 0.0, "drift_ra_arcsec_per_min": 0.0,
           "drift_dec_arcsec_per_min": 0.0}


pytestmark = pytest.mark.virtual_time  # time moves only when nothing can run


@pytest.fixture(autouse=True)
async def clock():
    with use_clock(VirtualClock(NIGHT)) as clock:
        yield clock


class Frames:
    """A fake exposure-tool writer that keeps what it is given."""

    def __init__(self) -> None:
        self.written: list[tuple] = []

    async def __call__(self, image, imagetype, title, extra_cards) -> str:
        self.written.append((image, imagetype, title, extra_cards))
        return f"/data/focus.{len(self.written):04d}.fits"


@pytest.fixture
async def rig():
    site = Config.load(environ={}).model.site
    mount = SimMount(latitude_deg=19.54, longitude_deg=-155.58, elevation_m=3400, **PERFECT)
    focuser = SimFocuser(position=MODEL.best_focus, temp_comp_steps_per_c=None)
    telescope_focuser = SimFocuser("tfoc", position=5_000, temp_comp_steps_per_c=None)
    camera = SimCamera("cam0", model=MODEL, site=site, mount=mount, focuser=focuser)
    for device in (mount, focuser, telescope_focuser, camera):
        await device.connect()
    await mount.unpark()
    await mount.set_tracking(True)
    await mount.slew_and_wait(FIELD[0] / 15.0, FIELD[1])
    frames = Frames()
    tool = FocusTool(camera, focuser, frames, telescope_focuser=telescope_focuser)
    return tool, camera, focuser, telescope_focuser, frames


def bright_stars(image, n_shift, row_shift):
    """(x, y) of the unshifted copies of bright stars whose copies all land on the frame
    clear of every other star's copies."""
    wcs = image.extra["wcs"]
    stars = load_catalog().cone(image.extra["true_ra_deg"], image.extra["true_dec_deg"], 1.5,
                                epoch_jyear=julian_year(image.start_time))
    x, y = wcs.wcs_world2pix(stars.ra_deg, stars.dec_deg, 0)
    height, width = image.data.shape
    shifts = np.arange(-(n_shift - 1), n_shift) * row_shift
    chosen = []
    for i in np.argsort(stars.mag):
        if stars.mag[i] > 7.0:
            break
        if not (20 < x[i] < width - 20 and 20 + (n_shift - 1) * row_shift < y[i] < height - 20):
            continue
        dy = np.abs((y - y[i])[:, None] + shifts[None, :]).min(axis=1)
        if np.sum((np.abs(x - x[i]) < 15) & (dy < 15) & (stars.mag < 11)) == 1:
            chosen.append((float(x[i]), float(y[i])))
    assert chosen, "no bright isolated star in the field"
    return chosen


async def moved_off(focuser, position, limit_s=30.0):
    """Wait (bounded) until the focuser leaves ``position``."""
    async with asyncio.timeout(limit_s):
        while (await focuser.state()).position == position:
            await asyncio.sleep(0.01)


def peak_in(data, x, y, half=4):
    """Maximum of the box around (x, y)."""
    x0, y0 = round(x), round(y)
    return float(data[y0 - half:y0 + half + 1, x0 - half:x0 + half + 1].max())


async def test_the_azcam_methods_are_remote(rig):
    tool = rig[0]
    assert {"set_pars", "get_pars", "run", "abort", "set_focus_component"} <= \
        set(remote_methods(tool))
    assert tool.name == "focus"


async def test_a_focus_frame_holds_one_copy_per_focus_position(rig):
    tool, _, focuser, _, frames = rig
    n, step, shift = 3, 150.0, 60
    tool.set_pars(2.0, n, step, shift)
    path = await tool.run()
    assert path == "/data/focus.0001.fits"
    [(image, imagetype, title, cards)] = frames.written
    assert (imagetype, title) == ("focus", "Focus")
    start = MODEL.best_focus
    assert cards["FOCSTART"][0] == start
    assert cards["FOCSTEP"][0] == step
    assert cards["FOCSTEPS"][0] == n
    assert cards["FOCSHIFT"][0] == shift
    assert cards["FOCCOMP"][0] == "instrument"
    # One segment per position, the focuser at start + k * step for segment k.
    assert image.duration_s == pytest.approx(n * 2.0)
    assert (image.extra["n_shift"], image.extra["row_shift"]) == (n, shift)
    positions = [round(start + k * step) for k in range(n)]
    assert image.extra["segment_focuser_positions"] == positions
    assert image.extra["segment_psf_fwhm_px"] == pytest.approx(
        [defocus_fwhm(MODEL.seeing_fwhm_px, p - MODEL.best_focus, MODEL.focus_steps_per_px)
         for p in positions])
    # The focuser is back where it started.
    state = await focuser.state()
    assert state.position == start and not state.is_moving
    # Every bright star appears n times, shift rows apart, and not once more.
    background = float(np.median(image.data))
    noise = 1.4826 * float(np.median(np.abs(image.data - background)))
    for x, y in bright_stars(image, n, shift)[:3]:
        for k in range(n):
            assert peak_in(image.data, x, y - k * shift) > background + 20 * noise, \
                f"no copy {k} of the star at ({x:.0f}, {y:.0f})"
        for beyond in (y + shift, y - n * shift):
            if 5 < beyond < image.data.shape[0] - 5:
                assert peak_in(image.data, x, beyond) < background + 10 * noise
    # The copy at best focus (segment 0, shifted furthest) is the sharpest: highest peak.
    x, y = bright_stars(image, n, shift)[0]
    peaks = [peak_in(image.data, x, y - (n - 1 - k) * shift) for k in range(n)]
    assert peaks[0] > peaks[1] > peaks[2]


async def test_run_arguments_replace_the_parameters(rig):
    tool, _, focuser, _, frames = rig
    await tool.run(exposure_time=1.0, number_exposures=2, focus_step=-100, detector_shift=40)
    image = frames.written[0][0]
    assert image.extra["segment_focuser_positions"] == [30_000, 29_900]
    assert tool.get_pars() == {"exposure_time": 1.0, "number_exposures": 2,
                               "focus_step": -100.0, "detector_shift": 40,
                               "focus_component": "instrument", "focus_type": "absolute",
                               "move_delay": 0.0}
    assert (await focuser.state()).position == 30_000


async def test_the_telescope_focuser_can_be_the_one_moved(rig):
    tool, _, focuser, telescope_focuser, frames = rig
    tool.set_focus_component("telescope")
    await tool.run(1.0, 2, 25, 30)
    image, _, _, cards = frames.written[0]
    assert cards["FOCCOMP"][0] == "telescope" and cards["FOCSTART"][0] == 5_000
    assert image.extra["segment_focuser_positions"] == [30_000, 30_000]  # camera's untouched
    assert (await telescope_focuser.state()).position == 5_000
    assert (await focuser.state()).position == 30_000
    with pytest.raises(InvalidValueError, match="focus_component 'dome'"):
        tool.set_focus_component("dome")


async def test_abort_stops_the_frame_writes_nothing_and_returns_the_focus(rig):
    tool, camera, focuser, _, frames = rig
    tool.set_pars(5.0, 4, 200, 30)
    task = asyncio.ensure_future(tool.run())
    await moved_off(focuser, 30_000)  # into the second segment
    await tool.abort()
    with pytest.raises(OperationCancelledError, match="focus frame aborted"):
        await task
    assert frames.written == []
    state = await focuser.state()
    assert state.position == 30_000 and not state.is_moving
    assert (await camera.state()).camera_state == CameraState.IDLE


async def test_cancelling_the_run_still_returns_the_focus(rig):
    tool, camera, focuser, _, frames = rig
    tool.set_pars(5.0, 4, 200, 30)
    task = asyncio.ensure_future(tool.run())
    await moved_off(focuser, 30_000)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await focuser.wait_until(lambda s: s.position == 30_000 and not s.is_moving,
                             timeout_s=60, poll_s=0.1, what="the return")
    assert frames.written == []
    assert (await camera.state()).camera_state == CameraState.IDLE


async def test_positions_beyond_the_focuser_range_are_refused_before_anything(rig):
    tool, camera, focuser, _, frames = rig
    with pytest.raises(InvalidValueError, match=r"leave the focuser's range 0\.\.60000"):
        await tool.run(1.0, 7, 6000, 10)
    assert (await focuser.state()).position == 30_000
    assert (await camera.state()).camera_state == CameraState.IDLE
    assert frames.written == []


async def test_too_many_shifted_rows_are_refused_and_the_focus_stays(rig):
    tool, _, focuser, _, frames = rig
    with pytest.raises(InvalidValueError, match="rows must be less than"):
        await tool.run(1.0, 7, 10, 100)
    assert (await focuser.state()).position == 30_000
    assert frames.written == []


@pytest.mark.parametrize(("args", "match"), [
    ((0.0,), "exposure_time 0.0"),
    ((float("nan"),), "exposure_time nan"),
    ((1.0, 0), "number_exposures 0"),
    ((1.0, 3, float("inf")), "focus_step inf"),
    ((1.0, 3, 10, 0), "detector_shift 0"),
])
async def test_bad_parameters_are_refused(rig, args, match):
    tool = rig[0]
    with pytest.raises(InvalidValueError, match=match):
        tool.set_pars(*args)
    assert tool.get_pars()["number_exposures"] == 7  # azcam's default, unchanged


async def test_a_second_run_while_one_runs_is_refused(rig):
    tool = rig[0]
    tool.set_pars(2.0, 2, 50, 20)
    task = asyncio.ensure_future(tool.run())
    await asyncio.sleep(0)
    with pytest.raises(InvalidOperationError, match="already being taken"):
        await tool.run()
    await task


async def test_no_focuser_is_a_clear_error(rig):
    camera = rig[1]
    tool = FocusTool(camera, None, Frames())
    with pytest.raises(InvalidOperationError, match="no instrument focuser is configured"):
        await tool.run(1.0, 2, 10, 10)
