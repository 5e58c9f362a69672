"""Focus metrics: Vollath F4 for the whole frame, half-flux radius and FWHM of stars.

**Vollath F4**, normalised. The classic measure is
``F4 = Σ I(x,y)·I(x+1,y) − Σ I(x,y)·I(x+2,y)``: sharp detail makes neighbouring pixels
differ, so the lag-1 product sum exceeds the lag-2 one by more. Raw F4 grows with the
square of the signal and carries a term in the squared background, so it cannot be
compared between frames of different exposure. Here the image is first made
zero-mean (removing bias and sky) and each sum is divided by its number of pairs and
by the variance: ``F4n = (C(1) − C(2)) / C(0)``, ``C(k)`` being the mean product of pixel
pairs ``k`` apart. That is the difference of the image's autocorrelation at lags 1
and 2: dimensionless, unchanged when the image is multiplied by any gain or exposure
factor or shifted by any offset. It is evaluated along rows and along columns and the
two are averaged (astigmatism shows in one axis only). Pixel noise is uncorrelated, so
it adds to ``C(0)`` only and lowers F4n; compare frames with similar signal-to-noise,
as an autofocus run does. For Gaussian stars of width sigma > 0.74 px, F4n falls
steadily as sigma grows, so larger is sharper.

**Half-flux radius (HFR)**: the radius around a star's centroid that encloses half of
its background-subtracted flux, interpolated between pixels. For a 2-D Gaussian the
enclosed fraction is ``1 − exp(−r²/2σ²)``, so HFR = ``σ·sqrt(2 ln 2)`` ≈ 1.177 σ, which is
half the FWHM (``2σ·sqrt(2 ln 2)``). (Some programs call the flux-weighted mean radius
"HFR"; for a Gaussian that is ``σ·sqrt(π/2)`` ≈ 1.253 σ, 6 % more.) **FWHM** comes from a
Gaussian fitted to the star's radial profile (a weighted straight-line fit of
``ln I`` against ``r²``). Smaller is sharper for both; frame values are medians over
the isolated, unsaturated stars detected.

Star detection: background and noise from the sigma-clipped median and MAD of the
frame; pixels above ``threshold_sigma`` noise form connected groups
(``scipy.ndimage.label``); groups of fewer than ``min_pixels`` (hot pixels, cosmic
rays), touching the edge, saturated, elongated (blends, trails), or sharing their
measuring box with another group are skipped; each star's own background is the
median of the ring around its aperture.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nocturna.core.errors import InvalidValueError

_SAMPLE = 250_000  # pixels used for the frame's background statistics
_ROW_BLOCK = 512  # rows per block in Vollath F4 (bounds memory on large frames)
FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))
HFR_PER_SIGMA = math.sqrt(2.0 * math.log(2.0))


def _image(data: np.ndarray, what: str) -> np.ndarray:
    array = np.asarray(data)
    if array.ndim != 2 or min(array.shape) < 3:
        raise InvalidValueError(f"{what} needs a 2-D image of at least 3×3, got {array.shape}")
    if array.dtype.kind not in "uif":
        raise InvalidValueError(f"{what} needs numeric pixels, got {array.dtype}")
    return array


def _finite_float(array: np.ndarray, dtype: type[np.floating]) -> np.ndarray:
    """``array`` as floats, non-finite pixels replaced by the median of the rest."""
    out = np.asarray(array, dtype=dtype)
    if out.dtype.kind == "f":
        bad = ~np.isfinite(out)
        if bad.any():
            out = out.copy() if out is array else out
            good = out[~bad]
            out[bad] = np.median(good) if good.size else 0.0
    return out


# --- Vollath F4 ----------------------------------------------------------------------


def vollath_f4(data: np.ndarray) -> float:
    """Normalised Vollath F4 (see the module notes): larger is sharper; 0 for a flat image."""
    array = _image(data, "Vollath F4")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        array = _finite_float(array, np.float64)
    height, width = array.shape
    mean = float(np.mean(array, dtype=np.float64))
    sums = np.zeros(6)  # C0 total, row lag 1, row lag 2, column lag 1, column lag 2
    for start in range(0, height, _ROW_BLOCK):
        stop = min(start + _ROW_BLOCK, height)
        # Two extra rows for the column lags; float64 block by block bounds the memory.
        block = np.asarray(array[start : min(stop + 2, height)], dtype=np.float64) - mean
        own = block[: stop - start]
        sums[0] += np.einsum("ij,ij->", own, own)
        sums[1] += np.einsum("ij,ij->", own[:, :-1], own[:, 1:])
        sums[2] += np.einsum("ij,ij->", own[:, :-2], own[:, 2:])
        for lag, index in ((1, 3), (2, 4)):
            rows = min(stop, height - lag) - start  # pairs (i, i+lag) with i in this block
            if rows > 0:
                sums[index] += np.einsum("ij,ij->", block[:rows], block[lag : rows + lag])
    c0 = sums[0] / (height * width)
    if c0 <= 0.0:
        return 0.0
    rows_f4 = sums[1] / (height * (width - 1)) - sums[2] / (height * (width - 2))
    cols_f4 = sums[3] / ((height - 1) * width) - sums[4] / ((height - 2) * width)
    return float((rows_f4 + cols_f4) / (2.0 * c0))


# --- stars ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Star:
    """A measured star: centroid (0-based pixels, x = column), flux above background,
    peak above background, half-flux radius and FWHM in pixels (FWHM None if no fit)."""

    x: float
    y: float
    flux: float
    peak: float
    hfr: float
    fwhm: float | None


@dataclass(frozen=True)
class FocusMetrics:
    """Focus figures of one frame: HFR/FWHM are medians over stars (None: no star)."""

    vollath_f4: float
    hfr_px: float | None
    fwhm_px: float | None
    star_count: int


def background_and_noise(data: np.ndarray, *, iterations: int = 5) -> tuple[float, float]:
    """The frame's sky level and its noise (1.4826·MAD), sigma-clipped at 3 sigma."""
    array = _image(data, "background")
    step = max(1, int(math.sqrt(array.size / _SAMPLE)))
    sample = np.asarray(array[::step, ::step], dtype=np.float64).ravel()
    sample = sample[np.isfinite(sample)]
    if sample.size == 0:
        return 0.0, 0.0
    median, sigma = float(np.median(sample)), 0.0
    for _ in range(iterations):
        sigma = 1.4826 * float(np.median(np.abs(sample - median)))
        if sigma == 0.0:
            break
        kept = sample[np.abs(sample - median) <= 3.0 * sigma]
        if kept.size == sample.size:
            break
        sample = kept
        median = float(np.median(sample))
    return median, sigma


