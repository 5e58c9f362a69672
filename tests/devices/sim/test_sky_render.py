"""The simulated sky's frame renderer: geometry, PSF, background, noise, sensor defects."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from nocturna.core.errors import InvalidValueError
from nocturna.devices.sim.sky.background import sky_brightness, sky_rate_e_per_s_per_px
from nocturna.devices.sim.sky.catalog import StarCatalog, load_catalog
from nocturna.devices.sim.sky.render import (
    FrameSpec,
    StutteredFrame,
    dark_current,
    defocus_fwhm,
    read_out,
    render_frame,
    render_stuttered,
    stamp_stars,
    steps_per_px,
)
from nocturna.images.wcs import tan_wcs

BETELGEUSE = -27989  # Hipparcos-only star: source_id = -HIP
BARNARD = 4472832130942575872
SCALE = 9.98  # arcsec per pixel of the default spec (9 µm at 186 mm)


@pytest.fixture(scope="module")
def catalog() -> StarCatalog:
    return load_catalog()


def _night(**changes) -> FrameSpec:
    """A 2 s night frame of a 1024 × 1024 sensor at ~10"/px."""
    base = FrameSpec(time=2026.5, exposure_s=2.0, width=1024, height=1024,
                     background_e_per_s_per_px=4.0, dark_current_e_per_s=0.01)
    return replace(base, **changes)


def _centroid(data: np.ndarray, x: float, y: float, half: int = 8) -> tuple[float, float]:
    """Background-subtracted intensity centroid in a box around (x, y)."""
    x0, y0 = round(x), round(y)
    box = data[y0 - half:y0 + half + 1, x0 - half:x0 + half + 1].astype(np.float64)
    edge = np.concatenate([box[0], box[-1], box[:, 0], box[:, -1]])
    signal = np.clip(box - np.median(edge), 0.0, None)
    yy, xx = np.mgrid[y0 - half:y0 + half + 1, x0 - half:x0 + half + 1]
    return float((signal * xx).sum() / signal.sum()), float((signal * yy).sum() / signal.sum())


def _moment_fwhm(frame, spec: FrameSpec, x: float, y: float, half: int) -> float:
    """FWHM (px) of a star from its second moments above the known background level."""
    x0, y0 = round(x), round(y)
    box = frame.data[y0 - half:y0 + half + 1, x0 - half:x0 + half + 1].astype(np.float64)
    signal = box - spec.bias_adu - frame.background_e / spec.gain_e_per_adu
    yy, xx = np.mgrid[y0 - half:y0 + half + 1, x0 - half:x0 + half + 1]
    total = signal.sum()
    cx, cy = (signal * xx).sum() / total, (signal * yy).sum() / total
    var = ((signal * ((xx - cx) ** 2 + (yy - cy) ** 2)).sum() / total) / 2 - 1 / 12
    return 2.3548 * math.sqrt(var)


def _isolated_star(frame, *, mag_range=(6.0, 7.5), clearance=30.0):
    """Index of a star in ``mag_range`` with no other star within ``clearance`` px."""
    stars = frame.stars
    ny, nx = frame.data.shape
    for i in np.argsort(stars.mag):
        if not mag_range[0] <= stars.mag[i] <= mag_range[1]:
            continue
        x, y = stars.x[i], stars.y[i]
        if not (clearance < x < nx - clearance and clearance < y < ny - clearance):
            continue
        distance = np.hypot(stars.x - x, stars.y - y)
        if np.sum(distance < clearance) == 1:
            return int(i)
    raise AssertionError("no isolated star in the frame")


def _betelgeuse_spec(catalog, **changes) -> tuple[FrameSpec, float, float]:
    star = catalog.star(BETELGEUSE, epoch_jyear=2026.5)
    assert star.mag[0] < 0.5  # it is Betelgeuse (G ≈ 0)
    spec = _night(ra_deg=star.ra_deg[0] + 0.7, dec_deg=star.dec_deg[0] - 0.5, **changes)
    return spec, float(star.ra_deg[0]), float(star.dec_deg[0])


