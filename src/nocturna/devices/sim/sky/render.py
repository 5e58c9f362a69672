"""Render what a camera on a telescope sees: stars, sky, dark current, hot pixels, noise.

:func:`render_frame` is a pure function of a :class:`FrameSpec` and a random
generator. Geometry comes from :func:`nocturna.images.wcs.tan_wcs`, so the header WCS
built with the same function matches the rendered sky exactly. Pixel coordinates are
0-based numpy ones (``data[y, x]``, pixel centres on integers); FITS adds 1.

Signal model, in electrons per binned pixel:

* stars: catalog stars (G ≤ 10) at the exposure's epoch, flux from
  :func:`~nocturna.devices.sim.sky.background.star_rate_e_per_s`, Gaussian PSF of
  ``psf_fwhm_px`` (unbinned pixels) integrated over each pixel (erf differences, a
  separable outer product per star), stamped in a box sized for each star's flux;
* sky ``background_e_per_s_per_px`` and ``dark_current_e_per_s`` (per unbinned pixel),
  uniform over the frame (``stars=False``: that uniform light only, e.g. a flat panel
  in front of the aperture); hot pixels: a fixed set per sensor (``sensor_seed``) whose
  dark current is ``hot_pixel_factor`` × the sensor's;
* binning sums the charge of ``binning``² pixels before one read (CCD-like: one read
  noise per binned pixel); a binned pixel holds ``binning``² × ``full_well_e``.

Noise is exact: Poisson shot noise on everything, Gaussian read noise, then ADU =
round(min(e, full well) / gain + bias) clipped to [0, max_adu]. It is also fast: the
uniform background's ADU distribution (Poisson ⊗ Gaussian, rounded and clipped) is the
same for every pixel, so it is tabulated once per frame and sampled with 16 random
bits per pixel (four per 64-bit word of the generator) through a 65,536-entry
inverse-CDF table; the pixels whose bin straddles a step of the CDF (~0.1 %) are
redrawn exactly inside their bin. Pixels that receive star light or hot-pixel current
(a small fraction, known from the stamps) add Poisson(extra) electrons to that draw
(shot noise is additive): at 1 e⁻/ADU as whole ADU, at other gains by drawing the
pixels that got any afresh (Poisson(background) + electrons + read noise). Above
1000 e⁻ of background the Poisson part of the table is its Gaussian limit.

Stuttered (charge-shift) frames, :func:`render_stuttered` / :class:`StutteredFrame`:
several exposure segments on one sensor, the charge shifted toward row 0 between them,
one read-out at the end; each segment's stars and hot pixels land shifted by the rows
moved after it, the background is exact per row (rows that entered the sensor at the
top after a shift collected fewer segments).
"""

from __future__ import annotations

import math
import threading
import time as _time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import numpy as np
from astropy.wcs import WCS

from nocturna.core.errors import InvalidValueError
from nocturna.devices.sim.sky.background import star_rate_e_per_s
from nocturna.devices.sim.sky.catalog import StarCatalog, julian_year, load_catalog
from nocturna.images.wcs import frame_wcs, plate_scale_arcsec

FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))
_LUT_BITS = 16
_POISSON_EXACT_MAX = 1000.0
_MAX_TABLE_ELEMENTS = 4_000_000
_CHUNK = 1 << 18  # pixels drawn at a time (a multiple of 4)
# Bit generators whose raw output is 64 random bits (MT19937's is 32 in a uint64).
_RAW_64_BITS = (np.random.PCG64, np.random.PCG64DXSM, np.random.Philox, np.random.SFC64)


def dark_current(temp_c: float, ref_e_per_s: float = 0.1, ref_temp_c: float = 0.0,
                 doubling_c: float = 6.3) -> float:
    """Dark current (e⁻/s/pixel) at ``temp_c``: doubles every ``doubling_c`` degrees."""
    if ref_e_per_s < 0 or doubling_c <= 0:
        raise InvalidValueError(f"bad dark current reference {ref_e_per_s} e/s, "
                                f"doubling {doubling_c} °C")
    return ref_e_per_s * 2.0 ** ((temp_c - ref_temp_c) / doubling_c)


def defocus_fwhm(best_fwhm_px: float, focuser_offset_steps: float,
                 steps_per_px: float) -> float:
    """PSF FWHM (px) with the focuser ``focuser_offset_steps`` from best focus.

    The defocus blur (a disc ``|offset| / steps_per_px`` pixels across, taken as its
    FWHM) and the in-focus seeing/optics FWHM add in quadrature.
    """
    if best_fwhm_px <= 0 or steps_per_px <= 0:
        raise InvalidValueError(f"bad focus model: best FWHM {best_fwhm_px} px, "
                                f"{steps_per_px} steps/px")
    blur = abs(focuser_offset_steps) / steps_per_px
    return math.hypot(best_fwhm_px, blur)