def _fwhm(r2: np.ndarray, values: np.ndarray, peak: float) -> float | None:
    """FWHM of the Gaussian fitted to (r², value): weighted line fit of ln(value) on r²."""
    use = values > 0.1 * peak
    if use.sum() < 4:
        return None
    x, y, w = r2[use], np.log(values[use]), values[use] ** 2  # weight: var(ln v) ∝ 1/v²
    sw = w.sum()
    mx, my = (w * x).sum() / sw, (w * y).sum() / sw
    spread = (w * (x - mx) ** 2).sum()
    if spread <= 0.0:
        return None
    slope = (w * (x - mx) * (y - my)).sum() / spread
    if slope >= 0.0:
        return None
    return FWHM_PER_SIGMA * math.sqrt(-1.0 / (2.0 * slope))


def _half_flux_radius(radii: np.ndarray, values: np.ndarray) -> float | None:
    order = np.argsort(radii, kind="stable")
    r, cumulative = radii[order], np.cumsum(values[order])
    total = cumulative[-1]
    if total <= 0.0:
        return None
    index = int(np.searchsorted(cumulative, total / 2.0))
    if index == 0:
        return float(r[0])
    below, above = cumulative[index - 1], cumulative[index]
    part = (total / 2.0 - below) / (above - below) if above > below else 0.0
    return float(r[index - 1] + part * (r[index] - r[index - 1]))