@pytest.mark.parametrize("changes", [
    {},
    {"rotation_deg": 37.0},
    {"binning": 2},
    {"rotation_deg": -120.0, "binning": 2},
    {"start_x": 700, "start_y": 600, "num_x": 200, "num_y": 250},
    {"binning": 2, "start_x": 300, "start_y": 250, "num_x": 150, "num_y": 200},
], ids=["plain", "rotated", "binned", "rotated-binned", "subframe", "binned-subframe"])
def test_bright_star_lands_at_the_pixel_the_wcs_predicts(catalog, changes):
    spec, ra, dec = _betelgeuse_spec(catalog, **changes)
    frame = render_frame(spec, 1, catalog=catalog)
    x, y = frame.wcs.wcs_world2pix(ra, dec, 0)
    ny, nx = frame.data.shape
    assert 10 < x < nx - 10 and 10 < y < ny - 10
    cx, cy = _centroid(frame.data, float(x), float(y))
    assert math.hypot(cx - x, cy - y) < 2.0
    assert BETELGEUSE in frame.stars.source_id


def test_frame_at_the_celestial_pole_places_polaris_where_the_wcs_predicts(catalog):
    polaris = catalog.star(-11767, epoch_jyear=2026.5)  # HIP 11767
    assert polaris.mag[0] < 2.5
    frame = render_frame(_night(ra_deg=200.0, dec_deg=89.9, rotation_deg=10.0), 1,
                         catalog=catalog)
    x, y = frame.wcs.wcs_world2pix(polaris.ra_deg[0], polaris.dec_deg[0], 0)
    cx, cy = _centroid(frame.data, float(x), float(y))
    assert math.hypot(cx - x, cy - y) < 2.0
    assert len(frame.stars) > 50


def test_frame_wcs_is_the_tan_wcs_of_the_pointing():
    spec = _night(ra_deg=84.0, dec_deg=-2.0, rotation_deg=15.0)
    frame = render_frame(spec, 1, catalog=load_catalog())
    reference = tan_wcs(84.0, -2.0, scale_arcsec=spec.scale_arcsec, width=1024, height=1024,
                        rotation_deg=15.0)
    assert np.allclose(frame.wcs.wcs.crpix, reference.wcs.crpix)
    assert np.allclose(frame.wcs.wcs.cd, reference.wcs.cd)
    assert np.allclose(frame.wcs.wcs.crval, reference.wcs.crval)


def test_north_is_up_and_east_is_left_at_rotation_zero(catalog):
    spec, ra, dec = _betelgeuse_spec(catalog)
    frame = render_frame(spec, 1, catalog=catalog)
    x, y = frame.wcs.wcs_world2pix(ra, dec, 0)
    # The star is 0.5° north of and 0.7° (in RA) west of the pointing.
    assert y - 511.5 == pytest.approx(0.5 * 3600 / SCALE, rel=0.01)
    assert x - 511.5 == pytest.approx(0.7 * math.cos(math.radians(dec)) * 3600 / SCALE,
                                      rel=0.01)


def test_rotation_of_90_degrees_puts_east_up(catalog):
    spec, ra, dec = _betelgeuse_spec(catalog, rotation_deg=90.0)
    frame = render_frame(spec, 1, catalog=catalog)
    x, y = frame.wcs.wcs_world2pix(ra, dec, 0)
    cx, cy = _centroid(frame.data, float(x), float(y))
    assert cy < 511.5 - 200  # the star lies west of the pointing: down
    assert cx > 511.5 + 150  # and north: right


def test_binned_frame_has_the_unbinned_geometry_halved(catalog):
    spec = _night(ra_deg=84.0, dec_deg=-2.0)
    one = render_frame(spec, 1, catalog=catalog)
    two = render_frame(replace(spec, binning=2), 1, catalog=catalog)
    common, i1, i2 = np.intersect1d(one.stars.source_id, two.stars.source_id,
                                    return_indices=True)
    assert common.size > 50
    assert np.allclose((one.stars.x[i1] + 0.5) / 2 - 0.5, two.stars.x[i2], atol=1e-6)
    assert np.allclose((one.stars.y[i1] + 0.5) / 2 - 0.5, two.stars.y[i2], atol=1e-6)


