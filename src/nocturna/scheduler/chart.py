"""A picture of a night plan (matplotlib, Agg): altitudes, a timeline, the sky.

Top left: each planned field's altitude through the night, thick during its blocks
and numbered there, with the Moon's altitude (dashed; its phase in the legend), the
horizon and the twilights; UTC below, local time above. Bottom left, on the same time
axis: a Gantt timeline, one row per field (number and name), each block's setup
(slew, pointing correction, autofocus) hatched before its frames, the flat-field
twilights and the autofocus runs marked. Right: the blocks as tracks on a polar sky
chart (azimuth round, zenith in the middle) over the local horizon, numbered as in
the timeline, the numbers placed where they overlap nothing already drawn.
Uses matplotlib's object API with the Agg canvas: no display, no global state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from nocturna.scheduler.night import from_posix

if TYPE_CHECKING:
    from nocturna.scheduler.night import NightWindow
    from nocturna.scheduler.planning import Block
    from nocturna.scheduler.scheduler import Scheduler

_TRACK_STEP_S = 120.0
_MAX_ROWS = 40  # more fields than this: one timeline row for all


@dataclass(frozen=True)
class _Row:
    """One planned field: its number in the chart, colour and table row."""

    number: int
    name: str
    colour: Any
    row: int


def local_zone(site: Any) -> tuple[Any, str]:
    """The site's time zone (``site.timezone``) and its label; without a valid one, a
    fixed offset of the longitude's whole hours, labelled as such."""
    name = getattr(site, "timezone", None)
    if name:
        try:
            return ZoneInfo(str(name)), str(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    hours = round(float(site.longitude.to_value("deg")) / 15.0)
    return timezone(timedelta(hours=hours)), f"UTC{hours:+d} from the longitude"


def plot_plan(scheduler: Scheduler, window: NightWindow, blocks: list[Block],
              path: str | Path, *, title: str | None = None) -> Path:
    """Write the chart of ``blocks`` in ``window`` to ``path`` (PNG); returns the path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(17, 9.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    grid = figure.add_gridspec(2, 2, width_ratios=(1.55, 1), height_ratios=(1.1, 1))
    altitude = figure.add_subplot(grid[0, 0])
    timeline = figure.add_subplot(grid[1, 0], sharex=altitude)
    sky = figure.add_subplot(grid[:, 1], projection="polar")
    tables = scheduler.tables(window)
    rows = _rows(scheduler, blocks)
    zone, zone_label = local_zone(scheduler.site)
    _altitudes(altitude, scheduler, window, tables, rows, blocks, zone, zone_label)
    _timeline(timeline, window, rows, blocks)
    _sky(sky, scheduler, tables, rows, blocks)
    local = window.start.astimezone(zone)
    figure.suptitle(title or f"Night plan for the night of {local:%Y-%m-%d} ({zone_label}): "
                             f"{len(blocks)} blocks, {sum(b.frames for b in blocks)} frames "
                             f"of {len(rows)} fields")
    target = Path(path)
    figure.savefig(target, format="png")
    return target


def _rows(scheduler: Scheduler, blocks: list[Block]) -> dict[str, _Row]:
    """Fields in order of their first block, each with a distinct colour."""
    from matplotlib import colormaps

    index = {f.name: i for i, f in enumerate(scheduler.fields)}
    names = [n for n in dict.fromkeys(b.field.name for b in blocks) if n in index]
    palette = [*colormaps["tab20"].colors, *colormaps["tab20b"].colors]
    if len(names) > len(palette):
        palette = list(colormaps["turbo"](np.linspace(0.05, 0.95, len(names))))
    order = [*range(0, 20, 2), *range(1, 20, 2), *range(20, len(palette))]  # dark first
    return {name: _Row(k + 1, name, palette[order[k % len(order)]], index[name])
            for k, name in enumerate(names)}


def _altitudes(ax, scheduler, window, tables, rows, blocks, zone, zone_label) -> None:  # type: ignore[no-untyped-def]
    import matplotlib.dates as mdates

    from nocturna.scheduler.ephemeris import body_altitudes_deg

    start, end = window.flat_start.timestamp(), window.flat_end.timestamp()
    times = np.arange(start, end + _TRACK_STEP_S, _TRACK_STEP_S)
    stamps = [from_posix(t) for t in times]
    if rows:
        selected = np.array([r.row for r in rows.values()])
        alt, _ = tables.altaz_at(times, selected)
        for k, info in enumerate(rows.values()):
            ax.plot(stamps, alt[k], color=info.colour, lw=0.7, alpha=0.45)
    for block in blocks:
        info = rows.get(block.field.name)
        if info is None:
            continue
        span = np.linspace(block.start.timestamp(), block.end.timestamp(), 16)
        track, _ = tables.altaz_at(span, np.array([info.row]))
        ax.plot([from_posix(t) for t in span], track[0], color=info.colour, lw=3.5,
                solid_capstyle="butt")
        middle = len(span) // 2
        ax.annotate(str(info.number), (from_posix(span[middle]), track[0, middle]),
                    xytext=(0, 5), textcoords="offset points", ha="center",
                    fontsize="x-small", fontweight="bold", color=info.colour)
    moon = tables.ephemeris.moon_at(times)
    moon_alt = body_altitudes_deg(tables.frame, moon, times)
    ax.plot(stamps, moon_alt, color="0.35", ls="--", lw=1.4,
            label=f"Moon, {_moon_phase(tables, times)}")
    ax.axhline(scheduler.horizon.default_deg, color="k", ls=":", lw=1,
               label=f"horizon {scheduler.horizon.default_deg:g}°")
    _twilights(ax, window)
    ax.set_ylim(0, 90)
    ax.set_xlim(window.flat_start, window.flat_end)
    ax.set_ylabel("altitude (°)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(0.0, -0.02), ncol=3,
              frameon=False, borderaxespad=0.0)
    ax.tick_params(labelbottom=False)
    local = ax.secondary_xaxis("top")
    local.xaxis.set_major_locator(mdates.HourLocator(interval=2, tz=zone))
    local.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=zone))
    local.set_xlabel(f"local time ({zone_label})")


def _moon_phase(tables, times: np.ndarray) -> str:  # type: ignore[no-untyped-def]
    """The Moon's illuminated fraction at the middle of the night, waxing or waning."""
    def lit(t_s: float) -> float:
        sun, moon = tables.ephemeris.sun_at(t_s), tables.ephemeris.moon_at(t_s)
        elongation = math.acos(max(-1.0, min(1.0, float(np.dot(sun, moon)))))
        return (1.0 - math.cos(elongation)) / 2.0

    middle = float(times[len(times) // 2])
    trend = "waxing" if lit(float(times[-1])) >= lit(float(times[0])) else "waning"
    return f"{lit(middle) * 100:.0f} % lit, {trend}"


def _twilights(ax, window) -> None:  # type: ignore[no-untyped-def]
    for begin, finish in ((window.flat_start, window.start), (window.end, window.flat_end)):
        ax.axvspan(begin, finish, color="0.88", zorder=0)


def _timeline(ax, window, rows, blocks) -> None:  # type: ignore[no-untyped-def]
    import matplotlib.dates as mdates

    one_row = len(rows) > _MAX_ROWS
    count = 1 if one_row else len(rows)
    flats_y = count  # the flats row below the fields
    for block in blocks:
        info = rows.get(block.field.name)
        if info is None:
            continue
        y = 0 if one_row else info.number - 1
        begin = mdates.date2num(block.slew_start)
        first = mdates.date2num(block.start)
        ax.broken_barh([(begin, first - begin)], (y - 0.35, 0.7), facecolors="white",
                       edgecolors=info.colour, hatch="////", lw=0.6)
        ax.broken_barh([(first, mdates.date2num(block.end) - first)], (y - 0.35, 0.7),
                       facecolors=info.colour)
        if block.focus_s > 0:
            focus_end = first
            focus_begin = mdates.date2num(block.start - timedelta(seconds=block.focus_s))
            ax.broken_barh([(focus_begin, focus_end - focus_begin)], (y - 0.45, 0.9),
                           facecolors="black")
    for begin, finish, label in ((window.flat_start, window.start, "evening flats"),
                                 (window.end, window.flat_end, "morning flats")):
        ax.broken_barh([(mdates.date2num(begin),
                         mdates.date2num(finish) - mdates.date2num(begin))],
                       (flats_y - 0.35, 0.7), facecolors="0.7")
        ax.text(begin + (finish - begin) / 2, flats_y, label, ha="center", va="center",
                fontsize="x-small")
    _twilights(ax, window)
    labels = ["fields"] if one_row else [f"{r.number} {r.name}" for r in rows.values()]
    ax.set_yticks(range(count + 1), labels=[*labels, "flats"], fontsize="x-small")
    for tick, info in zip(ax.get_yticklabels(), rows.values(), strict=False):
        if not one_row:
            tick.set_color(_darker(info.colour))
    ax.set_ylim(count + 0.6, -0.6)
    ax.set_xlabel("UTC  (each block: slew and pointing correction hatched, autofocus "
                  "black, then its frames)")
    ax.xaxis.set_major_locator(mdates.HourLocator(interval=2))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    ax.grid(axis="x", alpha=0.3)


def _sky(ax, scheduler, tables, rows, blocks) -> None:  # type: ignore[no-untyped-def]
    ax.set_theta_zero_location("N")
    ax.set_theta_direction(-1)
    ax.set_rlim(0, 90)
    ax.set_yticks([0, 30, 60, 90], labels=["90°", "60°", "30°", "0°"], fontsize="x-small")
    ax.set_xticks(np.radians(np.arange(0, 360, 45)),
                  labels=["N", "NE", "E", "SE", "S", "SW", "W", "NW"])
    az = np.linspace(0.0, 360.0, 721)
    limit = scheduler.horizon.min_altitude(az)
    theta = np.radians(az)
    ax.fill_between(theta, 90.0 - limit, 90.0, color="0.85", zorder=0)
    ax.plot(theta, 90.0 - limit, color="k", lw=1)
    anchors = []
    for block in blocks:
        info = rows.get(block.field.name)
        if info is None:
            continue
        times = np.linspace(block.start.timestamp(), block.end.timestamp(), 24)
        alt, azimuth = tables.altaz_at(times, np.array([info.row]))
        ax.plot(np.radians(azimuth[0]), 90.0 - alt[0], color=info.colour, lw=3,
                solid_capstyle="butt")
        anchors.append((info, float(np.radians(azimuth[0, 12])), float(90.0 - alt[0, 12])))
    _place_labels(ax, anchors)
    ax.set_title("sky: the blocks' tracks (zenith at the centre, grey: below the horizon)",
                 fontsize="small")


def _place_labels(ax, anchors) -> None:  # type: ignore[no-untyped-def]
    """Number each track at a spot near its middle where no earlier label lies."""
    figure = ax.figure
    renderer = figure.canvas.get_renderer()
    taken: list[Any] = []
    offsets = [(dx * r, dy * r) for r in (7, 13, 20, 28)
               for dx, dy in ((1, 1), (-1, 1), (1, -1), (-1, -1), (1.4, 0), (-1.4, 0),
                              (0, 1.4), (0, -1.4))]
    done: set[int] = set()
    style = {"textcoords": "offset points", "ha": "center", "va": "center",
             "fontsize": "x-small", "fontweight": "bold"}
    for info, theta, radius in anchors:
        if info.number in done:
            continue
        done.add(info.number)
        probe = ax.annotate(str(info.number), (theta, radius), xytext=offsets[0], **style)
        chosen = offsets[0]
        for dx, dy in offsets:
            probe.set_position((dx, dy))
            box = probe.get_window_extent(renderer).expanded(1.15, 1.15)
            if not any(box.overlaps(other) for other in taken):
                chosen = (dx, dy)
                break
        probe.set_position(chosen)
        taken.append(probe.get_window_extent(renderer))
        probe.remove()
        ax.annotate(str(info.number), (theta, radius), xytext=chosen,
                    color=_darker(info.colour),
                    arrowprops={"arrowstyle": "-", "color": info.colour, "lw": 0.5}, **style)


def _darker(colour: Any) -> tuple[float, float, float]:
    """``colour`` mixed with a third of black: light palette entries stay readable."""
    from matplotlib.colors import to_rgb

    return tuple(0.67 * c for c in to_rgb(colour))  # type: ignore[return-value]
