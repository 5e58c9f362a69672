"""Stuttered (charge-shift) exposures of the simulated camera: LATISS take_stuttered and
azcam's focus frame (the focuser moved between segments)."""

from __future__ import annotations

import asyncio
import math
import threading

import numpy as np
import pytest

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
from nocturna.devices.sim.sky import render
from nocturna.devices.sim.sky.catalog import julian_year, load_catalog
from nocturna.devices.sim.sky.render import defocus_fwhm
from nocturna.devices.types import CameraState
from unit_helpers import PERFECT_MOUNT

NIGHT = "2026-12-15T10:00Z"  # midnight in Hawaii: Orion is high
ORION = (84.0, -2.0)
# A field with a G = 6.0 star alone in its column, 100 px above the centre.
LONE_STAR = (76.6532, -13.4124)
MODEL = SimCameraModel(width=512, height=512, readout_s=1.0, noise_seed=5,
                       hot_pixel_fraction=0.0)


pytestmark = pytest.mark.virtual_time  # time moves only when nothing can run


@pytest.fixture
async def clock():
    with use_clock(VirtualClock(NIGHT)) as clock:
        yield clock


@pytest.fixture
def site():
    return Config.load(environ={}).model.site


async def unit(clock, site, model=MODEL, pointing=ORION):
    mount = SimMount(latitude_deg=19.54, longitude_deg=-155.58, elevation_m=3400,
                     **PERFECT_MOUNT)
    focuser = SimFocuser(position=model.best_focus)
    camera = SimCamera("cam0", model=model, site=site, mount=mount, focuser=focuser)
    for device in (mount, focuser, camera):
        await device.connect()
    await mount.unpark()
    await mount.set_tracking(True)
    await mount.slew_to_coordinates(pointing[0] / 15.0, pointing[1])
    await asyncio.sleep(120)
    assert not (await mount.state()).slewing
    return camera, focuser


async def stuttered(clock, camera, segment_s, n_shift, row_shift, **kwargs):
    """Take a stuttered frame and return the image."""
    await camera.start_stuttered_exposure(segment_s, n_shift, row_shift, **kwargs)
    await camera.wait_until_ready(segment_s * n_shift)
    return await camera.image()


def predicted_stars(image):
    """Catalog stars where the image's WCS (the last, unshifted segment) puts them."""
    wcs = image.extra["wcs"]
    found = load_catalog().cone(image.extra["true_ra_deg"], image.extra["true_dec_deg"], 1.5,
                                epoch_jyear=julian_year(image.start_time))
    x, y = wcs.wcs_world2pix(found.ra_deg, found.dec_deg, 0)
    return x, y, found.mag


def isolated(image, n_shift, row_shift, *, mag_range=(4.0, 7.5), clearance=12.0):
    """(x, y) of bright stars whose copies all fall on the frame, clear of other copies."""
    x, y, mag = predicted_stars(image)
    ny, nx = image.data.shape
    steps = np.arange(-(n_shift - 1), n_shift) * row_shift
    chosen = []
    for i in np.argsort(mag):
        if not (mag_range[0] <= mag[i] <= mag_range[1] and clearance < x[i] < nx - clearance
                and clearance + (n_shift - 1) * row_shift < y[i] < ny - clearance):
            continue
        dy = np.abs((y - y[i])[:, None] + steps[None, :]).min(axis=1)
        near = (np.abs(x - x[i]) < clearance) & (dy < clearance) & (mag < 10.5)
        if np.sum(near) == 1:
            chosen.append((float(x[i]), float(y[i])))
    assert chosen, "no star with isolated copies in the field"
    return chosen


def peaks(data: np.ndarray, threshold: float) -> np.ndarray:
    """(x, y) of the local maxima above ``threshold`` (8-neighbour), one row per peak."""
    d = data.astype(np.float64)
    core = d[1:-1, 1:-1]
    is_peak = core > threshold
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy or dx:
                is_peak &= core >= d[1 + dy:d.shape[0] - 1 + dy, 1 + dx:d.shape[1] - 1 + dx]
    ys, xs = np.nonzero(is_peak)
    return np.column_stack((xs + 1, ys + 1)).astype(np.float64)