def test_subframe_stars_are_the_full_frame_stars_shifted(catalog):
    spec = _night(ra_deg=84.0, dec_deg=-2.0)
    full = render_frame(spec, 1, catalog=catalog)
    sub = render_frame(replace(spec, start_x=100, start_y=300, num_x=400, num_y=500), 1,
                       catalog=catalog)
    assert sub.data.shape == (500, 400)
    common, i_full, i_sub = np.intersect1d(full.stars.source_id, sub.stars.source_id,
                                           return_indices=True)
    assert common.size == len(sub.stars) > 10
    assert np.allclose(full.stars.x[i_full] - 100, sub.stars.x[i_sub])
    assert np.allclose(full.stars.y[i_full] - 300, sub.stars.y[i_sub])


def test_star_signal_in_the_image_matches_its_expected_flux(catalog):
    spec = _night(ra_deg=84.0, dec_deg=-2.0, hot_pixel_fraction=0.0)
    frame = render_frame(spec, 1, catalog=catalog)
    i = _isolated_star(frame)
    x0, y0 = round(frame.stars.x[i]), round(frame.stars.y[i])
    box = frame.data[y0 - 10:y0 + 11, x0 - 10:x0 + 11].astype(np.float64)
    signal = (box - spec.bias_adu - frame.background_e).sum() * spec.gain_e_per_adu
    assert signal == pytest.approx(frame.stars.flux_e[i], rel=0.03)


def test_defocused_stars_are_measurably_wider(catalog):
    best = 2.0
    sharp_spec = _night(ra_deg=84.0, dec_deg=-2.0, psf_fwhm_px=best)
    blurred_fwhm = defocus_fwhm(best, 2000, steps_per_px=250.0)
    blurred_spec = replace(sharp_spec, psf_fwhm_px=blurred_fwhm)
    sharp = render_frame(sharp_spec, 1, catalog=catalog)
    blurred = render_frame(blurred_spec, 2, catalog=catalog)
    i = _isolated_star(sharp)
    x, y = sharp.stars.x[i], sharp.stars.y[i]
    measured_sharp = _moment_fwhm(sharp, sharp_spec, x, y, half=12)
    measured_blurred = _moment_fwhm(blurred, blurred_spec, x, y, half=20)
    assert measured_sharp == pytest.approx(best, rel=0.15)
    assert measured_blurred == pytest.approx(blurred_fwhm, rel=0.15)
    assert measured_blurred > 3 * measured_sharp


def test_dark_frame_has_no_stars(catalog):
    spec, _, _ = _betelgeuse_spec(catalog, light=False, hot_pixel_fraction=0.0)
    frame = render_frame(spec, 1, catalog=catalog)
    noise = math.sqrt(spec.read_noise_e**2 + frame.background_e)
    assert len(frame.stars) == 0
    assert frame.data.max() < spec.bias_adu + frame.background_e + 7 * noise


def test_dark_frame_mean_grows_with_exposure_time():
    spec = _night(light=False, dark_current_e_per_s=0.5)
    short = render_frame(replace(spec, exposure_s=10.0), 1)
    long = render_frame(replace(spec, exposure_s=300.0), 1)
    assert np.median(long.data) - np.median(short.data) == pytest.approx(145.0, abs=3.0)
    assert long.data.mean() > short.data.mean() + 140


def _sky_rate(mag: float) -> float:
    return sky_rate_e_per_s_per_px(mag, aperture_mm=66.0, pixel_scale_arcsec=SCALE)


def test_twilight_frame_is_brighter_than_a_night_frame():
    twilight = render_frame(_night(background_e_per_s_per_px=_sky_rate(sky_brightness(-8.0))), 1)
    night = render_frame(_night(background_e_per_s_per_px=_sky_rate(sky_brightness(-30.0))), 1)
    assert np.median(twilight.data) > 10 * np.median(night.data)