def steps_per_px(step_um: float, focal_ratio: float, pixel_size_um: float) -> float:
    """Focuser steps per pixel of defocus blur: a shift Δ blurs a disc Δ / f-ratio wide."""
    if step_um <= 0 or focal_ratio <= 0 or pixel_size_um <= 0:
        raise InvalidValueError("step size, focal ratio and pixel size must be positive")
    return focal_ratio * pixel_size_um / step_um


@dataclass(frozen=True, kw_only=True)
class FrameSpec:
    """Everything that determines one frame (except the random numbers)."""

    # Pointing (ICRS, the true pointing) and time (proper-motion epoch).
    ra_deg: float = 0.0
    dec_deg: float = 0.0
    time: Any = None  # datetime (naive = UTC), astropy Time, Julian year, None = J2016.0
    exposure_s: float = 1.0
    light: bool = True  # False: shutter closed (dark/bias), no sky, no stars
    stars: bool = True  # False: uniform light only, no stars (a flat panel's frame)
    # Optics.
    focal_length_mm: float = 186.0
    aperture_mm: float = 66.0
    central_obstruction: float = 0.0  # fraction of the aperture diameter
    throughput: float = 0.5  # optics × filter × QE
    rotation_deg: float = 0.0  # position angle of +y, east of north
    psf_fwhm_px: float = 2.0  # unbinned pixels, see defocus_fwhm()
    mag_limit: float | None = None  # faintest star rendered (None: whole catalog)
    # Sensor and readout.
    pixel_size_um: float = 9.0
    width: int = 2048  # unbinned
    height: int = 2048
    binning: int = 1
    start_x: int = 0  # subframe, binned pixels
    start_y: int = 0
    num_x: int | None = None  # None: to the edge of the binned sensor
    num_y: int | None = None
    background_e_per_s_per_px: float = 0.0  # sky (background.py) or panel, per unbinned px
    dark_current_e_per_s: float = 0.0  # per unbinned pixel, see dark_current()
    gain_e_per_adu: float = 1.0
    read_noise_e: float = 3.0
    bias_adu: float = 100.0
    full_well_e: float = 50_000.0
    max_adu: int = 65535
    hot_pixel_fraction: float = 1e-4
    hot_pixel_factor: tuple[float, float] = (100.0, 10_000.0)  # × dark current, log-uniform
    sensor_seed: int = 0

    def __post_init__(self) -> None:
        problems = []
        if not -90.0 <= self.dec_deg <= 90.0 or not math.isfinite(self.ra_deg):
            problems.append(f"pointing ra={self.ra_deg} dec={self.dec_deg}")
        for name in ("focal_length_mm", "aperture_mm", "pixel_size_um", "psf_fwhm_px",
                     "gain_e_per_adu", "full_well_e"):
            if not getattr(self, name) > 0:
                problems.append(f"{name}={getattr(self, name)} (must be > 0)")
        for name in ("exposure_s", "background_e_per_s_per_px", "dark_current_e_per_s",
                     "read_noise_e"):
            if not getattr(self, name) >= 0:
                problems.append(f"{name}={getattr(self, name)} (must be ≥ 0)")
        if not 0 < self.throughput <= 1 or not 0 <= self.central_obstruction < 1:
            problems.append(f"throughput={self.throughput} / obstruction="
                            f"{self.central_obstruction}")
        if not 1 <= self.max_adu <= 65535:
            problems.append(f"max_adu={self.max_adu} (1..65535)")
        if not 0 <= self.hot_pixel_fraction <= 0.1:
            problems.append(f"hot_pixel_fraction={self.hot_pixel_fraction} (0..0.1)")
        if self.width < 1 or self.height < 1 or self.binning < 1:
            problems.append(f"sensor {self.width}×{self.height} binning {self.binning}")
        else:
            bw, bh = self.width // self.binning, self.height // self.binning
            nx, ny = self.subframe[2:]
            if (bw < 1 or bh < 1 or self.start_x < 0 or self.start_y < 0 or nx < 1 or ny < 1
                    or self.start_x + nx > bw or self.start_y + ny > bh):
                problems.append(f"subframe ({self.start_x}, {self.start_y}, {nx}, {ny}) "
                                f"outside the binned sensor {bw}×{bh}")
        if problems:
            raise InvalidValueError("invalid frame: " + "; ".join(problems))

    @property
    def subframe(self) -> tuple[int, int, int, int]:
        """(start_x, start_y, num_x, num_y) in binned pixels."""
        bw, bh = self.width // self.binning, self.height // self.binning
        nx = self.num_x if self.num_x is not None else bw - self.start_x
        ny = self.num_y if self.num_y is not None else bh - self.start_y
        return self.start_x, self.start_y, nx, ny

    @property
    def scale_arcsec(self) -> float:
        """Unbinned pixel scale, arcsec per pixel."""
        return plate_scale_arcsec(self.pixel_size_um, self.focal_length_mm)


