"""A picture of a night plan: altitude timeline and sky chart (matplotlib, Agg).

Left: each planned field's altitude through the night, thick during its block, with
the horizon and the twilights. Right: the same blocks as tracks on a polar sky
chart (azimuth round, zenith in the middle) over the local horizon's obstructions.
Uses matplotlib's object API with the Agg canvas: no display, no global state.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from nocturna.scheduler.night import NightWindow
    from nocturna.scheduler.planning import Block
    from nocturna.scheduler.scheduler import Scheduler

_TRACK_STEP_S = 120.0


def plot_plan(scheduler: Scheduler, window: NightWindow, blocks: list[Block],
              path: str | Path, *, title: str | None = None) -> Path:
    """Write the chart of ``blocks`` in ``window`` to ``path`` (PNG); returns the path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(14, 6.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    timeline = figure.add_subplot(1, 2, 1)
    sky = figure.add_subplot(1, 2, 2, projection="polar")
    tables = scheduler.tables(window)
    rows = {f.name: i for i, f in enumerate(scheduler.fields)}
    colours = [f"C{i % 10}" for i in range(len(blocks))]
    _timeline(timeline, scheduler, window, tables, rows, blocks, colours)
    _sky(sky, scheduler, tables, rows, blocks, colours)
    figure.suptitle(title or f"Night plan {window.start:%Y-%m-%d %H:%M} – "
                              f"{window.end:%H:%M} UTC: {len(blocks)} blocks, "
                              f"{sum(b.frames for b in blocks)} frames")
    target = Path(path)
    figure.savefig(target, format="png")
    return target


def _timeline(ax, scheduler, window, tables, rows, blocks, colours) -> None:  # type: ignore[no-untyped-def]
    import matplotlib.dates as mdates

    start = window.flat_start.timestamp()
    end = window.flat_end.timestamp()
    times = np.arange(start, end + _TRACK_STEP_S, _TRACK_STEP_S)
    stamps = np.array([_utc(t) for t in times])
    for block, colour in zip(blocks, colours, strict=True):
        row = rows.get(block.field.name)
        if row is None:
            continue
        alt, _ = tables.altaz_at(times, np.array([row]))
        ax.plot(stamps, alt[0], color=colour, lw=0.8, alpha=0.5)
        inside = (times >= block.start.timestamp()) & (times <= block.end.timestamp())
        span = np.array([block.start.timestamp(), block.end.timestamp()])
        alt_span, _ = tables.altaz_at(span, np.array([row]))
        ax.plot(np.concatenate([[block.start], stamps[inside], [block.end]]),
                np.concatenate([[alt_span[0, 0]], alt[0][inside], [alt_span[0, 1]]]),
                color=colour, lw=3.5, label=f"{block.field.name} ({block.frames})")
    default = scheduler.horizon.default_deg
    ax.axhline(default, color="k", ls="--", lw=1)
    ax.axvspan(window.flat_start, window.start, color="0.85", zorder=0)
    ax.axvspan(window.end, window.flat_end, color="0.85", zorder=0)
    ax.set_ylim(0, 90)
    ax.set_xlim(window.flat_start, window.flat_end)
    ax.set_ylabel("altitude (°)")
    ax.set_xlabel("UTC")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    ax.grid(alpha=0.3)
    if blocks:
        ax.legend(fontsize="x-small", ncol=2, loc="upper right", framealpha=0.8)


def _sky(ax, scheduler, tables, rows, blocks, colours) -> None:  # type: ignore[no-untyped-def]
    ax.set_theta_zero_location("N")
    ax.set_theta_direction(-1)
    ax.set_rlim(0, 90)
    ax.set_yticks([0, 30, 60, 90], labels=["90°", "60°", "30°", "0°"], fontsize="x-small")
    ax.set_xticks(np.radians(np.arange(0, 360, 45)),
                  labels=["N", "NE", "E", "SE", "S", "SW", "W", "NW"])
    az = np.linspace(0.0, 360.0, 721)
    limit = scheduler.horizon.min_altitude(az)
    theta = np.radians(az)
    ax.fill_between(theta, 90.0 - limit, 90.0, color="0.8", zorder=0)
    ax.plot(theta, 90.0 - limit, color="k", lw=1)
    for block, colour in zip(blocks, colours, strict=True):
        row = rows.get(block.field.name)
        if row is None:
            continue
        times = np.linspace(block.start.timestamp(), block.end.timestamp(), 24)
        alt, azimuth = tables.altaz_at(times, np.array([row]))
        ax.plot(np.radians(azimuth[0]), 90.0 - alt[0], color=colour, lw=3)
        ax.annotate(block.field.name, (np.radians(azimuth[0, 0]), 90.0 - alt[0, 0]),
                    fontsize="x-small", color=colour)
    ax.set_title("sky: altitude and azimuth, zenith at the centre", fontsize="small")


def _utc(t_s: float) -> datetime:
    from nocturna.scheduler.night import from_posix

    return from_posix(float(t_s))