def test_moonlit_frame_near_the_moon_is_brighter_than_far_from_it():
    near = sky_brightness(-30.0, 40.0, 0.8, 12.0, 1.3)
    far = sky_brightness(-30.0, 40.0, 0.8, 120.0, 1.3)
    near_frame = render_frame(_night(background_e_per_s_per_px=_sky_rate(near)), 1)
    far_frame = render_frame(_night(background_e_per_s_per_px=_sky_rate(far)), 1)
    assert np.median(near_frame.data) > np.median(far_frame.data) + 20


def test_saturation_clips_at_max_adu(catalog):
    spec, _, _ = _betelgeuse_spec(catalog, exposure_s=30.0, max_adu=4095)
    frame = render_frame(spec, 1, catalog=catalog)
    assert frame.data.max() == 4095
    assert np.count_nonzero(frame.data == 4095) > 20


def test_saturated_star_core_sits_at_the_full_well(catalog):
    spec, _, _ = _betelgeuse_spec(catalog, full_well_e=20_000.0, gain_e_per_adu=1.0,
                                  bias_adu=100.0)
    frame = render_frame(spec, 1, catalog=catalog)
    assert frame.data.max() == 20_100
    assert np.count_nonzero(frame.data == 20_100) > 5


def _hot(frame, spec) -> set[tuple[int, int]]:
    ys, xs = np.nonzero(frame.data > spec.bias_adu + 60)
    return set(zip(xs.tolist(), ys.tolist(), strict=True))


def test_hot_pixels_are_at_the_same_positions_in_two_frames():
    spec = _night(light=False, exposure_s=60.0, dark_current_e_per_s=0.05, sensor_seed=7)
    first, second = render_frame(spec, 1), render_frame(spec, 2)
    assert not np.array_equal(first.data, second.data)
    hot = _hot(first, spec)
    assert len(hot) > 20
    assert hot == _hot(second, spec)


def test_another_sensor_has_its_hot_pixels_elsewhere():
    spec = _night(light=False, exposure_s=60.0, dark_current_e_per_s=0.05, sensor_seed=7)
    other = replace(spec, sensor_seed=8)
    assert not _hot(render_frame(spec, 1), spec) & _hot(render_frame(other, 1), other)


def test_proper_motion_moves_a_fast_star_across_the_frame(catalog):
    star = catalog.star(BARNARD)
    spec = _night(ra_deg=float(star.ra_deg[0]), dec_deg=float(star.dec_deg[0]) - 0.3,
                  exposure_s=5.0)
    then = render_frame(replace(spec, time=2016.0), 1, catalog=catalog)
    later = render_frame(replace(spec, time=2036.0), 1, catalog=catalog)
    x0, y0 = then.wcs.wcs_world2pix(star.ra_deg[0], star.dec_deg[0], 0)
    cx0, cy0 = _centroid(then.data, float(x0), float(y0))
    cx1, cy1 = _centroid(later.data, float(x0), float(y0) + 20.8, half=10)
    expected_px = 20 * math.hypot(-801.551, 10362.394) / 1000 / SCALE
    assert math.hypot(cx1 - cx0, cy1 - cy0) == pytest.approx(expected_px, abs=0.3)


def test_same_seed_gives_the_same_frame(catalog):
    spec = _night(ra_deg=84.0, dec_deg=-2.0)
    first = render_frame(spec, 42, catalog=catalog)
    again = render_frame(spec, 42, catalog=catalog)
    other = render_frame(spec, 43, catalog=catalog)
    assert np.array_equal(first.data, again.data)
    assert not np.array_equal(first.data, other.data)


def test_frame_data_is_uint16_of_the_subframe_shape(catalog):
    frame = render_frame(_night(binning=2, start_x=10, start_y=20, num_x=300, num_y=200), 1,
                         catalog=catalog)
    assert frame.data.dtype == np.uint16
    assert frame.data.shape == (200, 300)
    assert frame.wcs.pixel_shape == (300, 200)
    assert frame.full_wcs.pixel_shape == (512, 512)


def test_uniform_background_has_shot_and_read_noise():
    rng = np.random.default_rng(0)
    data = read_out(50.0, np.zeros((1000, 1000), np.float32), read_noise_e=3.0,
                    gain_e_per_adu=1.0, bias_adu=100.0, full_well_e=50_000.0, max_adu=65535,
                    rng=rng).astype(np.float64)
    assert data.mean() == pytest.approx(150.0, abs=0.05)
    assert data.var() == pytest.approx(50.0 + 9.0 + 1 / 12, rel=0.01)


