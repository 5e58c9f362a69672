"""The best focuser position from a sweep: a parabola fitted around the sharpest point,
accepted only when the peak stands out of the metric's scatter.

The caller gives focuser positions and a focus metric for each, oriented so that
**larger is better** (negate HFR or FWHM first). Non-finite points (a frame without
stars) are dropped.

**Scatter.** Each interior point's deviation from the straight line through its two
neighbours, scaled to one point's noise, estimates the metric's scatter σ from the
sweep itself (a robust spread, so a smooth curve and a sharp peak barely enter it).

**Bracketing.** The best sampled point is *bracketed* on a side when some point on
that side lies at least :data:`PEAK_SIGNIFICANCE` σ below it. Bracketed on both sides:
a peak. On the low side only: the metric still rises toward the high end, so best
focus lies above the sweep (:attr:`FocusFit.beyond` +1), and the other way round (−1).
On neither side: no significant peak (noise, or no stars), though a straight line
through the sweep whose slope stands :data:`TREND_SIGNIFICANCE` standard errors from
zero still points the way to best focus (a far flank: stars faint and wide).

**Fit.** A parabola ``a·x² + b·x + c`` is fitted by least squares to the best point and
its neighbours (``half_window`` on each side, seven points by default; a window that
would run off an end is shifted inwards so it keeps its size), and its vertex is the
best position. The fit is accepted (``ok``) only for a bracketed peak whose parabola
opens downward, has its vertex within the window, and rises over the window by more
than :data:`PEAK_OVER_SCATTER` RMS residuals. A bracketed peak whose parabola is
refused (a peak narrower than the step, say) still gives a usable position, the best
sampled one (:attr:`FocusFit.peak_sampled`); nothing else does.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nocturna.core.errors import InvalidValueError

DEFAULT_HALF_WINDOW = 3
MIN_POINTS = 11
"""Valid points needed to judge a peak against the scatter: with fewer, the scatter
estimated from the sweep itself is too uncertain (Gaussian noise of 9 points passed
for a peak about once in 600 sweeps)."""
PEAK_SIGNIFICANCE = 10.0
"""How many σ (the metric's scatter) the best point must stand above some point on a
side to count as bracketed there. Measured on Gaussian noise: both sides of 21 points
were bracketed in none of 20 000 sweeps, of 17 points in 6."""
TREND_SIGNIFICANCE = 5.0
"""A straight line through the whole sweep whose slope is this many standard errors
from zero (σ the scatter) shows the metric rising toward that end."""
PEAK_OVER_SCATTER = 3.0
"""The fitted peak must rise above the window's ends by this many RMS residuals."""

OUTSIDE_SWEEP = "best focus lies outside the sweep"


@dataclass(frozen=True)
class FocusFit:
    """A fitted focus curve, how far its peak stands out, and the position it recommends."""

    best_position: float  # the vertex if ok, else the best sampled position (NaN: none)
    coefficients: tuple[float, float, float] | None  # (a, b, c) for np.polyval, or None
    window: tuple[float, float] | None  # lowest and highest position fitted
    points: int  # valid points in the window
    ok: bool
    reason: str  # why the fit was refused ("" when ok)
    sampled_best: float | None  # the position with the largest metric (None: no point)
    at_edge: bool  # the best sampled point is the sweep's first or last one
    rms: float = math.nan  # RMS of the residuals in the window
    noise: float = math.nan  # σ: the metric's scatter, from the sweep
    contrast: tuple[float, float] = (math.nan, math.nan)
    """(below, above): how many σ the best point stands above the lowest point on its
    low and on its high side (NaN: no point on that side)."""
    trend: float = math.nan  # a straight line's slope over the sweep, in standard errors

    @property
    def bracketed(self) -> bool:
        """Points significantly worse than the best lie on both sides of it: a peak."""
        return all(_significant(self.contrast))

    @property
    def beyond(self) -> int:
        """+1 (−1): the metric rises significantly toward the high (low) end and not
        past the best point: best focus lies above (below) the sweep. 0 otherwise."""
        return _beyond(self.contrast, self.trend)

    @property
    def interior(self) -> bool:
        """A best sampled point exists and has a sampled neighbour on each side."""
        return self.sampled_best is not None and not self.at_edge

    @property
    def peak_sampled(self) -> bool:
        """A significant peak whose parabola was refused (e.g. a peak one point wide):
        its best sampled position is a usable answer."""
        return not self.ok and self.bracketed

    def curve(self, positions: Sequence[float] | np.ndarray) -> np.ndarray:
        """The fitted parabola at ``positions`` (NaN without coefficients)."""
        x = np.asarray(positions, dtype=np.float64)
        if self.coefficients is None:
            return np.full(x.shape, np.nan)
        return np.polyval(self.coefficients, x)


def metric_scatter(positions: np.ndarray, values: np.ndarray) -> float:
    """σ of one point (NaN below :data:`MIN_POINTS`): the biweight scale (robust: a sharp
    peak or a kink barely enters it) of each interior point's deviation from the line
    through its neighbours, scaled to one point's noise."""
    from astropy.stats import biweight_scale

    x, y = np.asarray(positions, np.float64), np.asarray(values, np.float64)
    if x.size < MIN_POINTS:
        return math.nan
    left, right = x[1:-1] - x[:-2], x[2:] - x[1:-1]
    w_low, w_high = right / (left + right), left / (left + right)  # line weights
    deviation = y[1:-1] - (w_low * y[:-2] + w_high * y[2:])
    scaled = deviation / np.sqrt(1.0 + w_low**2 + w_high**2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a MAD of 0 (a smooth curve) → 0
        spread = float(biweight_scale(scaled, modify_sample_size=True))
    return spread if math.isfinite(spread) else 0.0


def _significant(contrast: tuple[float, float]) -> tuple[bool, bool]:
    """Whether each side of the best point is bracketed (see the module docstring)."""
    below, above = (c >= PEAK_SIGNIFICANCE for c in contrast)  # NaN: False
    return below, above


def _beyond(contrast: tuple[float, float], trend: float) -> int:
    below, above = _significant(contrast)
    if below != above:
        return 1 if below else -1
    if not below and abs(trend) >= TREND_SIGNIFICANCE:  # NaN: False
        return 1 if trend > 0 else -1
    return 0


def _trend(x: np.ndarray, y: np.ndarray, noise: float) -> float:
    """The least-squares slope of ``y`` over ``x`` in standard errors (σ = ``noise``)."""
    if x.size < MIN_POINTS or not math.isfinite(noise):
        return math.nan
    dx = x - x.mean()
    spread = float(np.sqrt(np.sum(dx**2)))
    slope = float(np.sum(dx * (y - y.mean()))) / spread**2
    if noise > 0.0:
        return slope * spread / noise
    return math.copysign(math.inf, slope) if slope else 0.0


def _contrast(y: np.ndarray, best: int, noise: float) -> tuple[float, float]:
    """How many σ the best point stands above the lowest point on each side."""
    def side(part: np.ndarray) -> float:
        if part.size == 0:
            return math.nan
        drop = float(y[best] - part.min())
        if noise > 0.0:
            return drop / noise
        return math.inf if drop > 0.0 else 0.0

    return side(y[:best]), side(y[best + 1 :])


def _valid_points(positions: Sequence[float] | np.ndarray,
                  values: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(positions, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    if x.ndim != 1 or y.shape != x.shape:
        raise InvalidValueError(f"focus fit: positions and values must be 1-D of the same "
                                f"length, got shapes {x.shape} and {y.shape}")
    keep = np.isfinite(x) & np.isfinite(y)
    order = np.argsort(x[keep], kind="stable")
    return x[keep][order], y[keep][order]


def _significance_reason(contrast: tuple[float, float], trend: float, noise: float,
                         x: np.ndarray) -> str:
    """Why a peak that is not bracketed on both sides is refused."""
    beyond = _beyond(contrast, trend)
    below, above = (f"{c:.1f}σ" if math.isfinite(c) else "—" for c in contrast)
    if beyond:
        end = x[-1] if beyond > 0 else x[0]
        return (f"the metric still rises toward the sweep's {'high' if beyond > 0 else 'low'} "
                f"end ({end:g}): {OUTSIDE_SWEEP}")
    return (f"no significant peak: the best point stands {below} above the points below "
            f"it and {above} above those above it (σ = {noise:.3g}, the metric's scatter; "
            f"{PEAK_SIGNIFICANCE:g}σ needed on both sides)")


def fit_focus(positions: Sequence[float] | np.ndarray, values: Sequence[float] | np.ndarray,
              *, half_window: int = DEFAULT_HALF_WINDOW) -> FocusFit:
    """Fit the focus curve ``values`` (larger is better) against ``positions``."""
    if isinstance(half_window, bool) or not isinstance(half_window, int) or half_window < 2:
        raise InvalidValueError(f"focus fit: half_window must be an integer >= 2 (a window "
                                f"of at least 5 points), got {half_window!r}")
    x, y = _valid_points(positions, values)
    n = x.size
    if n == 0:
        return FocusFit(math.nan, None, None, 0, False, "no valid metric values",
                        None, True)
    best = int(np.argmax(y))
    sampled = float(x[best])
    at_edge = best in (0, n - 1)
    noise = metric_scatter(x, y)
    contrast = _contrast(y, best, noise) if n >= MIN_POINTS else (math.nan, math.nan)
    trend = _trend(x, y, noise)

    def refused(reason: str, coefficients: tuple[float, float, float] | None = None,
                window: tuple[float, float] | None = None, points: int = 0,
                rms: float = math.nan) -> FocusFit:
        return FocusFit(sampled, coefficients, window, points, False, reason, sampled,
                        at_edge, rms, noise, contrast, trend)

    if n < MIN_POINTS:
        return refused(f"only {n} valid point{'s' if n != 1 else ''} ({MIN_POINTS} needed "
                       "to tell a peak from the scatter)")
    if float(np.ptp(y)) <= 1e-12 * float(np.max(np.abs(y))):
        return refused("the metric does not change over the sweep (a flat curve)")
    size = min(n, 2 * half_window + 1)
    low = min(max(0, best - half_window), n - size)
    wx, wy = x[low : low + size], y[low : low + size]
    window = (float(wx[0]), float(wx[-1]))
    # Fit in centred, scaled coordinates (well conditioned), then convert to positions.
    centre = float(wx.mean())
    scale = max((window[1] - window[0]) / 2.0, 1e-12)
    u = (wx - centre) / scale
    a, b, c = np.polyfit(u, wy, 2)
    fitted_u = np.polyval((a, b, c), u)
    rms = float(np.sqrt(np.mean((wy - fitted_u) ** 2)))
    raw = (float(a / scale**2), float(b / scale - 2.0 * a * centre / scale**2),
           float(a * centre**2 / scale**2 - b * centre / scale + c))
    fitted = (raw, window, int(size), rms)
    if not all(_significant(contrast)):
        return refused(_significance_reason(contrast, trend, noise, x), *fitted)
    if not a < 0:
        return refused("the fitted curve has no peak (it does not open downward)", *fitted)
    vertex_u = -b / (2.0 * a)
    vertex = centre + vertex_u * scale
    if not -1.0 <= vertex_u <= 1.0:
        return refused(f"the fitted peak ({vertex:.0f}) lies outside the fitted points "
                       f"({window[0]:g}..{window[1]:g})", *fitted)
    peak = float(np.polyval((a, b, c), vertex_u))
    rise = peak - float(min(np.polyval((a, b, c), -1.0), np.polyval((a, b, c), 1.0)))
    floor = 1e-9 * float(np.max(np.abs(wy)))
    if not (rise > PEAK_OVER_SCATTER * rms and rise > floor):
        return refused(f"no clear peak: the fitted curve rises {rise:.3g} over the window, "
                       f"the points scatter by {rms:.3g}", *fitted)
    return FocusFit(float(vertex), raw, window, int(size), True, "", sampled, False, rms,
                    noise, contrast, trend)
