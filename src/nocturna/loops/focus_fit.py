"""The best focuser position from a sweep: a parabola fitted around the sharpest point.

The caller gives focuser positions and a focus metric for each, oriented so that
**larger is better** (negate HFR or FWHM first). Non-finite points (a frame without
stars) are dropped. A parabola ``a·x² + b·x + c`` is fitted by least squares to the
best point and its neighbours (``half_window`` on each side, seven points by default;
a window that would run off an end of the sweep is shifted inwards so it keeps its
size), and its vertex is the best position.

The fit is refused (``ok`` False, ``reason`` says why, ``best_position`` falls back to
the best sampled position) when fewer than three points are valid, when the metric
does not change at all, when the best point is the first or last of the sweep (best
focus may lie outside it), when the parabola does not open downward, when its vertex
lies outside the window's span, or when the fitted peak does not stand out of the
scatter of the points around it. A refused fit whose best sampled point is interior
and stands out of the sweep's noise (:attr:`FocusFit.peak_sampled`: a peak too narrow
for the step, say) still gives a usable position; a noise-only sweep does not.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nocturna.core.errors import InvalidValueError

_MAD_TO_SIGMA = 1.4826

DEFAULT_HALF_WINDOW = 3
PEAK_OVER_SCATTER = 3.0
"""The fitted peak must rise above the window's ends by this many RMS residuals."""
MIN_PROMINENCE = 8.0
"""A refused fit's best sampled point is still usable if it lies this many robust
standard deviations above the sweep's median (see :attr:`FocusFit.prominence`); pure
noise gets there about once in 5 000 sweeps of 21 points."""

OUTSIDE_SWEEP = "best focus may be outside the sweep"


@dataclass(frozen=True)
class FocusFit:
    """A fitted focus curve and the position it recommends."""

    best_position: float  # the vertex if ok, else the best sampled position (NaN: none)
    coefficients: tuple[float, float, float] | None  # (a, b, c) for np.polyval, or None
    window: tuple[float, float] | None  # lowest and highest position fitted
    points: int  # valid points in the window
    ok: bool
    reason: str  # why the fit was refused ("" when ok)
    sampled_best: float | None  # the position with the largest metric (None: no point)
    at_edge: bool  # the best sampled point is the sweep's first or last one
    rms: float = math.nan  # RMS of the residuals in the window
    prominence: float = math.nan  # (max − median) / (1.4826·MAD) over the whole sweep

    @property
    def interior(self) -> bool:
        """A best sampled point exists and has a sampled neighbour on each side."""
        return self.sampled_best is not None and not self.at_edge

    @property
    def peak_sampled(self) -> bool:
        """The best sampled point is interior and stands out of the noise: a usable
        answer even when the parabola was refused (e.g. a peak one point wide)."""
        return self.interior and self.prominence >= MIN_PROMINENCE

    def curve(self, positions: Sequence[float] | np.ndarray) -> np.ndarray:
        """The fitted parabola at ``positions`` (NaN without coefficients)."""
        x = np.asarray(positions, dtype=np.float64)
        if self.coefficients is None:
            return np.full(x.shape, np.nan)
        return np.polyval(self.coefficients, x)


def _prominence(y: np.ndarray) -> float:
    """How far the largest value stands above the median, in robust standard deviations.

    High for a narrow peak over a noisy floor (a coarse sweep's), low for noise alone;
    also low for a peak spanning most of the sweep, whose fit is rarely refused.
    """
    if y.size < 3:
        return math.nan
    median = float(np.median(y))
    noise = _MAD_TO_SIGMA * float(np.median(np.abs(y - median)))
    height = float(np.max(y)) - median
    if noise == 0.0:
        return math.inf if height > 0 else 0.0
    return height / noise


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
    prominence = _prominence(y)

    def refused(reason: str, coefficients: tuple[float, float, float] | None = None,
                window: tuple[float, float] | None = None, points: int = 0,
                rms: float = math.nan) -> FocusFit:
        return FocusFit(sampled, coefficients, window, points, False, reason, sampled,
                        at_edge, rms, prominence)

    if n < 3:
        return refused(f"only {n} valid point{'s' if n != 1 else ''} (3 needed)")
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
    if at_edge:
        side = "first" if best == 0 else "last"
        return refused(f"the best point ({sampled:g}) is the sweep's {side}: "
                       f"{OUTSIDE_SWEEP}", *fitted)
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
                    prominence)
