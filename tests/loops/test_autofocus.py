"""Autofocus on the simulators: a camera on a tracking mount, rendering the night sky
through a focuser.

The simulated PSF is ``hypot(1.6 px, |focuser − 30000 − filter offset| / 60)`` wide, so
these runs close the real loop: frames, metric, fit, move. Every run is on virtual time
(simulated time moves only when nothing can run, whatever the machine's load) with
seeded camera noise, so each test sees the same frames every time; only the central
512 × 512 cutout is rendered.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import math

import numpy as np
import pytest
from PIL import Image

from nocturna.core.astro import zenith_radec_deg
from nocturna.core.clock import get_clock
from nocturna.core.config import Config
from nocturna.core.errors import InvalidValueError
from nocturna.core.events import EventBus
from nocturna.devices.sim.camera import SimCamera, SimCameraModel
from nocturna.devices.sim.filterwheel import SimFilterWheel
from nocturna.devices.sim.focuser import SimFocuser
from nocturna.devices.sim.mount import SimMount
from nocturna.loops.autofocus import (
    METRICS,
    AutofocusSettings,
    clean_frame,
    hot_pixel_mask,
    run_autofocus,
    sweep_positions,
)
from unit_helpers import PERFECT_MOUNT, on_virtual_time

NIGHT = "2026-12-15T10:00Z"  # midnight in Hawaii: dark sky at the zenith of the demo site
MOONLIT = "2026-12-24T10:00Z"  # near full Moon: a sky about 40 times brighter
TWILIGHT = "2026-12-15T04:45Z"  # the end of evening twilight: 4 times brighter, fading
SKIES = [NIGHT, MOONLIT, TWILIGHT]
BEST = 30_000  # SimCameraModel.best_focus
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def model():
    return Config.load(environ={}).model


@pytest.fixture
def settings(model) -> AutofocusSettings:
    """The built-in defaults (observatory.autofocus)."""
    return AutofocusSettings.from_config(model.observatory.autofocus)


def on_night(start: str = NIGHT):
    """Run the decorated async test on virtual time from ``start`` (a sync test to
    pytest, its fixtures as declared)."""
    def wrap(test):
        @functools.wraps(test)
        def run(*args, **kwargs):
            return on_virtual_time(lambda: test(*args, **kwargs), start)
        return run
    return wrap


async def rig(model, position: int, *, filter_offset: int | None = None,
              noise_seed: int | None = 1, max_step: int = 60_000):
    """A connected simulated camera (seeded noise) and focuser on a mount tracking the
    zenith (and a filter wheel with a focus offset)."""
    focuser = SimFocuser("foc0", position=position, max_step=max_step)
    wheel = None
    if filter_offset is not None:
        # A broadband filter: through Ha (3 % of the light) 2 s frames hold so few stars
        # that the fit scatters by up to a fine step (measured: -11..+47 steps in 8 runs).
        wheel = SimFilterWheel("fw0", names=["L", "Clear"], focus_offsets=[0, filter_offset],
                               position=1)
        await wheel.connect()
    mount = SimMount(latitude_deg=19.54, longitude_deg=-155.58, elevation_m=3400,
                     **PERFECT_MOUNT)
    camera = SimCamera("cam0", site=model.site, mount=mount, focuser=focuser,
                       filterwheel=wheel, model=SimCameraModel(noise_seed=noise_seed))
    for device in (mount, focuser, camera):
        await device.connect()
    await mount.unpark()
    await mount.set_tracking(True)
    ra_deg, dec_deg = zenith_radec_deg(model.site, get_clock().now())
    await mount.slew_and_wait(ra_deg / 15.0, dec_deg)
    return camera, focuser


def frame_of(camera_state) -> tuple[int, ...]:
    s = camera_state
    return (s.bin_x, s.bin_y, s.start_x, s.start_y, s.num_x, s.num_y)


def assert_valid_png(path) -> None:
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size[0] > 300 and image.size[1] > 300


def brenner(data: np.ndarray) -> float:
    """A custom metric: Brenner's gradient over the frame's variance (larger: sharper)."""
    d = data - np.median(data)
    return float(np.mean((d[:, 2:] - d[:, :-2]) ** 2) / np.mean(d**2))


# --- the acceptance test ---------------------------------------------------------------


@pytest.mark.parametrize("start", [BEST + 3000, BEST - 3000])
@on_night()
async def test_coarse_autofocus_from_3000_steps_away_ends_within_one_fine_step(
        model, settings, tmp_path, start):
    camera, focuser = await rig(model, start)
    result = await run_autofocus(camera, focuser, settings, coarse=True,
                                 plot_dir=tmp_path / "plots")
    position = (await focuser.state()).position
    assert result.success, result.reason
    assert position == result.best_position
    assert abs(position - BEST) <= settings.fine_step
    assert result.start_position == start and result.change == position - start
    assert [s.kind for s in result.sweeps] == ["coarse", "fine"] and result.kind == "coarse"
    assert result.frames == 1 + 17 + 21  # the dark, 17 coarse and 21 fine positions
    names = sorted(p.name for p in result.plot_paths)
    stamp = result.started.strftime("%Y%m%dT%H%M%S")
    assert names == [f"focus_{stamp}_coarse.png", f"focus_{stamp}_fine.png"]
    for path in result.plot_paths:
        assert path.parent == tmp_path / "plots"
        assert_valid_png(path)


@on_night()
async def test_a_filter_focus_offset_moves_best_focus(model, settings, tmp_path):
    offset = 400
    camera, focuser = await rig(model, BEST + 3000, filter_offset=offset)
    result = await run_autofocus(camera, focuser, settings, coarse=True, plot_dir=tmp_path)
    assert result.success, result.reason
    assert abs(result.best_position - (BEST + offset)) <= settings.fine_step
    assert (await focuser.state()).position == result.best_position
    for path in result.plot_paths:
        assert_valid_png(path)


@on_night()
async def test_a_coarse_peak_at_the_sweep_edge_extends_the_sweep_toward_it(model, settings):
    camera, focuser = await rig(model, BEST + 3900)  # coarse sweep 29900..37900
    result = await run_autofocus(camera, focuser, settings, coarse=True)
    coarse = result.sweeps[0]
    assert coarse.extensions == 1  # down by half the range: 25900..29400
    assert coarse.positions[0] == BEST - 4100 and coarse.positions[-1] == BEST + 7900
    assert coarse.fit.bracketed and coarse.fit.sampled_best == BEST - 100
    assert result.success and abs(result.best_position - BEST) <= settings.fine_step


# --- fine runs and metrics -------------------------------------------------------------


@on_night()
async def test_a_fine_run_from_300_steps_away_converges_and_reports_progress(
        model, settings):
    camera, focuser = await rig(model, BEST + 300)
    bus = EventBus()
    with bus.subscribe("focus.*") as events:
        result = await run_autofocus(camera, focuser, settings, events=bus, name="cam0")
        received = events.drain()
    assert result.success and result.fit_ok and "fitted best focus" in result.reason
    assert (result.focuser, result.name) == ("foc0", "cam0")
    assert abs(result.best_position - BEST) <= settings.fine_step
    assert [s.kind for s in result.sweeps] == ["fine"] and result.kind == "fine"
    sweep = result.sweeps[0]
    assert sweep.positions == list(range(BEST + 300 - 500, BEST + 300 + 501, 50))
    assert result.plot_paths == []  # no plot directory given
    progress = [e for e in received if e.topic == "focus.progress"]
    assert [e.data["position"] for e in progress] == sweep.positions
    assert {e.source for e in received} == {"cam0"}
    assert received[0].topic == "focus.started" and received[-1].topic == "focus.finished"
    assert received[-1].data["best_position"] == result.best_position
    assert result.temperature_c is not None and result.duration_s > 0


@on_night()
async def test_a_custom_metric_callable_is_used(model, settings):
    camera, focuser = await rig(model, BEST - 300)
    calls = []

    def counted(data: np.ndarray) -> float:
        calls.append(data.shape)
        return brenner(data)

    result = await run_autofocus(camera, focuser, settings, metric=counted)
    assert result.metric == "counted"
    assert calls == [(512, 512)] * len(result.sweeps[0].positions)
    assert result.success and abs(result.best_position - BEST) <= settings.fine_step
    assert result.sweeps[0].metrics[0] == pytest.approx(
        brenner(result.sweeps[0].first_cutout))


@on_night()
async def test_the_hfr_metric_focuses_and_skips_frames_without_stars(model, settings):
    camera, focuser = await rig(model, BEST - 300)
    hfr = dataclasses.replace(settings, metric="hfr")
    result = await run_autofocus(camera, focuser, hfr)
    assert result.success and result.metric == "hfr"
    assert abs(result.best_position - BEST) <= settings.fine_step
    metrics = result.sweeps[0].metrics
    measured = [m for m in metrics if not math.isnan(m)]
    assert all(m < 0 for m in measured)  # negated HFR: larger is sharper
    assert any(math.isnan(m) for m in metrics)  # far from focus: no star is measurable
    record = json.loads(json.dumps(result.as_record(), allow_nan=False))
    assert None in record["sweeps"][0]["metrics"]
    assert record["best_position"] == result.best_position and record["metric"] == "hfr"


@on_night()
async def test_a_run_without_stars_fails_and_returns_to_the_start(model, settings):
    camera, focuser = await rig(model, BEST + 300)
    result = await run_autofocus(camera, focuser, settings, metric=lambda data: math.nan)
    assert not result.success and "no valid metric values" in result.reason
    assert result.best_position == BEST + 300 == (await focuser.state()).position


@on_night()
async def test_a_fine_sweep_extends_toward_a_rising_metric_until_the_peak_is_inside(
        model, settings):
    camera, focuser = await rig(model, BEST + 900)  # a fine sweep 30400..31400
    result = await run_autofocus(camera, focuser, settings)
    sweep = result.sweeps[0]
    assert sweep.extensions >= 1 and sweep.positions[0] < BEST
    assert sweep.positions == sorted(sweep.positions)
    assert set(range(BEST + 400, BEST + 1401, 50)) <= set(sweep.positions)
    assert result.success and result.fit_ok
    assert abs(result.best_position - BEST) <= settings.fine_step
    assert (await focuser.state()).position == result.best_position


@on_night()
async def test_best_focus_beyond_the_focuser_limit_fails_naming_the_limit(model, settings):
    camera, focuser = await rig(model, BEST - 1000, max_step=BEST - 500)  # 29000..29500
    result = await run_autofocus(camera, focuser, settings)
    sweep = result.sweeps[0]
    assert sweep.fit.beyond == 1 and sweep.limit == BEST - 500 and sweep.extensions == 0
    assert not result.success
    assert "upper limit (29500)" in result.reason and "beyond" in result.reason
    assert result.best_position == BEST - 500 == (await focuser.state()).position


@pytest.mark.parametrize("seed", [1, 2, 3, 8])
@on_night()
async def test_a_sweep_of_noise_far_from_focus_fails_back_at_the_start(model, settings, seed):
    # fine sweep 32500..33500: 50 px wide images of stars, lost in the noise
    camera, focuser = await rig(model, BEST + 3000, noise_seed=seed)
    result = await run_autofocus(camera, focuser, settings)
    assert not result.success and not result.fit_ok
    assert "no significant peak" in result.reason
    assert result.sweeps[0].extensions == 0
    assert (await focuser.state()).position == result.best_position == BEST + 3000


@on_night()
async def test_a_peak_narrower_than_the_step_succeeds_at_the_best_sampled_position(
        model, settings):
    camera, focuser = await rig(model, BEST)
    wide = dataclasses.replace(settings, fine_range=5000, fine_step=500)  # 27500..32500
    result = await run_autofocus(camera, focuser, wide)
    fit = result.sweeps[0].fit
    assert not fit.ok and fit.peak_sampled
    assert result.success and not result.fit_ok and "best sampled position" in result.reason
    assert result.best_position == BEST == (await focuser.state()).position


# --- from around focus, under several skies: focus within a fine step, or an honest failure


def _found_or_failed_honestly(result, position: int, start: int, fine_step: int) -> None:
    if result.success:
        assert abs(result.best_position - BEST) <= fine_step, result.reason
    else:
        assert "no significant peak" in result.reason, result.reason
        assert result.best_position == start
    assert position == result.best_position


@pytest.mark.parametrize("sky", SKIES)
@pytest.mark.parametrize("start", [BEST - 2000, BEST - 1500, BEST - 1000, BEST + 1000,
                                   BEST + 2000])
def test_a_fine_run_near_focus_finds_it_or_fails_honestly(model, settings, sky, start):
    async def work():
        camera, focuser = await rig(model, start)
        result = await run_autofocus(camera, focuser, settings)
        return result, (await focuser.state()).position

    result, position = on_virtual_time(work, sky)
    _found_or_failed_honestly(result, position, start, settings.fine_step)
    if abs(start - BEST) <= 1000:  # the flank of the curve is in the sweep: found
        assert result.success and result.fit_ok, result.reason
    for sweep in result.sweeps:  # a failure is never a fit that a peak stands out of
        assert sweep.fit.ok == (sweep.fit.bracketed and result.success)


@pytest.mark.parametrize("sky", SKIES)
@pytest.mark.parametrize("start", [BEST - 2000, BEST + 2000])
def test_a_coarse_run_from_2000_steps_away_finds_focus_under_any_sky(model, settings, sky,
                                                                      start):
    async def work():
        camera, focuser = await rig(model, start)
        result = await run_autofocus(camera, focuser, settings, coarse=True)
        return result, (await focuser.state()).position

    result, position = on_virtual_time(work, sky)
    assert result.success and result.fit_ok, result.reason
    assert abs(position - BEST) <= settings.fine_step and position == result.best_position


@on_night()
async def test_the_first_last_and_best_cutouts_show_the_same_star_field(model, settings,
                                                                        tmp_path):
    camera, focuser = await rig(model, BEST - 400)
    result = await run_autofocus(camera, focuser, settings, plot_dir=tmp_path)
    sweep = result.sweeps[0]
    assert sweep.best_cutout_position == sweep.fit.sampled_best
    assert abs(sweep.best_cutout_position - BEST) <= settings.fine_step
    first, last, best = sweep.first_cutout, sweep.last_cutout, sweep.best_cutout
    assert first is not None and last is not None and best is not None
    assert max(map(abs, image_shift(first, last))) <= 2
    assert max(map(abs, image_shift(best, last))) <= 2
    [path] = result.plot_paths
    assert_valid_png(path)


def image_shift(a: np.ndarray, b: np.ndarray) -> tuple[int, int]:
    """(dy, dx) of the peak of the cross-correlation of ``a`` and ``b`` (0, 0: aligned)."""
    from scipy.ndimage import gaussian_filter

    a, b = (gaussian_filter(x - np.median(x), 8.0) for x in (a, b))
    correlation = np.fft.ifft2(np.fft.fft2(a) * np.conj(np.fft.fft2(b))).real
    dy, dx = np.unravel_index(int(np.argmax(correlation)), correlation.shape)
    n_y, n_x = correlation.shape
    return (dy if dy <= n_y // 2 else dy - n_y, dx if dx <= n_x // 2 else dx - n_x)


# --- dark frame and hot pixels -------------------------------------------------------


async def _hot_pixels(camera: SimCamera, exposure_s: float) -> np.ndarray:
    """Hot pixels of the central 512 × 512, from a dark taken here (not by the run)."""
    await camera.set_subframe(768, 768, 512, 512)
    dark = (await camera.expose(exposure_s, light=False)).data.astype(float)
    await camera.set_binning(1)
    return dark > np.median(dark) + 100.0


@pytest.mark.parametrize("dark_frame", [True, False])
@on_night()
async def test_the_dark_is_subtracted_and_hot_pixels_are_masked(model, settings,
                                                                dark_frame):
    camera, focuser = await rig(model, BEST + 300)
    hot = await _hot_pixels(camera, settings.exposure_s)
    assert hot.sum() >= 5
    frames = []

    def keep(data: np.ndarray) -> float:
        frames.append(data.copy())
        return brenner(data)

    chosen = dataclasses.replace(settings, dark_frame=dark_frame)
    result = await run_autofocus(camera, focuser, chosen, metric=keep)
    assert result.frames == len(frames) + (1 if dark_frame else 0)
    ys, xs = np.nonzero(hot)
    for frame in frames:
        padded = np.pad(frame, 1, constant_values=np.nan)
        neighbours = np.stack([padded[ys + 1 + dy, xs + 1 + dx] for dy in (-1, 0, 1)
                               for dx in (-1, 0, 1) if dy or dx])
        above = frame[ys, xs] > np.nanmax(neighbours, axis=0)
        if dark_frame:  # replaced by a median of the neighbours: never above them all
            assert not above.any()
            assert np.median(frame) < 100  # bias (310 ADU) and dark current subtracted
        else:  # left alone: hot, unless a star happens to lie next to one
            assert above.mean() >= 0.8
            assert np.median(frame) > 300


def test_hot_pixel_mask_flags_pixels_far_above_the_dark_level():
    rng = np.random.default_rng(0)
    dark = rng.normal(300.0, 4.0, (64, 64))
    dark[10, 20] = 900.0
    dark[0, 0] = 400.0
    dark[30, 31] = 310.0  # within the noise
    mask = hot_pixel_mask(dark)
    assert mask[10, 20] and mask[0, 0] and not mask[30, 31]
    assert mask.sum() == 2
    assert not hot_pixel_mask(np.full((8, 8), 5.0)).any()


def test_clean_frame_subtracts_the_dark_and_replaces_hot_pixels_by_neighbours():
    light = np.arange(25, dtype=float).reshape(5, 5) + 100.0
    dark = np.full((5, 5), 100.0)
    light[2, 2] += 5000.0
    light[2, 3] += 7000.0  # two hot neighbours: each is left out of the other's median
    light[0, 0] += 9000.0  # a corner: only three neighbours
    hot = np.zeros((5, 5), dtype=bool)
    hot[2, 2] = hot[2, 3] = hot[0, 0] = True
    cleaned = clean_frame(light, dark, hot)
    base = np.arange(25, dtype=float).reshape(5, 5)
    assert cleaned[2, 2] == np.median([6, 7, 8, 11, 16, 17, 18])
    assert cleaned[2, 3] == np.median([7, 8, 9, 14, 17, 18, 19])
    assert cleaned[0, 0] == np.median([1, 5, 6])
    untouched = ~hot
    assert np.array_equal(cleaned[untouched], base[untouched])
    assert np.array_equal(clean_frame(light), light) and clean_frame(light) is not light


# --- the camera and the focuser are left as they were --------------------------------


@on_night()
async def test_the_cutout_is_read_and_binning_and_subframe_are_restored(model,
                                                                       settings, monkeypatch):
    camera, focuser = await rig(model, BEST + 300)
    await camera.set_binning(2)
    await camera.set_subframe(10, 20, 300, 400)
    before = frame_of(await camera.state())
    read = []
    download = camera.image

    async def observed():
        image = await download()
        read.append((image.bin_x, image.start_x, image.start_y, image.data.shape))
        return image

    monkeypatch.setattr(camera, "image", observed)
    small = dataclasses.replace(settings, cutout_px=256)
    result = await run_autofocus(camera, focuser, small)
    # The central 256 × 256 of the 1024 × 1024 binned sensor, the dark included.
    assert read == [(2, 384, 384, (256, 256))] * result.frames
    assert frame_of(await camera.state()) == before


@on_night()
async def test_an_error_mid_sweep_restores_the_camera_and_the_focuser(model,
                                                                      settings):
    camera, focuser = await rig(model, BEST + 300)
    before = frame_of(await camera.state())
    calls = 0

    def failing(data: np.ndarray) -> float:
        nonlocal calls
        calls += 1
        if calls == 4:
            raise RuntimeError("metric exploded")
        return brenner(data)

    with pytest.raises(RuntimeError, match="metric exploded"):
        await run_autofocus(camera, focuser, settings, metric=failing)
    assert frame_of(await camera.state()) == before
    assert (await focuser.state()).position == BEST + 300
    await camera.expose(0.1)  # the camera is idle and usable


@on_night()
async def test_cancelling_puts_the_focuser_back_and_restores_the_camera(model,
                                                                       settings):
    camera, focuser = await rig(model, BEST + 300)
    before = frame_of(await camera.state())
    bus = EventBus()
    with bus.subscribe("focus.progress") as progress:
        task = asyncio.ensure_future(run_autofocus(camera, focuser, settings, coarse=True,
                                                   events=bus))
        for _ in range(3):
            await asyncio.wait_for(progress.get(), timeout=30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert (await focuser.state()).position == BEST + 300
    assert frame_of(await camera.state()) == before
    await camera.expose(0.1)


# --- settings ------------------------------------------------------------------------


def test_settings_come_from_the_configuration(model, settings):
    cfg = model.observatory.autofocus
    assert settings.exposure_s == pytest.approx(cfg.exposure.to_value("s"))
    assert (settings.coarse_range, settings.coarse_step) == (cfg.coarse_range, cfg.coarse_step)
    assert (settings.fine_range, settings.fine_step) == (cfg.fine_range, cfg.fine_step)
    assert settings.cutout_px == cfg.cutout and settings.metric == cfg.metric
    assert settings.dark_frame is cfg.dark_frame and settings.plots is cfg.plots
    assert set(METRICS) == {"vollath_f4", "hfr", "fwhm"}
    with pytest.raises(InvalidValueError, match="no nonsense"):
        AutofocusSettings.from_config(cfg, nonsense=1)


@pytest.mark.parametrize(("field", "value"), [
    ("exposure_s", 0.0), ("exposure_s", float("nan")), ("exposure_s", "2"),
    ("coarse_step", 0), ("fine_step", -50), ("fine_step", 2.5), ("coarse_range", 600),
    ("fine_range", 99), ("cutout_px", 16), ("metric", "sharpness"), ("metric", 42),
    ("dark_frame", "yes"), ("plots", None),
])
def test_invalid_settings_name_the_field(settings, field, value):
    with pytest.raises(InvalidValueError, match=field):
        dataclasses.replace(settings, **{field: value})


def test_sweep_positions_are_symmetric_ascending_and_clipped():
    assert sweep_positions(1000, 400, 100, 60_000) == [800, 900, 1000, 1100, 1200]
    assert sweep_positions(1000, 450, 100, 60_000) == [800, 900, 1000, 1100, 1200]
    assert sweep_positions(100, 400, 100, 60_000) == [0, 100, 200, 300]
    assert sweep_positions(59_950, 400, 100, 60_000) == [59_750, 59_850, 59_950, 60_000]
