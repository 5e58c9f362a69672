"""Focus metrics on synthetic star fields: Vollath F4, half-flux radius, FWHM."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import erf

from nocturna.core.errors import InvalidValueError
from nocturna.images.metrics import (
    background_and_noise,
    detect_stars,
    focus_metrics,
    half_flux_radius,
    vollath_f4,
)

SHAPE = (300, 400)
BACKGROUND = 1000.0


def _render(stars, sigma, *, shape=SHAPE, noise=True, seed=0) -> np.ndarray:
    """Pixel-integrated Gaussian stars ``(x, y, flux)`` on a flat sky, Poisson noise."""
    height, width = shape
    image = np.full(shape, BACKGROUND)
    scale = math.sqrt(2.0) * sigma
    for x0, y0, flux in stars:
        reach = math.ceil(6 * sigma) + 2
        xs = np.arange(max(0, int(x0) - reach), min(width, int(x0) + reach + 1))
        ys = np.arange(max(0, int(y0) - reach), min(height, int(y0) + reach + 1))
        fx = 0.5 * (erf((xs + 0.5 - x0) / scale) - erf((xs - 0.5 - x0) / scale))
        fy = 0.5 * (erf((ys + 0.5 - y0) / scale) - erf((ys - 0.5 - y0) / scale))
        image[np.ix_(ys, xs)] += flux * np.outer(fy, fx)
    if noise:
        image = np.random.default_rng(seed).poisson(image).astype(np.float64)
    return image


def _field(count=30, seed=3):
    """Star positions on a grid (well separated) with a range of fluxes."""
    rng = np.random.default_rng(seed)
    xs, ys = np.meshgrid(np.linspace(40, SHAPE[1] - 40, 6), np.linspace(40, SHAPE[0] - 40, 5))
    jitter = rng.uniform(-3, 3, (2, xs.size))
    return [(float(x + dx), float(y + dy), float(rng.uniform(3e4, 2e5)))
            for x, y, dx, dy in zip(xs.ravel(), ys.ravel(), *jitter, strict=True)][:count]


def _sharp_and_blurred():
    stars = _field()
    return _render(stars, 1.5, seed=1), _render(stars, 3.0, seed=2)


def test_hfr_of_a_gaussian_star_is_sigma_sqrt_2_ln_2():
    sigma = 2.0
    hfr = half_flux_radius(_render([(200.3, 150.6, 2e5)], sigma))
    assert hfr == pytest.approx(sigma * math.sqrt(2 * math.log(2)), rel=0.05)


def test_fwhm_of_a_gaussian_star_is_2_sqrt_2_ln_2_sigma():
    sigma = 2.0
    metrics = focus_metrics(_render([(200.3, 150.6, 2e5)], sigma))
    assert metrics.fwhm_px == pytest.approx(2 * sigma * math.sqrt(2 * math.log(2)), rel=0.05)


def test_sharper_field_has_smaller_hfr():
    sharp, blurred = _sharp_and_blurred()
    assert half_flux_radius(sharp) < half_flux_radius(blurred)


def test_sharper_field_has_smaller_fwhm():
    sharp, blurred = _sharp_and_blurred()
    assert focus_metrics(sharp).fwhm_px < focus_metrics(blurred).fwhm_px


def test_sharper_field_has_larger_vollath_f4():
    sharp, blurred = _sharp_and_blurred()
    assert vollath_f4(sharp) > vollath_f4(blurred)


def test_vollath_f4_is_unchanged_by_gain_and_offset():
    image = _render(_field(), 2.0)
    assert vollath_f4(image * 3.7 + 500.0) == pytest.approx(vollath_f4(image), rel=1e-9)


def test_vollath_f4_of_a_flat_image_is_zero():
    assert vollath_f4(np.full((50, 60), 1234, dtype=np.uint16)) == 0.0


def test_vollath_f4_is_the_same_for_integer_and_float_pixels():
    image = _render(_field(), 2.0)
    assert vollath_f4(image.astype(np.uint16)) == pytest.approx(vollath_f4(image), rel=1e-12)


def test_vollath_f4_spans_row_blocks_without_seams():
    image = _render(_field(), 2.0, shape=(1100, 400))
    tall = vollath_f4(image)
    import nocturna.images.metrics as metrics

    block, metrics._ROW_BLOCK = metrics._ROW_BLOCK, 10_000
    try:
        assert vollath_f4(image) == pytest.approx(tall, rel=1e-12)
    finally:
        metrics._ROW_BLOCK = block


def test_detected_stars_are_at_the_rendered_positions():
    stars = _field()
    found = detect_stars(_render(stars, 1.5))
    assert len(found) == len(stars)
    for star in found:
        nearest = min(math.hypot(star.x - x, star.y - y) for x, y, _ in stars)
        assert nearest < 0.1


def test_star_flux_is_measured_above_the_background():
    found = detect_stars(_render([(200.3, 150.6, 1e5)], 2.0, noise=False))
    assert found[0].flux == pytest.approx(1e5, rel=0.01)


def test_hot_pixels_are_not_taken_for_stars():
    image = _render([], 1.0)
    image[[50, 120, 200], [60, 300, 10]] = 60000.0
    assert detect_stars(image) == []


def test_saturated_stars_are_skipped():
    image = _render([(200.0, 150.0, 5e6), (100.0, 100.0, 5e4)], 1.5)
    found = detect_stars(np.minimum(image, 65535.0), saturation=65535.0)
    assert [(round(s.x), round(s.y)) for s in found] == [(100, 100)]


def test_stars_cut_by_the_edge_are_skipped():
    assert detect_stars(_render([(1.0, 150.0, 2e5)], 2.0)) == []


def test_blended_pair_is_skipped():
    assert detect_stars(_render([(200.0, 150.0, 1e5), (207.0, 150.0, 1e5)], 2.0)) == []


def test_frame_without_stars_has_no_hfr_or_fwhm():
    metrics = focus_metrics(_render([], 1.0))
    assert (metrics.hfr_px, metrics.fwhm_px, metrics.star_count) == (None, None, 0)


def test_nan_pixels_do_not_break_the_metrics():
    image = _render(_field(), 1.5)
    image[10:20, 10:20] = np.nan
    metrics = focus_metrics(image)
    assert math.isfinite(metrics.vollath_f4) and metrics.star_count == len(_field())


def test_background_and_noise_of_a_poisson_sky():
    level, noise = background_and_noise(_render([], 1.0))
    assert level == pytest.approx(BACKGROUND, abs=2.0)
    assert noise == pytest.approx(math.sqrt(BACKGROUND), rel=0.05)


def test_a_one_dimensional_array_is_refused():
    with pytest.raises(InvalidValueError, match="2-D"):
        vollath_f4(np.ones(100))
