"""A PNG of one autofocus sweep: the focus curve, its fit, and the frames at the lowest
position, at the sharpest one and at the highest position (the same star field: the
mount tracks), each on an asinh stretch from its sky level to its brightest stars.

Drawn with matplotlib's object interface on the Agg canvas (no pyplot, no global
state, safe in a worker thread) and written atomically (:mod:`nocturna.core.atomic`).
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nocturna.core.atomic import atomic_write_bytes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from nocturna.loops.autofocus import FocusResult, FocusSweep

_NEGATED = {"hfr": "HFR (px)", "fwhm": "FWHM (px)"}  # metrics the sweep stores negated


def _norm(data: np.ndarray) -> Any:
    """An asinh stretch from just below the sky (zscale's low limit) to the 99.9th
    percentile: faint wide stars and sharp bright ones both show."""
    from astropy.visualization import AsinhStretch, ImageNormalize, ZScaleInterval

    finite = data[np.isfinite(data)]
    if finite.size == 0:
        return ImageNormalize(vmin=0.0, vmax=1.0)
    try:
        low = float(ZScaleInterval().get_limits(finite)[0])
    except Exception:
        low = float(np.percentile(finite, 1.0))
    high = float(np.percentile(finite, 99.9))
    if not high > low:
        low, high = float(finite.min()), float(finite.max()) + 1e-9
    return ImageNormalize(vmin=low, vmax=high, stretch=AsinhStretch(0.05))


def _show_cutout(axes: Axes, data: np.ndarray | None, title: str) -> None:
    axes.set_axis_off()
    axes.set_title(title, fontsize=9)
    if data is None:
        axes.text(0.5, 0.5, "no frame", ha="center", va="center", transform=axes.transAxes)
        return
    image = np.asarray(data, dtype=np.float64)
    axes.imshow(image, origin="lower", cmap="gray", norm=_norm(image),
                interpolation="nearest")


def save_focus_plot(path: str | os.PathLike[str], result: FocusResult, *,
                    sweep: FocusSweep | None = None) -> Path:
    """Write the plot of ``sweep`` (default: the result's last) to ``path``; returns it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path = Path(path)
    if sweep is None:
        if not result.sweeps:
            raise ValueError("the focus result has no sweep to plot")
        sweep = result.sweeps[-1]
    fit = sweep.fit
    label = _NEGATED.get(result.metric)
    sign = -1.0 if label else 1.0
    positions = np.asarray(sweep.positions, dtype=np.float64)
    values = sign * np.asarray(sweep.metrics, dtype=np.float64)

    figure = Figure(figsize=(9.0, 8.0), layout="constrained")
    FigureCanvasAgg(figure)
    grid = figure.add_gridspec(2, 3, height_ratios=(1.4, 1.0))
    curve = figure.add_subplot(grid[0, :])
    measured = np.isfinite(values)
    curve.plot(positions[measured], values[measured], "o", color="tab:blue", label="measured")
    if (~measured).any():
        curve.plot(positions[~measured], np.full((~measured).sum(), np.nanmin(values)
                                                  if measured.any() else 0.0),
                   "x", color="tab:gray", label="not measurable")
    if fit.coefficients is not None and fit.window is not None:
        xs = np.linspace(fit.window[0], fit.window[1], 200)
        curve.plot(xs, sign * fit.curve(xs), "-", color="tab:orange",
                   label="fit" if fit.ok else "fit (refused)")
    best = fit.best_position
    if math.isfinite(best):
        curve.axvline(best, color="tab:green", label=f"best {best:.0f}")
    start = result.start_position
    if sweep.positions and sweep.positions[0] <= start <= sweep.positions[-1]:
        curve.axvline(start, color="tab:red", linestyle="--", label=f"start {start}")
    if sweep.centre != start:
        curve.axvline(sweep.centre, color="tab:gray", linestyle=":",
                      label=f"sweep centre {sweep.centre}")
    curve.set_xlabel("focuser position (steps)")
    curve.set_ylabel(label or f"{result.metric} (larger is sharper)")
    curve.grid(alpha=0.3)
    curve.legend(fontsize=8, loc="best")
    if not fit.ok:
        curve.text(0.01, 0.02, fit.reason, transform=curve.transAxes, fontsize=8,
                   color="tab:red", wrap=True)
    best_text = f"{best:.0f}" if math.isfinite(best) else "none"
    who = result.focuser if result.name in ("", result.focuser) else \
        f"{result.focuser} ({result.name})"
    extended = f"  (extended {sweep.extensions}×)" if sweep.extensions else ""
    figure.suptitle(f"{who} {sweep.kind} focus  {sweep.started:%Y-%m-%d %H:%M:%S}Z"
                    f"  best {best_text}{extended}")
    ends = (sweep.positions[0], sweep.positions[-1]) if sweep.positions else (None, None)
    for column, (data, title, where) in enumerate((
            (sweep.first_cutout, "lowest", ends[0]),
            (sweep.best_cutout, "sharpest", sweep.best_cutout_position),
            (sweep.last_cutout, "highest", ends[1]))):
        _show_cutout(figure.add_subplot(grid[1, column]), data,
                     title if where is None else f"{title}: {where}")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    return atomic_write_bytes(path, buffer.getvalue())