def clipped_mean(data: np.ndarray) -> float:
    """Mean of the background: pixels within 3 sigma (from the MAD) of the median."""
    values = data.astype(np.float64).ravel()
    for _ in range(3):
        median = np.median(values)
        sigma = 1.4826 * np.median(np.abs(values - median))
        values = values[np.abs(values - median) < 3 * sigma]
    return float(values.mean())


def box_signal(data: np.ndarray, x: float, y: float, level: float, half: int = 8) -> float:
    x0, y0 = round(x), round(y)
    box = data[y0 - half:y0 + half + 1, x0 - half:x0 + half + 1].astype(np.float64)
    return float((box - level).sum())


def moment_fwhm(data: np.ndarray, x: float, y: float, level: float, half: int) -> float:
    x0, y0 = round(x), round(y)
    box = data[y0 - half:y0 + half + 1, x0 - half:x0 + half + 1].astype(np.float64) - level
    yy, xx = np.mgrid[y0 - half:y0 + half + 1, x0 - half:x0 + half + 1]
    total = box.sum()
    cx, cy = (box * xx).sum() / total, (box * yy).sum() / total
    var = ((box * ((xx - cx) ** 2 + (yy - cy) ** 2)).sum() / total) / 2 - 1 / 12
    return 2.3548 * math.sqrt(var)


async def test_the_camera_says_it_can_stutter(clock):
    camera = SimCamera("cam0", model=MODEL)
    await camera.connect()
    assert (await camera.info()).can_stutter


async def test_each_bright_star_appears_n_shift_times_row_shift_rows_apart(clock, site):
    camera, _ = await unit(clock, site)
    n_shift, row_shift = 3, 40
    image = await stuttered(clock, camera, 2.0, n_shift, row_shift)
    assert image.duration_s == pytest.approx(6.0)
    assert (image.extra["n_shift"], image.extra["row_shift"]) == (n_shift, row_shift)
    background = float(np.median(image.data[:200]))
    found = peaks(image.data, background + 300)
    stars = isolated(image, n_shift, row_shift)
    for x, y in stars:
        for copy in range(n_shift):
            distance = np.hypot(found[:, 0] - x, found[:, 1] - (y - copy * row_shift))
            assert distance.min() < 1.5, f"no copy {copy} of the star at ({x:.1f}, {y:.1f})"
        # Exactly n_shift copies: none a row_shift beyond either end.
        for beyond in (y + row_shift, y - n_shift * row_shift):
            assert np.hypot(found[:, 0] - x, found[:, 1] - beyond).min() > 3


async def test_a_stuttered_frame_collects_n_shift_times_one_segment(clock, site):
    camera, _ = await unit(clock, site)
    n_shift, row_shift, segment_s = 3, 40, 2.0
    await camera.start_exposure(segment_s)
    await camera.wait_until_ready(segment_s)
    single = await camera.image()
    image = await stuttered(clock, camera, segment_s, n_shift, row_shift)
    bias = MODEL.bias_adu + MODEL.default_offset
    # Background: the rows that saw every segment collected n_shift times the sky + dark.
    level_single = clipped_mean(single.data)
    level = clipped_mean(image.data[:512 - (n_shift - 1) * row_shift])
    assert level - bias == pytest.approx(n_shift * (level_single - bias), rel=0.05)
    # Stars: every copy holds one segment's light.
    for x, y in isolated(image, n_shift, row_shift, mag_range=(4.5, 7.5))[:3]:
        expected = box_signal(single.data, x, y, level_single)
        copies = [box_signal(image.data, x, y - k * row_shift, level) for k in range(n_shift)]
        assert sum(copies) == pytest.approx(n_shift * expected, rel=0.1)
        for copy in copies:
            assert copy == pytest.approx(expected, rel=0.15)