@dataclass(frozen=True)
class PlacedStars:
    """Stars whose centre falls on the frame; x, y are 0-based pixels of ``data``."""

    ra_deg: np.ndarray
    dec_deg: np.ndarray
    mag: np.ndarray
    source_id: np.ndarray
    x: np.ndarray
    y: np.ndarray
    flux_e: np.ndarray  # expected electrons over the exposure (before noise and clipping)

    def __len__(self) -> int:
        return int(self.x.size)


@dataclass(frozen=True)
class RenderedFrame:
    """A rendered frame: ADU, the WCS of the data and of the full binned frame, stars."""

    data: np.ndarray  # uint16, shape (num_y, num_x)
    wcs: WCS  # of ``data`` (subframe, binned)
    full_wcs: WCS  # of the whole binned sensor
    stars: PlacedStars
    background_e: float  # expected sky + dark electrons per binned pixel
    epoch_jyear: float
    timings_s: dict[str, float] = field(default_factory=dict)


def spec_wcs(spec: FrameSpec) -> tuple[WCS, WCS]:
    """(full binned frame WCS, subframe WCS) of a frame spec."""
    sx, sy, nx, ny = spec.subframe
    return frame_wcs(spec.ra_deg, spec.dec_deg, scale_arcsec=spec.scale_arcsec,
                     width=spec.width, height=spec.height, binning=spec.binning,
                     start_x=sx, start_y=sy, num_x=nx, num_y=ny,
                     rotation_deg=spec.rotation_deg)


# --- PSF -----------------------------------------------------------------------------


def erfc(x: np.ndarray) -> np.ndarray:
    """Complementary error function, fractional error < 1.2e-7 (Numerical Recipes)."""
    x = np.asarray(x, dtype=np.float64)
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (
            -0.82215223 + t * 0.17087277))))))))
    ans = t * np.exp(-z * z + poly)
    return np.where(x >= 0.0, ans, 2.0 - ans)


def _normal_cdf(z: np.ndarray) -> np.ndarray:
    return 0.5 * erfc(-np.asarray(z) / math.sqrt(2.0))


def _pixel_profiles(centres: np.ndarray, first: np.ndarray, size: int,
                    sigma: float) -> np.ndarray:
    """Fraction of a 1-D Gaussian (centre, sigma) falling in pixels first..first+size-1."""
    edges = first[:, None] + (np.arange(size + 1) - 0.5)[None, :] - centres[:, None]
    cdf = _normal_cdf(edges / sigma)
    return np.diff(cdf, axis=1)