def _measure(array: np.ndarray, labels: np.ndarray, label: int, x0: float, y0: float,
             radius: float, max_elongation: float | None) -> Star | None:
    """Measure the star near (x0, y0), refining its centroid and aperture."""
    height, width = array.shape
    star: Star | None = None
    for _ in range(4):
        half = math.ceil(radius * 1.5) + 2  # aperture plus a background ring
        xc, yc = round(x0), round(y0)
        if xc - half < 0 or yc - half < 0 or xc + half >= width or yc + half >= height:
            return None  # too near the edge to measure
        window = (slice(yc - half, yc + half + 1), slice(xc - half, xc + half + 1))
        own = labels[window]
        if np.any((own != 0) & (own != label)):
            return None  # not isolated
        box = array[window]
        yy, xx = np.mgrid[yc - half : yc + half + 1, xc - half : xc + half + 1]
        r2 = (xx - x0) ** 2 + (yy - y0) ** 2
        inside = r2 <= radius * radius
        ring = ~inside & (r2 >= (radius + 1.0) ** 2)
        if ring.sum() < 8:
            return None
        values = box - np.median(box[ring])
        flux_values = values[inside]
        flux = float(flux_values.sum())
        positive = np.clip(flux_values, 0.0, None)
        if flux <= 0.0 or positive.sum() <= 0.0:
            return None
        x0 = float((xx[inside] * positive).sum() / positive.sum())
        y0 = float((yy[inside] * positive).sum() / positive.sum())
        r2 = (xx - x0) ** 2 + (yy - y0) ** 2
        inside = r2 <= radius * radius
        hfr = _half_flux_radius(np.sqrt(r2[inside]), values[inside])
        if hfr is None:
            return None
        peak = float(values[inside].max())
        star = Star(x=x0, y=y0, flux=float(values[inside].sum()), peak=peak, hfr=hfr,
                    fwhm=_fwhm(r2[inside], values[inside], peak))
        wanted = max(3.0, 3.5 * hfr)  # encloses > 99.5 % of a Gaussian's flux
        if abs(wanted - radius) < 0.5:
            break
        radius = wanted
    if star is not None and max_elongation is not None:
        weights = np.clip(values[inside], 0.0, None)
        dx, dy = xx[inside] - star.x, yy[inside] - star.y
        cov = np.cov(np.vstack([dx, dy]), aweights=weights, bias=True)
        low, high = np.linalg.eigvalsh(cov)
        if low <= 0.0 or math.sqrt(high / low) > max_elongation:
            return None  # a blend of two stars, a trail, or a cosmic-ray streak
    return star


def detect_stars(data: np.ndarray, *, threshold_sigma: float = 5.0, min_pixels: int = 4,
                 saturation: float | None = None, max_elongation: float | None = 1.5,
                 max_stars: int | None = 200) -> list[Star]:
    """Isolated stars in the frame, brightest first (see the module notes).

    ``saturation``: pixels at or above this level (in data units) mark a star as
    saturated, and it is skipped. Stars whose light is more elongated than
    ``max_elongation`` (major/minor axis ratio from the second moments) are skipped as
    blends or trails. ``max_stars`` bounds the work on crowded frames.
    """
    from scipy import ndimage  # C connected-component labelling; numpy has none

    array = _finite_float(_image(data, "star detection"), np.float32)
    if not threshold_sigma > 0:
        raise InvalidValueError(f"threshold_sigma must be > 0, got {threshold_sigma!r}")
    if isinstance(min_pixels, bool) or not isinstance(min_pixels, int) or min_pixels < 1:
        raise InvalidValueError(f"min_pixels must be an integer >= 1, got {min_pixels!r}")
    background, noise = background_and_noise(array)
    threshold = background + threshold_sigma * max(noise, 1e-12)
    labels, count = ndimage.label(array > threshold)
    if count == 0:
        return []
    index = np.arange(1, count + 1)
    sizes = ndimage.sum_labels(np.ones_like(labels, dtype=np.int32), labels, index)
    peaks = ndimage.maximum(array, labels, index)
    peak_positions = ndimage.maximum_position(array, labels, index)
    candidates = [
        (float(peak), label, position, int(size))
        for label, size, peak, position in zip(index, sizes, peaks, peak_positions, strict=True)
        if size >= min_pixels and (saturation is None or peak < saturation)
    ]
    candidates.sort(key=lambda item: item[0], reverse=True)
    stars: list[Star] = []
    for _peak, label, (y, x), size in candidates:
        star = _measure(array, labels, int(label), float(x), float(y),
                        radius=max(3.0, 2.0 * math.sqrt(size / math.pi) + 1.0),
                        max_elongation=max_elongation)
        if star is not None:
            stars.append(star)
            if max_stars is not None and len(stars) >= max_stars:
                break
    return stars


def half_flux_radius(data: np.ndarray, **detect: object) -> float | None:
    """Median HFR (pixels) of the detected stars; None if there is none."""
    stars = detect_stars(data, **detect)  # type: ignore[arg-type]
    return float(np.median([s.hfr for s in stars])) if stars else None


def focus_metrics(data: np.ndarray, **detect: object) -> FocusMetrics:
    """Vollath F4, median HFR and FWHM, and the star count of one frame."""
    stars = detect_stars(data, **detect)  # type: ignore[arg-type]
    fwhms = [s.fwhm for s in stars if s.fwhm is not None]
    return FocusMetrics(
        vollath_f4=vollath_f4(data),
        hfr_px=float(np.median([s.hfr for s in stars])) if stars else None,
        fwhm_px=float(np.median(fwhms)) if fwhms else None,
        star_count=len(stars),
    )