@pytest.mark.parametrize(("lam", "read_noise", "gain"), [
    (0.02, 1.2, 1.0), (2.5, 1.5, 0.8), (40.0, 0.0, 2.0), (3000.0, 5.0, 1.5)])
def test_background_sampling_matches_direct_poisson_and_gaussian_draws(lam, read_noise, gain):
    n = 1_000_000
    table = read_out(lam, np.zeros(n, np.float32), read_noise_e=read_noise,
                     gain_e_per_adu=gain, bias_adu=10.0, full_well_e=1e6, max_adu=65535,
                     rng=np.random.default_rng(1))
    rng = np.random.default_rng(2)
    electrons = rng.poisson(lam, n) + read_noise * rng.standard_normal(n)
    direct = np.clip(np.floor(electrons / gain + 10.0 + 0.5), 0, 65535)
    values = np.arange(min(table.min(), direct.min()), max(table.max(), direct.max()) + 2)
    cdf_table = np.searchsorted(np.sort(table), values, side="right") / n
    cdf_direct = np.searchsorted(np.sort(direct), values, side="right") / n
    assert np.max(np.abs(cdf_table - cdf_direct)) < 0.003  # Kolmogorov-Smirnov


def test_stamped_star_keeps_its_flux_and_centre():
    image = np.zeros((60, 60), np.float32)
    stamp_stars(image, [20.3], [30.7], [1e5], 1.5)
    yy, xx = np.mgrid[:60, :60]
    assert image.sum() == pytest.approx(1e5, rel=1e-4)
    assert (image * xx).sum() / image.sum() == pytest.approx(20.3, abs=0.005)
    assert (image * yy).sum() / image.sum() == pytest.approx(30.7, abs=0.005)


def test_star_partly_off_the_edge_is_stamped_in_part():
    image = np.zeros((40, 40), np.float32)
    stamp_stars(image, [-0.5, 39.5], [20.0, 39.5], [1000.0, 1000.0], 3.0)  # on an edge, a corner
    assert image.sum() == pytest.approx(500.0 + 250.0, rel=1e-3)


def test_defocus_adds_blur_in_quadrature():
    assert defocus_fwhm(2.0, -2000, 250.0) == pytest.approx(math.hypot(2.0, 8.0))
    assert steps_per_px(step_um=5.0, focal_ratio=2.8, pixel_size_um=9.0) == pytest.approx(5.04)


def test_dark_current_doubles_every_doubling_interval():
    assert dark_current(6.3, ref_e_per_s=0.1, ref_temp_c=0.0) == pytest.approx(0.2)
    assert dark_current(-12.6, ref_e_per_s=0.1, ref_temp_c=0.0) == pytest.approx(0.025)


def test_subframe_outside_the_sensor_is_refused():
    with pytest.raises(InvalidValueError, match="subframe"):
        FrameSpec(width=1024, height=1024, binning=2, start_x=400, num_x=200)


# --- stuttered (charge-shift) frames ----------------------------------------------------


def _stutter_spec(**changes) -> FrameSpec:
    """1 s segments of the 1024 × 1024 night frame in Orion, no hot pixels."""
    return _night(**{"ra_deg": 84.0, "dec_deg": -2.0, "exposure_s": 1.0,
                     "hot_pixel_fraction": 0.0, **changes})


def _isolated_stuttered_star(stars, shape: tuple[int, int], n_shift: int, row_shift: int, *,
                             mag_range=(4.0, 8.0), clearance: float = 15.0) -> int:
    """A star whose ``n_shift`` copies fall on the frame clear of every other copy."""
    ny, nx = shape
    steps = np.arange(-(n_shift - 1), n_shift) * row_shift
    for i in np.argsort(stars.mag):
        x, y = stars.x[i], stars.y[i]
        if not (mag_range[0] <= stars.mag[i] <= mag_range[1] and clearance < x < nx - clearance
                and clearance + (n_shift - 1) * row_shift < y < ny - clearance):
            continue
        dy = np.abs((stars.y - y)[:, None] + steps[None, :]).min(axis=1)
        near = (np.abs(stars.x - x) < clearance) & (dy < clearance)
        if np.sum(near) == 1:
            return int(i)
    raise AssertionError("no star whose copies are isolated")