async def test_moving_the_focuser_between_segments_gives_copies_of_different_widths(
        clock, site):
    camera, focuser = await unit(clock, site, pointing=LONE_STAR)
    n_shift, row_shift, step = 3, 60, 150
    moves = []

    async def refocus(k: int) -> None:
        target = MODEL.best_focus + (k + 1) * step
        moves.append((k, target))
        await focuser.move_to(target)
        await focuser.wait_until(lambda s: not s.is_moving, timeout_s=30, poll_s=0.05)

    image = await stuttered(clock, camera, 2.0, n_shift, row_shift, between=refocus)
    assert moves == [(0, 30_150), (1, 30_300)]
    positions = image.extra["segment_focuser_positions"]
    assert positions == [30_000, 30_150, 30_300]
    fwhm = image.extra["segment_psf_fwhm_px"]
    assert fwhm == pytest.approx([defocus_fwhm(MODEL.seeing_fwhm_px, p - MODEL.best_focus,
                                               MODEL.focus_steps_per_px) for p in positions])
    assert image.extra["psf_fwhm_px"] == fwhm[-1]  # the unshifted copy's, like the WCS
    level = float(np.median(image.data[:400]))
    x, y = isolated(image, n_shift, row_shift, mag_range=(5.5, 6.5), clearance=25.0)[0]
    # Segment k's copy lies (n_shift - 1 - k) shifts below the unshifted one.
    measured = [moment_fwhm(image.data, x, y - (n_shift - 1 - k) * row_shift, level,
                            half=round(3 * fwhm[k]) + 2) for k in range(n_shift)]
    assert measured[0] < measured[1] < measured[2]
    assert measured == pytest.approx(fwhm, rel=0.15)


@pytest.mark.parametrize(("args", "kwargs", "match"), [
    ((2.0, 0, 10), {}, "n_shift 0"),
    ((2.0, 2.5, 10), {}, "n_shift 2.5"),
    ((2.0, True, 10), {}, "n_shift True"),
    ((2.0, 3, -1), {}, "row_shift -1"),
    ((2.0, 3, 1.5), {}, "row_shift 1.5"),
    ((2.0, 4, 128), {}, "4 × 128 = 512"),
    ((-1.0, 3, 10), {}, "segment time -1.0"),
    ((float("nan"), 3, 10), {}, "segment time nan"),
    (("two", 3, 10), {}, "segment time 'two'"),
    ((3000.0, 2, 10), {}, "6000 s exceed"),
    ((2.0, 3, 10), {"between": 42}, "between 42"),
])
async def test_invalid_arguments_are_refused_before_anything_starts(clock, args, kwargs, match):
    camera = SimCamera("cam0", model=MODEL)
    await camera.connect()
    with camera.events.subscribe("camera.exposure.*") as events:
        with pytest.raises(InvalidValueError, match=match):
            await camera.start_stuttered_exposure(*args, **kwargs)
        assert events.drain() == []
    state = await camera.state()
    assert state.camera_state == CameraState.IDLE and not state.image_ready


async def test_a_busy_camera_refuses_a_stuttered_exposure_and_vice_versa(clock):
    camera = SimCamera("cam0", model=MODEL)
    await camera.connect()
    await camera.start_exposure(10.0)
    with pytest.raises(InvalidOperationError, match="during an exposure"):
        await camera.start_stuttered_exposure(1.0, 3, 10)
    await camera.abort_exposure()
    await camera.start_stuttered_exposure(1.0, 3, 10)
    with pytest.raises(InvalidOperationError, match="during an exposure"):
        await camera.start_exposure(1.0)
    with pytest.raises(InvalidOperationError, match="during an exposure"):
        await camera.start_stuttered_exposure(1.0, 3, 10)
    with pytest.raises(InvalidOperationError, match="cannot be stopped"):
        await camera.stop_exposure()


async def test_the_exposure_goes_through_segments_shifts_readout_and_ready(clock):
    camera = SimCamera("cam0", model=MODEL)
    await camera.connect()
    with camera.events.subscribe("camera.exposure.*") as events:
        await camera.start_stuttered_exposure(2.0, 3, 10)
        await asyncio.sleep(1.0)
        state = await camera.state()
        assert state.camera_state == CameraState.EXPOSING
        assert state.percent_completed == pytest.approx(100 / 6, abs=1)
        await asyncio.sleep(4.0)  # into the last segment
        assert (await camera.state()).camera_state == CameraState.EXPOSING
        await asyncio.sleep(1.5)
        assert (await camera.state()).camera_state == CameraState.READING
        await asyncio.sleep(0.6)
        state = await camera.state()
        assert state.camera_state == CameraState.IDLE and state.image_ready
        assert state.last_exposure_duration_s == pytest.approx(6.0)
        received = events.drain()
    assert [event.topic for event in received] == [
        "camera.exposure.started", "camera.exposure.shift", "camera.exposure.shift",
        "camera.exposure.reading", "camera.exposure.ready"]
    started = received[0].data
    assert started["stuttered"] and started["n_shift"] == 3 and started["row_shift"] == 10
    assert started["duration_s"] == pytest.approx(6.0) and started["segment_s"] == 2.0
    assert [event.data["shift"] for event in received[1:3]] == [1, 2]
    image = await camera.image()
    assert image.data.shape == (512, 512) and image.duration_s == pytest.approx(6.0)