def stamp_stars(image: np.ndarray, x: Any, y: Any, flux: Any, fwhm_px: float, *,
                floor: float = 0.05, max_elements: int = 4_000_000,
                touched: list[np.ndarray] | None = None) -> None:
    """Add Gaussian stars of total ``flux`` at (x, y) into ``image`` (2-D float, in place).

    The PSF is integrated over each pixel. Each star is stamped in a square box large
    enough that the flux left outside is below ``floor`` (same unit as ``flux``); parts
    of boxes off the image are dropped. Reusable for several shifted copies of a field.
    ``touched``: if given, the flat indices of the pixels stamped are appended to it.
    """
    if fwhm_px <= 0:
        raise InvalidValueError(f"PSF FWHM must be > 0, got {fwhm_px}")
    x = np.atleast_1d(np.asarray(x, dtype=np.float64))
    y = np.atleast_1d(np.asarray(y, dtype=np.float64))
    flux = np.broadcast_to(np.asarray(flux, dtype=np.float64), x.shape)
    sigma = fwhm_px / FWHM_PER_SIGMA
    height, width = image.shape
    ratio = np.maximum(2.0 * flux / floor, 1.0)
    radius = np.maximum(np.ceil(sigma * np.sqrt(2.0 * np.log(ratio))), 1.0).astype(np.int64)
    keep = ((flux > floor) & (x + radius >= -0.5) & (x - radius <= width - 0.5)
            & (y + radius >= -0.5) & (y - radius <= height - 0.5))
    x, y, flux, radius = x[keep], y[keep], flux[keep], radius[keep]
    flat = image.reshape(-1)
    for r in np.unique(radius):
        group = np.flatnonzero(radius == r)
        size = 2 * int(r) + 1
        per_chunk = max(1, max_elements // (size * size))
        for start in range(0, group.size, per_chunk):
            sel = group[start:start + per_chunk]
            _stamp_group(flat, width, height, x[sel], y[sel], flux[sel], sigma, int(r),
                         touched)


def _stamp_group(flat: np.ndarray, width: int, height: int, x: np.ndarray, y: np.ndarray,
                 flux: np.ndarray, sigma: float, radius: int,
                 touched: list[np.ndarray] | None) -> None:
    size = 2 * radius + 1
    x0 = np.rint(x).astype(np.int64) - radius
    y0 = np.rint(y).astype(np.int64) - radius
    px = _pixel_profiles(x, x0, size, sigma)
    py = _pixel_profiles(y, y0, size, sigma) * flux[:, None]
    values = (py[:, :, None] * px[:, None, :]).astype(flat.dtype)
    offsets = np.arange(size)
    cols = x0[:, None] + offsets
    rows = y0[:, None] + offsets
    index = rows[:, :, None] * width + cols[:, None, :]
    inside_x = (cols >= 0) & (cols < width)
    inside_y = (rows >= 0) & (rows < height)
    if inside_x.all() and inside_y.all():
        index, values = index.reshape(-1), values.reshape(-1)
    else:
        mask = inside_y[:, :, None] & inside_x[:, None, :]
        index, values = index[mask], values[mask]
    np.add.at(flat, index, values)
    if touched is not None:
        touched.append(index)


# --- hot pixels ----------------------------------------------------------------------


@lru_cache(maxsize=8)
def hot_pixels(width: int, height: int, fraction: float, seed: int,
               factor: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sensor's hot pixels: (x, y, dark-current factor), unbinned, fixed per seed."""
    count = round(fraction * width * height)
    rng = np.random.default_rng([seed, 0x407])
    flat = np.unique(rng.integers(0, width * height, size=count, dtype=np.int64))
    lo, hi = factor
    factors = np.exp(rng.uniform(math.log(lo), math.log(hi), size=flat.size))
    for array in (flat, factors):
        array.setflags(write=False)
    return flat % width, flat // width, factors


# --- noise and digitisation ------------------------------------------------------------


def _electrons_to_adu(electrons: np.ndarray, gain: float, bias: float, full_well: float,
                      max_adu: int) -> np.ndarray:
    adu = np.floor(np.minimum(electrons, full_well) / gain + bias + 0.5)
    return np.clip(adu, 0, max_adu).astype(np.uint16)


def _electron_cdf(edges: np.ndarray, lam: float, read_noise: float) -> np.ndarray:
    """P(E < edge) for E = Poisson(lam) + Normal(0, read_noise)."""
    if lam == 0.0:
        if read_noise == 0.0:
            return (edges > 0.0).astype(np.float64)
        return _normal_cdf(edges / read_noise)
    spread = 12.0 * math.sqrt(lam) + 10.0
    k = np.arange(max(0, math.floor(lam - spread)), math.ceil(lam + spread) + 1)
    if lam > _POISSON_EXACT_MAX or k.size * edges.size > _MAX_TABLE_ELEMENTS:
        return _normal_cdf((edges - lam) / math.sqrt(lam + read_noise**2))
    log_factorial = np.array([math.lgamma(v + 1.0) for v in k])
    pmf = np.exp(k * math.log(lam) - lam - log_factorial)
    if read_noise == 0.0:
        cumulative = np.concatenate(([0.0], np.cumsum(pmf)))
        # P(K < edge) = sum of pmf for k < edge
        count = np.searchsorted(k, edges, side="left")
        return cumulative[count]
    return _normal_cdf((edges[:, None] - k[None, :]) / read_noise) @ pmf


@dataclass(frozen=True)
class _AduTable:
    """Inverse-CDF sampler of one discrete ADU distribution.

    A draw takes 16 random bits as the index of one of 65,536 equal-probability bins.
    A bin wholly inside one value's CDF step gives that value through the lookup
    table; a bin that contains a step (about one pixel in a thousand) holds
    ``sentinel`` instead, and its pixels are redrawn exactly from a fresh uniform
    number inside the bin.
    """

    values: np.ndarray  # consecutive ADU values, uint16
    cdf: np.ndarray  # P(ADU <= values[i]), last = 1
    lut: np.ndarray  # value for each top-16-bit bin (``sentinel`` where ambiguous)
    ambiguous: np.ndarray  # bins that contain a CDF step
    sentinel: int | None  # a uint16 that is not a value; None: flag bins in a mask
    saturation: int  # the highest ADU (full well or max_adu)

    @classmethod
    def build(cls, lam: float, read_noise: float, gain: float, bias: float,
              full_well: float, max_adu: int) -> _AduTable:
        v_sat = int(min(max_adu, max(0.0, math.floor(full_well / gain + bias + 0.5))))
        sigma = math.sqrt(lam + read_noise**2)
        centre = lam / gain + bias
        v_lo = int(min(max(0, math.floor(centre - 12.0 * sigma / gain - 1)), v_sat))
        v_hi = int(min(max(0, math.ceil(centre + 12.0 * sigma / gain + 1)), v_sat))
        values = np.arange(v_lo, v_hi + 1)
        cdf = _electron_cdf(gain * (values + 0.5 - bias), lam, read_noise)
        cdf = np.minimum(np.maximum.accumulate(cdf), 1.0)
        cdf[-1] = 1.0
        # Bin b covers [b, b + 1) / n_bins of probability. It starts in the step of the
        # first value whose CDF exceeds b / n_bins, i.e. whose scaled CDF rounded up
        # exceeds b (scaling by a power of two is exact); it holds a step where a
        # scaled CDF value with a fractional part rounds down to b.
        n_bins = 1 << _LUT_BITS
        scaled = cdf * n_bins
        starts = np.clip(np.ceil(scaled), 0, n_bins).astype(np.int64)
        counts = np.diff(starts, prepend=0, append=n_bins)
        lo = np.repeat(np.arange(values.size + 1), counts)
        lut = values[np.minimum(lo, values.size - 1)].astype(np.uint16)
        floor = np.floor(scaled)
        ambiguous = np.unique(floor[(floor != scaled) & (floor < n_bins)].astype(np.int64))
        sentinel = 0 if v_lo > 0 else 65535 if v_hi < 65535 else None
        if sentinel is not None:
            lut[ambiguous] = sentinel
        return cls(values.astype(np.uint16), cdf, lut, ambiguous, sentinel, v_sat)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` independent draws, uint16."""
        out = np.empty(n, dtype=np.uint16)
        flag = None
        if self.sentinel is None and self.ambiguous.size:
            flag = np.zeros(1 << _LUT_BITS, dtype=bool)
            flag[self.ambiguous] = True
        redraw: list[tuple[np.ndarray, np.ndarray]] = []  # (pixels, their bins)
        raw = rng.bit_generator.random_raw if isinstance(rng.bit_generator, _RAW_64_BITS) \
            else None
        # In chunks, so the random bits and the output stay in the CPU cache.
        for start in range(0, n, _CHUNK):
            size = min(_CHUNK, n - start)
            # Four 16-bit bin indices per 64-bit word of the generator.
            top = raw(-(-size // 4)).view(np.uint16)[:size] if raw is not None else \
                rng.integers(0, 1 << _LUT_BITS, size, dtype=np.uint16)
            chunk = out[start:start + size]
            # 'wrap' never applies (top < 2**16 = len(lut)) and skips bounds checks.
            np.take(self.lut, top, out=chunk, mode="wrap")
            if not self.ambiguous.size:
                continue
            where = np.flatnonzero(chunk == self.sentinel if flag is None else flag[top])
            if where.size:
                redraw.append((where + start, top[where]))
        if redraw:
            where = np.concatenate([pixels for pixels, _ in redraw])
            bins = np.concatenate([b for _, b in redraw])
            u = (bins + rng.random(where.size)) * (1.0 / (1 << _LUT_BITS))
            index = np.searchsorted(self.cdf, u, side="right")
            out[where] = self.values[np.minimum(index, self.values.size - 1)]
        return out


def read_out(background_e: float, extra_e: np.ndarray, *, read_noise_e: float,
             gain_e_per_adu: float, bias_adu: float, full_well_e: float, max_adu: int,
             rng: np.random.Generator, lit: np.ndarray | None = None) -> np.ndarray:
    """Expose and digitise: uniform ``background_e`` plus ``extra_e`` (per pixel) → uint16.

    Shot noise (Poisson) on all the charge, read noise (Gaussian), saturation at
    ``full_well_e``, ADU clipped to [0, ``max_adu``]. ``lit``: flat indices (sorted,
    unique) of every pixel where ``extra_e`` may be non-zero, if known (saves a scan
    of the frame); pixels outside it must hold 0.
    """
    shape = extra_e.shape
    table = _AduTable.build(background_e, read_noise_e, gain_e_per_adu, bias_adu,
                            full_well_e, max_adu)
    out = table.sample(extra_e.size, rng)
    extra = extra_e.reshape(-1)
    if lit is None:
        lit = np.flatnonzero(extra)
    if lit.size:
        # Shot noise is additive: the lit pixels' charge is their background draw plus
        # Poisson(extra) electrons. Where none arrived, the background draw stands.
        photons = rng.poisson(extra[lit].astype(np.float64))
        hit = np.flatnonzero(photons)
        pixels, photons = lit[hit], photons[hit]
        if gain_e_per_adu == 1.0 and table.values[0] > 0:
            # At 1 e⁻/ADU, whole electrons add whole ADU: round(E + k) = round(E) + k,
            # saturated as the background (the table never clips at 0 here).
            out[pixels] = np.minimum(out[pixels] + photons, table.saturation)
        elif pixels.size:
            electrons = (rng.poisson(background_e, pixels.size) + photons).astype(np.float64)
            if read_noise_e > 0:
                electrons += read_noise_e * rng.standard_normal(pixels.size)
            out[pixels] = _electrons_to_adu(electrons, gain_e_per_adu, bias_adu, full_well_e,
                                            max_adu)
    return out.reshape(shape)


# --- the frame ---------------------------------------------------------------------------


def _field_radius_deg(wcs: WCS, nx: int, ny: int, margin_px: float) -> tuple[float, float, float]:
    """Centre (ra, dec) of a frame and the radius (deg) that covers it plus a margin."""
    px = np.array([(nx - 1) / 2.0, -0.5, nx - 0.5, -0.5, nx - 0.5])
    py = np.array([(ny - 1) / 2.0, -0.5, -0.5, ny - 0.5, ny - 0.5])
    ra, dec = wcs.wcs_pix2world(px, py, 0)
    a, d = np.radians(ra), np.radians(dec)
    cos_sep = (np.sin(d[0]) * np.sin(d[1:])
               + np.cos(d[0]) * np.cos(d[1:]) * np.cos(a[1:] - a[0]))
    half_diagonal = math.degrees(math.acos(float(np.clip(cos_sep.min(), -1.0, 1.0))))
    scale = float(np.sqrt(abs(np.linalg.det(wcs.wcs.cd))))
    return float(ra[0]), float(dec[0]), half_diagonal + margin_px * scale


def _empty_stars() -> PlacedStars:
    nothing = np.zeros(0)
    return PlacedStars(nothing, nothing, nothing.astype(np.float32), nothing.astype(np.int64),
                       nothing, nothing, nothing)


def _collect_charge(spec: FrameSpec, extra: np.ndarray, catalog: StarCatalog | None,
                    timings: dict[str, float], touched: list[np.ndarray] | None = None,
                    ) -> tuple[PlacedStars, WCS, WCS]:
    """Add the non-uniform charge of ``spec`` (stars, hot pixels) into ``extra``.

    ``extra`` has the subframe's shape. Returns the stars whose centre falls on it and
    the (full, subframe) WCS. Times the stages into ``timings``. ``touched``: if given,
    the flat indices of the pixels that received charge are appended to it.
    """
    full_wcs, wcs = spec_wcs(spec)
    sx, sy, nx, ny = spec.subframe
    epoch = julian_year(spec.time)
    stars = _empty_stars()
    t0 = _time.perf_counter()
    if spec.light and spec.stars and spec.exposure_s > 0:
        fwhm = spec.psf_fwhm_px / spec.binning
        margin = 8.0 * fwhm / FWHM_PER_SIGMA + 2.0
        ra_c, dec_c, radius = _field_radius_deg(wcs, nx, ny, margin)
        if radius > 80.0:
            raise InvalidValueError(f"field too wide for a TAN projection ({radius:.0f}°)")
        cat = catalog if catalog is not None else load_catalog()
        found = cat.cone(ra_c, dec_c, radius, epoch_jyear=epoch, mag_limit=spec.mag_limit)
        x, y = wcs.wcs_world2pix(found.ra_deg, found.dec_deg, 0)
        flux = star_rate_e_per_s(found.mag.astype(np.float64), aperture_mm=spec.aperture_mm,
                                 throughput=spec.throughput,
                                 central_obstruction=spec.central_obstruction) * spec.exposure_s
        timings["catalog"] = timings.get("catalog", 0.0) + _time.perf_counter() - t0
        t0 = _time.perf_counter()
        stamp_stars(extra, x, y, flux, fwhm, touched=touched)
        on = (x >= -0.5) & (x < nx - 0.5) & (y >= -0.5) & (y < ny - 0.5)
        stars = PlacedStars(found.ra_deg[on], found.dec_deg[on], found.mag[on],
                            found.source_id[on], x[on], y[on], flux[on])
        timings["stamp"] = timings.get("stamp", 0.0) + _time.perf_counter() - t0

    t0 = _time.perf_counter()
    if spec.dark_current_e_per_s > 0 and spec.exposure_s > 0 and spec.hot_pixel_fraction > 0:
        hx, hy, factor = hot_pixels(spec.width, spec.height, spec.hot_pixel_fraction,
                                    spec.sensor_seed, tuple(spec.hot_pixel_factor))
        bx, by = hx // spec.binning - sx, hy // spec.binning - sy
        on = (bx >= 0) & (bx < nx) & (by >= 0) & (by < ny)
        charge = (factor[on] - 1.0) * spec.dark_current_e_per_s * spec.exposure_s
        index = by[on] * nx + bx[on]
        np.add.at(extra.reshape(-1), index, charge.astype(np.float32))
        if touched is not None:
            touched.append(index)
    timings["hot_pixels"] = timings.get("hot_pixels", 0.0) + _time.perf_counter() - t0
    return stars, full_wcs, wcs


def _background_e(spec: FrameSpec) -> float:
    """Expected uniform charge (sky + dark) per binned pixel over the exposure."""
    sky_rate = spec.background_e_per_s_per_px if spec.light else 0.0
    return (sky_rate + spec.dark_current_e_per_s) * spec.exposure_s * spec.binning**2


def _lit_pixels(extra: np.ndarray, touched: list[np.ndarray]) -> np.ndarray:
    """Sorted flat indices of the pixels that received charge (``touched``).

    When the footprints cover much of the frame (defocused or crowded), scanning
    ``extra`` for non-zero pixels is cheaper than sorting the footprints.
    """
    count = sum(index.size for index in touched)
    if count > extra.size // 8:
        return np.flatnonzero(extra.reshape(-1))
    if not count:
        return np.zeros(0, dtype=np.int64)
    index = np.sort(np.concatenate(touched))
    return index[np.concatenate(([True], index[1:] != index[:-1]))]


def _digitise(spec: FrameSpec, background_e: float, extra: np.ndarray,
              rng: np.random.Generator, lit: np.ndarray | None = None) -> np.ndarray:
    return read_out(background_e, extra, read_noise_e=spec.read_noise_e,
                    gain_e_per_adu=spec.gain_e_per_adu, bias_adu=spec.bias_adu,
                    full_well_e=spec.full_well_e * spec.binning**2, max_adu=spec.max_adu,
                    rng=rng, lit=lit)


def render_frame(spec: FrameSpec, rng: np.random.Generator | int | None = None, *,
                 catalog: StarCatalog | None = None) -> RenderedFrame:
    """Render one frame; the same spec and seed give the same frame."""
    t_start = _time.perf_counter()
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    _, _, nx, ny = spec.subframe
    extra = np.zeros((ny, nx), dtype=np.float32)
    timings = {"catalog": 0.0, "stamp": 0.0}
    touched: list[np.ndarray] = []
    stars, full_wcs, wcs = _collect_charge(spec, extra, catalog, timings, touched)
    background = _background_e(spec)
    t0 = _time.perf_counter()
    data = _digitise(spec, background, extra, rng, _lit_pixels(extra, touched))
    timings["noise"] = _time.perf_counter() - t0 + timings.pop("hot_pixels")
    timings["total"] = _time.perf_counter() - t_start
    return RenderedFrame(data=data, wcs=wcs, full_wcs=full_wcs, stars=stars,
                         background_e=background, epoch_jyear=julian_year(spec.time),
                         timings_s=timings)


# --- stuttered (charge-shift) frames --------------------------------------------------

# Fields that must be the same in every segment of a stuttered frame: the sensor, the
# readout window and the digitisation happen once for the whole frame.
_READOUT_FIELDS = ("width", "height", "binning", "start_x", "start_y", "num_x", "num_y",
                   "gain_e_per_adu", "read_noise_e", "bias_adu", "full_well_e", "max_adu",
                   "hot_pixel_fraction", "hot_pixel_factor", "sensor_seed")


def _readout_key(spec: FrameSpec) -> tuple[Any, ...]:
    """The readout fields' values, the subframe resolved (``num_x=None`` = to the edge)."""
    window = dict(zip(("start_x", "start_y", "num_x", "num_y"), spec.subframe, strict=True))
    return tuple(window.get(name, getattr(spec, name)) for name in _READOUT_FIELDS)


def with_readout_of(spec: FrameSpec, reference: FrameSpec) -> FrameSpec:
    """``spec`` with ``reference``'s sensor, readout window and digitisation.

    For the later segments of a stuttered frame, whose scene (pointing, PSF, sky...)
    may change but whose readout is the first segment's.
    """
    return replace(spec, **{name: getattr(reference, name) for name in _READOUT_FIELDS})


class StutteredFrame:
    """A stuttered (charge-shift) frame, built one exposure segment at a time.

    The frame is ``n_shift`` segments exposed one after the other on the same sensor;
    after every segment but the last the charge is shifted ``row_shift`` binned rows
    toward row 0 (the serial register) of the *sensor*: charge shifted past row 0 is
    lost, rows entering at the top of the sensor start empty. Segment ``k`` (0-based)
    is followed by ``n_shift - 1 - k`` shifts, so its stars (and its hot-pixel charge)
    land ``(n_shift - 1 - k) × row_shift`` rows lower (smaller y) in the frame read out
    at the end; the last segment is unshifted.

    Each segment is rendered from its own :class:`FrameSpec` (pointing, time, PSF,
    throughput, sky and dark rates: a focuser moved between segments gives each copy
    its own width) into a band of the sensor that extends above the readout window
    by the segment's shift, so stars above the window that are shifted into it are
    there. The sky + dark background is exact per row: final row ``y`` collected
    segment ``k``'s background only if its charge packet was on the sensor during that
    segment (sensor row ``y + shift_k`` < binned sensor height); the rows that entered
    from beyond the top edge later got less. Rows that share a background level are
    digitised together by :func:`read_out` (one shot-noise + read-noise draw per pixel,
    one saturation at the binned full well for the whole frame). Nothing is collected
    during the shifts themselves (taken as instantaneous, shutter closed) or between
    segments.

    :meth:`add` may run in worker threads, concurrently for different segments (the
    heavy part runs outside a lock); :meth:`read_out` once all segments are in.
    """

    def __init__(self, n_shift: int, row_shift: int, *,
                 catalog: StarCatalog | None = None) -> None:
        if isinstance(n_shift, bool) or not isinstance(n_shift, int) or n_shift < 1:
            raise InvalidValueError(f"n_shift {n_shift!r} must be an integer >= 1")
        if isinstance(row_shift, bool) or not isinstance(row_shift, int) or row_shift < 0:
            raise InvalidValueError(f"row_shift {row_shift!r} must be an integer >= 0")
        self.n_shift = n_shift
        self.row_shift = row_shift
        self.catalog = catalog
        self._lock = threading.Lock()
        self._reference: FrameSpec | None = None
        self._extra: np.ndarray | None = None
        self._background_rows: np.ndarray | None = None
        self._segments: dict[int, tuple[FrameSpec, PlacedStars, WCS, WCS]] = {}
        self._timings: dict[str, float] = {}

    def shift_rows(self, segment: int) -> int:
        """How many rows segment ``segment``'s charge moves before the readout."""
        return (self.n_shift - 1 - segment) * self.row_shift

    def _check(self, spec: FrameSpec) -> None:
        reference = self._reference
        if reference is None:
            bh = spec.height // spec.binning
            if self.n_shift * self.row_shift >= bh:
                raise InvalidValueError(
                    f"{self.n_shift} shifts of {self.row_shift} rows do not fit the "
                    f"{bh}-row binned sensor")
            self._reference = spec
            _, _, nx, ny = spec.subframe
            self._extra = np.zeros((ny, nx), dtype=np.float32)
            self._background_rows = np.zeros(ny, dtype=np.float64)
            return
        differ = [name for name, a, b in zip(_READOUT_FIELDS, _readout_key(spec),
                                             _readout_key(reference), strict=True) if a != b]
        if differ:
            raise InvalidValueError("the segments of a stuttered frame must share the "
                                    f"sensor and readout; {', '.join(differ)} differ")

    def add(self, segment: int, spec: FrameSpec) -> None:
        """Expose segment ``segment`` (0 … n_shift - 1) as described by ``spec``."""
        if isinstance(segment, bool) or not isinstance(segment, int) or \
                not 0 <= segment < self.n_shift:
            raise InvalidValueError(f"segment {segment!r} is not in 0..{self.n_shift - 1}")
        with self._lock:
            if segment in self._segments:
                raise InvalidValueError(f"segment {segment} was already added")
            self._check(spec)
        timings: dict[str, float] = {}
        shift = self.shift_rows(segment)
        _, sy, nx, ny = spec.subframe
        rows = min(spec.height // spec.binning - sy, ny + shift)  # the band on the sensor
        band = replace(spec, num_x=nx, num_y=rows)
        charge = np.zeros((rows, nx), dtype=np.float32)
        stars, full_wcs, wcs = _collect_charge(band, charge, self.catalog, timings)
        kept = rows - shift  # final rows 0..kept-1 were on the sensor during the segment
        with self._lock:
            assert self._extra is not None and self._background_rows is not None
            if kept > 0:
                self._extra[:kept] += charge[shift:]
                self._background_rows[:kept] += _background_e(spec)
            self._segments[segment] = (spec, stars, full_wcs, wcs)
            for key, value in timings.items():
                self._timings[key] = self._timings.get(key, 0.0) + value

    def read_out(self, rng: np.random.Generator | int | None = None) -> RenderedFrame:
        """Digitise the accumulated charge: the frame of the whole stuttered exposure.

        Its WCS and stars are the last (unshifted) segment's; ``background_e`` is the
        background of the rows that collected every segment.
        """
        t0 = _time.perf_counter()
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        with self._lock:
            missing = sorted(set(range(self.n_shift)) - set(self._segments))
            if missing:
                raise InvalidValueError(f"segments {missing} of the stuttered frame are "
                                        "missing")
            assert self._extra is not None and self._background_rows is not None
            extra, rows = self._extra, self._background_rows
            spec, stars, full_wcs, wcs = self._segments[self.n_shift - 1]
            timings = dict(self._timings)
        data = np.empty(extra.shape, dtype=np.uint16)
        # Consecutive rows with the same background level: one read_out() each.
        breaks = np.flatnonzero(np.diff(rows)) + 1
        for first, end in zip(np.concatenate(([0], breaks)),
                              np.concatenate((breaks, [rows.size])), strict=True):
            data[first:end] = _digitise(spec, float(rows[first]), extra[first:end], rng)
        timings["noise"] = _time.perf_counter() - t0 + timings.pop("hot_pixels", 0.0)
        timings["total"] = sum(timings.values())
        return RenderedFrame(data=data, wcs=wcs, full_wcs=full_wcs, stars=stars,
                             background_e=float(rows[0]) if rows.size else 0.0,
                             epoch_jyear=julian_year(spec.time), timings_s=timings)

    def segment_stars(self, segment: int) -> PlacedStars:
        """Stars of one segment on its band of the sensor (unshifted positions)."""
        with self._lock:
            return self._segments[segment][1]


def render_stuttered(specs: Sequence[FrameSpec], row_shift: int,
                     rng: np.random.Generator | int | None = None, *,
                     catalog: StarCatalog | None = None) -> RenderedFrame:
    """Render a stuttered frame: one segment per spec, in exposure order.

    ``len(specs)`` is the number of segments (``n_shift``); ``row_shift`` the binned
    rows the charge moves toward row 0 after each segment but the last. See
    :class:`StutteredFrame` for the model. The same specs and seed give the same frame.
    """
    specs = list(specs)
    if not specs:
        raise InvalidValueError("a stuttered frame needs at least one segment")
    frame = StutteredFrame(len(specs), row_shift, catalog=catalog)
    for k, spec in enumerate(specs):
        frame.add(k, spec)
    return frame.read_out(rng)