def _box_signal_e(data: np.ndarray, spec: FrameSpec, background_e: float, x: float, y: float,
                  half: int = 10) -> float:
    x0, y0 = round(x), round(y)
    box = data[y0 - half:y0 + half + 1, x0 - half:x0 + half + 1].astype(np.float64)
    return float((box - spec.bias_adu - background_e / spec.gain_e_per_adu).sum()
                 * spec.gain_e_per_adu)


def test_stuttered_frame_shows_each_star_once_per_segment_row_shift_apart(catalog):
    spec, n_shift, row_shift = _stutter_spec(), 3, 60
    frame = render_stuttered([spec] * n_shift, row_shift, 1, catalog=catalog)
    single = render_frame(spec, 2, catalog=catalog)
    assert np.allclose(frame.stars.x, single.stars.x)  # stars: the unshifted copy
    assert np.allclose(frame.stars.y, single.stars.y)
    i = _isolated_stuttered_star(frame.stars, frame.data.shape, n_shift, row_shift)
    x, y = float(frame.stars.x[i]), float(frame.stars.y[i])
    for copy in range(n_shift):
        cx, cy = _centroid(frame.data, x, y - copy * row_shift)
        assert math.hypot(cx - x, cy - (y - copy * row_shift)) < 0.3
        signal = _box_signal_e(frame.data, spec, frame.background_e, x, y - copy * row_shift)
        assert signal == pytest.approx(frame.stars.flux_e[i], rel=0.05)
    # Halfway between two copies: background only.
    between = frame.data[round(y - row_shift / 2) - 3:round(y - row_shift / 2) + 4,
                         round(x) - 3:round(x) + 4].astype(np.float64)
    assert between.mean() < spec.bias_adu + frame.background_e + 10


def test_stuttered_background_is_the_sum_of_the_segments_except_where_rows_entered_empty():
    spec, n_shift, row_shift = _stutter_spec(light=False, dark_current_e_per_s=100.0), 4, 50
    frame = render_stuttered([spec] * n_shift, row_shift, 3)
    per_segment = 100.0 * 1.0
    assert frame.background_e == pytest.approx(n_shift * per_segment)
    rows = np.median(frame.data.astype(np.float64), axis=1) - spec.bias_adu
    height = frame.data.shape[0]
    # The top rows entered the sensor (empty) after the first shifts: the top
    # row_shift rows saw only the last segment, the next ones two segments, and so on.
    for seen in range(1, n_shift + 1):
        first = height - seen * row_shift if seen < n_shift else 0
        band = rows[first:height - (seen - 1) * row_shift]
        assert np.median(band) == pytest.approx(seen * per_segment, abs=3)


def test_stuttered_frame_total_charge_is_n_shift_times_one_segment(catalog):
    # A field without bright stars: nothing saturates in the stacked frame.
    spec, n_shift = _stutter_spec(ra_deg=20.0, dec_deg=10.0), 3
    single = render_frame(spec, 4, catalog=catalog)
    frame = render_stuttered([spec] * n_shift, 0, 5, catalog=catalog)  # no shift: stacked
    signal = (frame.data.astype(np.float64) - spec.bias_adu).sum()
    one = (single.data.astype(np.float64) - spec.bias_adu).sum()
    assert signal == pytest.approx(n_shift * one, rel=0.01)


def test_each_segment_keeps_its_own_psf(catalog):
    sharp, blurred = _stutter_spec(psf_fwhm_px=2.0), _stutter_spec(psf_fwhm_px=7.0)
    row_shift = 80
    frame = render_stuttered([blurred, sharp], row_shift, 6, catalog=catalog)
    i = _isolated_stuttered_star(frame.stars, frame.data.shape, 2, row_shift,
                                 mag_range=(6.0, 7.5), clearance=30.0)
    x, y = frame.stars.x[i], frame.stars.y[i]
    widths = [_moment_fwhm(frame, sharp, x, y - k * row_shift, half=half)
              for k, half in ((0, 12), (1, 20))]
    assert widths[0] == pytest.approx(2.0, rel=0.2)  # last segment: unshifted
    assert widths[1] == pytest.approx(7.0, rel=0.2)  # first segment: one shift down


