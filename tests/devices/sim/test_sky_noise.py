"""Noise statistics of the simulated frames, pinned for fixed seeds.

The renderer draws the uniform background from a tabulated ADU distribution and the
pixels that receive star light one by one; these tests hold both paths to the physics
(Poisson shot noise on all the charge, Gaussian read noise, rounding to ADU) so that a
change made for speed cannot quietly change what the frames say.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from nocturna.devices.sim.sky.catalog import StarCatalog, load_catalog
from nocturna.devices.sim.sky.render import FrameSpec, read_out, render_frame, stamp_stars

BETELGEUSE = -27989  # Hipparcos-only star: source_id = -HIP


@pytest.fixture(scope="module")
def catalog() -> StarCatalog:
    return load_catalog()


def _adu_pmf(values: np.ndarray, lam: float, read_noise: float, gain: float,
             bias: float) -> np.ndarray:
    """P(ADU = v): ADU = floor((Poisson(lam) + Normal(0, read_noise)) / gain + bias + 0.5)."""
    lo = gain * (values - 0.5 - bias)
    hi = gain * (values + 0.5 - bias)
    k_max = int(lam + 12 * math.sqrt(lam) + 12)
    pmf = np.zeros(values.size)
    for k in range(k_max + 1):
        weight = math.exp(k * math.log(lam) - lam - math.lgamma(k + 1)) if lam > 0 else \
            float(k == 0)
        if weight == 0.0:
            continue
        if read_noise == 0:
            pmf += weight * ((lo <= k) & (k < hi))
        else:
            cdf = np.vectorize(lambda e, k=k: 0.5 * math.erfc(-(e - k) / (read_noise * 2**0.5)))
            pmf += weight * (cdf(hi) - cdf(lo))
    return pmf


@pytest.mark.parametrize(("lam", "read_noise", "gain"), [
    (0.0, 0.348, 1.0),  # one value has probability 8e-6, below a 16-bit bin (1.5e-5)
    (0.02, 1.2, 1.0),  # a short exposure: read noise dominates
    (2.5, 0.0, 1.0),  # pure Poisson
    (40.0, 3.0, 2.0),
])
def test_background_adu_counts_follow_the_exact_distribution(lam, read_noise, gain):
    n = 1 << 22  # a 2048 × 2048 frame
    data = read_out(lam, np.zeros(n, np.float32), read_noise_e=read_noise,
                    gain_e_per_adu=gain, bias_adu=100.0, full_well_e=1e6, max_adu=65535,
                    rng=np.random.default_rng(11))
    values, observed = np.unique(data, return_counts=True)
    span = np.arange(int(values.min()) - 3, int(values.max()) + 4)
    expected = n * _adu_pmf(span.astype(np.float64), lam, read_noise, gain, 100.0)
    counts = np.zeros(span.size)
    counts[np.searchsorted(span, values)] = observed
    tested = expected >= 10
    assert tested.sum() >= 3
    # Every value within 5 sigma of its expected count, and chi-square consistent.
    assert np.all(np.abs(counts - expected)[tested] <= 5 * np.sqrt(expected[tested]))
    chi2 = float(((counts - expected)[tested] ** 2 / expected[tested]).sum())
    dof = int(tested.sum())
    assert chi2 < dof + 5 * math.sqrt(2 * dof)
    # Nothing where the distribution has (almost) no probability.
    assert counts[expected < 1e-3].sum() == 0


@pytest.mark.parametrize("bit_generator", [np.random.MT19937, np.random.Philox])
def test_background_draws_are_right_whatever_the_bit_generator(bit_generator):
    """MT19937 gives 32 random bits per raw word, the others 64: both sample alike."""
    n = 1 << 20
    data = read_out(0.02, np.zeros(n, np.float32), read_noise_e=1.2, gain_e_per_adu=1.0,
                    bias_adu=100.0, full_well_e=1e6, max_adu=65535,
                    rng=np.random.Generator(bit_generator(3)))
    span = np.arange(90, 111)
    expected = n * _adu_pmf(span.astype(np.float64), 0.02, 1.2, 1.0, 100.0)
    counts = np.bincount(data, minlength=65536)[span]
    tested = expected >= 10
    assert np.all(np.abs(counts - expected)[tested] <= 5 * np.sqrt(expected[tested]))
    assert counts.sum() == n


@pytest.mark.parametrize(("sky_e", "read_noise", "gain"), [
    (0.006, 3.5, 1.0),  # 1 ms on the night sky (the dead-time benchmark's frames)
    (200.0, 3.0, 1.0),
    (5000.0, 5.0, 2.0),  # above 1000 e⁻: the Gaussian limit of the shot noise
    (30000.0, 3000.0, 1.0),  # ±12 sigma spans every uint16: no spare value marks bins
])
def test_sky_mean_and_variance(sky_e, read_noise, gain):
    spec = FrameSpec(exposure_s=1.0, stars=False, width=512, height=512,
                     background_e_per_s_per_px=sky_e, read_noise_e=read_noise,
                     gain_e_per_adu=gain, bias_adu=300.0, full_well_e=1e6,
                     hot_pixel_fraction=0.0)
    data = render_frame(spec, 5).data.astype(np.float64)
    n = data.size
    mean = 300.0 + sky_e / gain
    variance = (sky_e + read_noise**2) / gain**2 + 1 / 12  # rounding to ADU adds 1/12
    assert abs(data.mean() - mean) < 5 * math.sqrt(variance / n)
    assert abs(data.var() - variance) < 5 * variance * math.sqrt(2 / n)


@pytest.mark.parametrize(("fwhm_px", "gain"), [(2.0, 1.0), (12.0, 1.0), (2.0, 1.7)],
                         ids=["focused", "defocused", "gain-1.7"])
def test_bright_star_pixels_have_poisson_and_read_noise(catalog, fwhm_px, gain):
    """Each pixel of a bright star: mean = bias + expected charge / gain, variance =
    (charge + read noise²) / gain² + 1/12, over 200 seeded frames of a 64 × 64 window
    around the star.

    A focused star's pixels are found from its stamp, a defocused star covers so much of
    the window that the renderer scans for them; at 1 e⁻/ADU the star's photons are
    added to the background's draw, at another gain the pixel is drawn afresh: all
    are held to the same numbers.
    """
    star = catalog.star(BETELGEUSE, epoch_jyear=2026.5)
    base = FrameSpec(time=2026.5, exposure_s=0.002, width=1024, height=1024,
                     ra_deg=float(star.ra_deg[0]), dec_deg=float(star.dec_deg[0]),
                     psf_fwhm_px=fwhm_px, mag_limit=4.0, background_e_per_s_per_px=500.0,
                     read_noise_e=3.0, gain_e_per_adu=gain, bias_adu=300.0,
                     hot_pixel_fraction=0.0)
    spec = replace(base, start_x=480, start_y=480, num_x=64, num_y=64)
    frames = [render_frame(spec, seed, catalog=catalog) for seed in range(200)]
    stars = frames[0].stars
    assert list(stars.source_id) == [BETELGEUSE]
    assert 8 < stars.x[0] < 56 and 8 < stars.y[0] < 56
    charge = np.zeros((64, 64))
    stamp_stars(charge, stars.x, stars.y, stars.flux_e, fwhm_px)
    charge += frames[0].background_e
    star_pixels = charge > 2 * frames[0].background_e
    assert star_pixels.sum() >= 9 and charge.max() < 0.8 * spec.full_well_e
    data = np.stack([f.data for f in frames]).astype(np.float64)[:, star_pixels]
    expected = 300.0 + charge[star_pixels] / gain
    variance = (charge[star_pixels] + 3.0**2) / gain**2 + 1 / 12
    z = (data - expected) / np.sqrt(variance)
    assert abs(z.mean()) < 5 / math.sqrt(z.size)
    assert abs(z.var() - 1.0) < 5 * math.sqrt(2 / z.size)
    # The total signal of the star over the frames, as in aperture photometry.
    signal = data.sum(axis=1) - expected.sum()
    assert abs(signal.mean()) < 5 * math.sqrt(variance.sum() / len(frames))