async def test_abort_during_a_segment_leaves_no_image(clock):
    camera = SimCamera("cam0", model=MODEL)
    await camera.connect()
    with camera.events.subscribe("camera.exposure.*") as events:
        await camera.start_stuttered_exposure(10.0, 3, 10)
        waiter = asyncio.ensure_future(camera.wait_until_ready(30.0))
        await asyncio.sleep(13.0)  # into the second segment
        await camera.abort_exposure()
        with pytest.raises(OperationCancelledError):
            await waiter
        await asyncio.sleep(60.0)
        topics = [event.topic for event in events.drain()]
    assert topics == ["camera.exposure.started", "camera.exposure.shift",
                      "camera.exposure.aborted"]
    state = await camera.state()
    assert state.camera_state == CameraState.IDLE and not state.image_ready
    with pytest.raises(InvalidOperationError, match="no image"):
        await camera.image()


async def test_abort_while_between_runs_cancels_it(clock):
    camera = SimCamera("cam0", model=MODEL)
    await camera.connect()
    entered, cancelled = asyncio.Event(), asyncio.Event()

    async def never_done(k: int) -> None:
        entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    await camera.start_stuttered_exposure(1.0, 2, 10, between=never_done)
    await asyncio.wait_for(entered.wait(), 30)  # after the first 1 s segment
    assert (await camera.state()).camera_state == CameraState.EXPOSING
    await camera.abort_exposure()
    assert cancelled.is_set()
    assert (await camera.state()).camera_state == CameraState.IDLE
    await camera.start_exposure(1.0)  # the camera is free again


async def test_a_failing_between_abandons_the_exposure(clock):
    camera = SimCamera("cam0", model=MODEL)
    await camera.connect()

    async def broken(k: int) -> None:
        raise RuntimeError("focuser jammed")

    with camera.events.subscribe("camera.exposure.failed") as failed:
        await camera.start_stuttered_exposure(1.0, 2, 10, between=broken)
        waiter = asyncio.ensure_future(camera.wait_until_ready(2.0))
        with pytest.raises(OperationCancelledError, match="focuser jammed"):
            await asyncio.wait_for(waiter, 30)
        assert [event.data["error"] for event in failed.drain()] == ["focuser jammed"]
    assert (await camera.state()).camera_state == CameraState.IDLE


async def test_the_frame_is_rendered_off_the_event_loop(clock, monkeypatch):
    loop_thread = threading.get_ident()
    threads: dict[str, list[int]] = {"add": [], "read_out": []}
    add, read_out = render.StutteredFrame.add, render.StutteredFrame.read_out

    def recording_add(self, segment, spec):
        threads["add"].append(threading.get_ident())
        return add(self, segment, spec)

    def recording_read_out(self, rng=None):
        threads["read_out"].append(threading.get_ident())
        return read_out(self, rng)

    monkeypatch.setattr(render.StutteredFrame, "add", recording_add)
    monkeypatch.setattr(render.StutteredFrame, "read_out", recording_read_out)
    camera = SimCamera("cam0", model=MODEL)
    await camera.connect()
    await stuttered(clock, camera, 1.0, 3, 20)
    assert len(threads["add"]) == 3 and len(threads["read_out"]) == 1
    assert loop_thread not in threads["add"] + threads["read_out"]


async def test_rows_shift_in_binned_pixels(clock):
    camera = SimCamera("cam0", model=MODEL)
    await camera.connect()
    await camera.set_binning(2)
    with pytest.raises(InvalidValueError, match="binned sensor height 256"):
        await camera.start_stuttered_exposure(1.0, 4, 64)
    image = await stuttered(clock, camera, 1.0, 4, 63)
    assert image.data.shape == (256, 256) and image.bin_y == 2