def test_stars_above_a_subframe_are_shifted_into_it(catalog):
    full_spec, row_shift = _stutter_spec(), 100
    full = render_stuttered([full_spec] * 3, row_shift, 7, catalog=catalog)
    window = replace(full_spec, start_y=300, num_y=200)  # sensor rows 300..499
    sub = render_stuttered([window] * 3, row_shift, 7, catalog=catalog)
    assert sub.data.shape == (200, 1024)
    # A star above the window (rows 500..699 of the sensor) shows up shifted into it.
    above = np.flatnonzero((full.stars.y > 520) & (full.stars.y < 680)
                           & (full.stars.x > 20) & (full.stars.x < 1000)
                           & (full.stars.flux_e > 5e4))
    assert above.size
    i = int(above[np.argmax(full.stars.flux_e[above])])
    x, y = float(full.stars.x[i]), float(full.stars.y[i])
    copies = [y - k * row_shift - 300 for k in (1, 2) if 8 < y - k * row_shift - 300 < 192]
    assert copies
    for cy_expected in copies:
        cx, cy = _centroid(sub.data, x, cy_expected)
        assert math.hypot(cx - x, cy - cy_expected) < 1.0


def test_hot_pixels_leave_a_copy_per_segment():
    spec = _night(light=False, exposure_s=30.0, dark_current_e_per_s=0.05, sensor_seed=7)
    plain = render_frame(spec, 1)
    stuttered = render_stuttered([spec, spec], 200, 1)
    hot = sorted(_hot(plain, spec), key=lambda p: -int(plain.data[p[1], p[0]]))
    x, y = next((x, y) for x, y in hot if y >= 220)
    assert stuttered.data[y, x] > spec.bias_adu + 60
    assert stuttered.data[y - 200, x] > spec.bias_adu + 60


def test_one_segment_stuttered_frame_is_an_ordinary_frame(catalog):
    spec = _stutter_spec()
    one = render_stuttered([spec], 25, 8, catalog=catalog)
    plain = render_frame(spec, 8, catalog=catalog)
    assert np.array_equal(one.data, plain.data)


def test_same_specs_and_seed_give_the_same_stuttered_frame(catalog):
    specs = [_stutter_spec(psf_fwhm_px=fwhm) for fwhm in (2.0, 3.0, 4.0)]
    first = render_stuttered(specs, 30, 9, catalog=catalog)
    assert np.array_equal(first.data, render_stuttered(specs, 30, 9, catalog=catalog).data)


@pytest.mark.parametrize(("specs", "row_shift", "match"), [
    ([_stutter_spec()] * 4, 256, "do not fit"),
    ([_stutter_spec(), _stutter_spec(gain_e_per_adu=2.0)], 10, "gain_e_per_adu"),
    ([_stutter_spec(), _stutter_spec(binning=2)], 10, "binning"),
    ([_stutter_spec()] * 2, -1, "row_shift"),
    ([], 10, "at least one segment"),
])
def test_inconsistent_stuttered_frames_are_refused(specs, row_shift, match):
    with pytest.raises(InvalidValueError, match=match):
        render_stuttered(specs, row_shift, 1)


def test_segments_may_be_added_out_of_order_and_read_out_once_complete(catalog):
    specs = [_stutter_spec(psf_fwhm_px=fwhm) for fwhm in (2.0, 3.0)]
    frame = StutteredFrame(2, 40, catalog=catalog)
    frame.add(1, specs[1])
    with pytest.raises(InvalidValueError, match="missing"):
        frame.read_out(1)
    frame.add(0, specs[0])
    assert np.array_equal(frame.read_out(1).data,
                          render_stuttered(specs, 40, 1, catalog=catalog).data)
