"""Autofocus: sweep the focuser, measure each frame, move to the fitted best position.

A run reads a central ``cutout`` × ``cutout`` subframe (binned pixels), optionally
after one dark frame of the same exposure that is subtracted from every frame and
whose hot pixels (above median + 5 × 1.4826·MAD) are replaced by the median of their
valid 3 × 3 neighbours. A sweep visits ``centre ± range/2`` in ``step``-sized steps,
clipped to the focuser's limits, always from low to high (one direction, so backlash
does not enter), and measures each frame with a metric where larger is sharper.
:func:`~nocturna.loops.focus_fit.fit_focus` judges the curve against its own scatter.
While the metric rises significantly toward an end of the sweep (best focus beyond
it), the sweep is extended that way by half its range, again and again, until the
peak is inside or the focuser's limit is reached. The focuser then approaches the best
position from below (from one step under it when it stands above).

``coarse=True`` runs a coarse sweep around the current position and, if it found a
significant peak, a fine sweep around it; otherwise one fine sweep. The result says
``success`` only for a significant peak (its fitted vertex, or its best sampled
position when the parabola was refused: ``fit_ok`` False). A run without a significant
peak fails and returns the focuser to where it started; one stopped by a limit fails
and leaves it at the best sampled position, the reason naming the limit. The camera's
binning and subframe are restored afterwards, whatever happens; a run that raises or
is cancelled also returns the focuser to where it started and re-raises.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nocturna.core.clock import Clock, get_clock
from nocturna.core.errors import InvalidValueError, NocturnaError
from nocturna.devices.camera import Camera, CameraStatus
from nocturna.devices.focuser import Focuser
from nocturna.devices.types import CameraState
from nocturna.images.cutout import central
from nocturna.images.metrics import detect_stars, half_flux_radius, vollath_f4
from nocturna.loops.focus_fit import MIN_POINTS, FocusFit, fit_focus

if TYPE_CHECKING:
    from nocturna.core.config.models import AutofocusConfig
    from nocturna.core.events import EventBus

log = logging.getLogger(__name__)

Metric = Callable[[np.ndarray], float]
"""A focus metric: one frame → a number, larger is sharper (NaN: not measurable)."""

HOT_PIXEL_SIGMA = 5.0
_MAD_TO_SIGMA = 1.4826


# --- metrics -------------------------------------------------------------------------


def _vollath_f4(data: np.ndarray) -> float:
    return vollath_f4(data)


def _negative_hfr(data: np.ndarray) -> float:
    hfr = half_flux_radius(data)
    return math.nan if hfr is None else -hfr


def _negative_fwhm(data: np.ndarray) -> float:
    widths = [star.fwhm for star in detect_stars(data) if star.fwhm is not None]
    return -float(np.median(widths)) if widths else math.nan


METRICS: dict[str, Metric] = {
    "vollath_f4": _vollath_f4,
    "hfr": _negative_hfr,  # negated: larger is sharper; NaN without stars
    "fwhm": _negative_fwhm,
}


def resolve_metric(metric: str | Metric) -> tuple[str, Metric]:
    """A metric name or callable → (name, callable)."""
    if isinstance(metric, str):
        if metric not in METRICS:
            raise InvalidValueError(f"autofocus metric {metric!r} is not one of "
                                    f"{', '.join(METRICS)} (or a callable)")
        return metric, METRICS[metric]
    if callable(metric):
        return str(getattr(metric, "__name__", None) or type(metric).__name__), metric
    raise InvalidValueError(f"autofocus metric {metric!r} is neither a name nor a callable")


# --- settings ------------------------------------------------------------------------


@dataclass(frozen=True)
class AutofocusSettings:
    """How a run sweeps and measures (see the module docstring); checked on creation."""

    exposure_s: float
    coarse_range: int  # focuser steps, the whole sweep's width
    coarse_step: int
    fine_range: int
    fine_step: int
    cutout_px: int  # central square, binned pixels
    dark_frame: bool
    metric: str | Metric
    plots: bool

    def __post_init__(self) -> None:
        exposure = self.exposure_s
        if isinstance(exposure, bool) or not isinstance(exposure, int | float) or \
                not math.isfinite(exposure) or exposure <= 0:
            raise InvalidValueError(f"autofocus exposure_s must be a number > 0, "
                                    f"got {exposure!r}")
        for name in ("coarse_range", "coarse_step", "fine_range", "fine_step", "cutout_px"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise InvalidValueError(f"autofocus {name} must be an integer > 0, "
                                        f"got {value!r}")
        for kind in ("coarse", "fine"):
            span, step = getattr(self, f"{kind}_range"), getattr(self, f"{kind}_step")
            if span < (MIN_POINTS - 1) * step:
                raise InvalidValueError(f"autofocus {kind}_range {span} must be at least "
                                        f"{MIN_POINTS - 1} × {kind}_step {step} "
                                        f"({MIN_POINTS} positions)")
        if self.cutout_px < 32:
            raise InvalidValueError(f"autofocus cutout_px must be >= 32, got {self.cutout_px}")
        for name in ("dark_frame", "plots"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidValueError(f"autofocus {name} must be true or false, "
                                        f"got {getattr(self, name)!r}")
        resolve_metric(self.metric)

    @classmethod
    def from_config(cls, cfg: AutofocusConfig, **overrides: Any) -> AutofocusSettings:
        """From ``observatory.autofocus``; ``overrides`` replace fields by name."""
        values: dict[str, Any] = {
            "exposure_s": float(cfg.exposure.to_value("s")),
            "coarse_range": cfg.coarse_range, "coarse_step": cfg.coarse_step,
            "fine_range": cfg.fine_range, "fine_step": cfg.fine_step,
            "cutout_px": cfg.cutout, "dark_frame": cfg.dark_frame, "metric": cfg.metric,
            "plots": cfg.plots,
        }
        unknown = set(overrides) - {f.name for f in fields(cls)}
        if unknown:
            raise InvalidValueError(f"autofocus settings have no {', '.join(sorted(unknown))}")
        values.update(overrides)
        return cls(**values)


# --- results -------------------------------------------------------------------------


def _number(value: float | None) -> float | None:
    """JSON-safe: NaN and infinities become None."""
    return None if value is None or not math.isfinite(value) else float(value)


@dataclass
class FocusSweep:
    """One sweep (with its extensions): where it measured, what, and the fit."""

    kind: str  # "coarse" or "fine"
    centre: int  # the position the sweep was centred on
    started: datetime
    positions: list[int]  # ascending
    metrics: list[float]  # NaN where the frame could not be measured
    fit: FocusFit
    extensions: int = 0  # times the sweep was extended toward a rising metric
    limit: int | None = None  # the focuser limit that stopped an extension
    first_cutout: np.ndarray | None = field(default=None, repr=False, compare=False)
    last_cutout: np.ndarray | None = field(default=None, repr=False, compare=False)
    best_cutout: np.ndarray | None = field(default=None, repr=False, compare=False)
    best_cutout_position: int | None = None  # where the sharpest frame was taken
    best_cutout_metric: float = field(default=math.nan, repr=False, compare=False)

    def add(self, position: int, value: float, data: np.ndarray) -> None:
        """One measured frame, kept in position order; the frames at the lowest and the
        highest position and the sharpest one are kept."""
        index = bisect.bisect(self.positions, position)
        self.positions.insert(index, position)
        self.metrics.insert(index, value)
        if index == 0:
            self.first_cutout = data
        if index == len(self.positions) - 1:
            self.last_cutout = data
        if math.isfinite(value) and not value <= self.best_cutout_metric:
            self.best_cutout, self.best_cutout_position = data, position
            self.best_cutout_metric = value

    def as_record(self) -> dict[str, Any]:
        fit = self.fit
        return {
            "kind": self.kind, "centre": self.centre, "started": self.started.isoformat(),
            "positions": list(self.positions),
            "metrics": [_number(value) for value in self.metrics],
            "extensions": self.extensions, "limit": self.limit,
            "fit": {"ok": fit.ok, "reason": fit.reason,
                    "best_position": _number(fit.best_position),
                    "sampled_best": _number(fit.sampled_best),
                    "coefficients": None if fit.coefficients is None else list(fit.coefficients),
                    "window": None if fit.window is None else list(fit.window),
                    "points": fit.points, "rms": _number(fit.rms),
                    "noise": _number(fit.noise),
                    "contrast": [_number(value) for value in fit.contrast]},
        }


@dataclass
class FocusResult:
    """What an autofocus run did (``as_record`` for storage telemetry kind "focus")."""

    focuser: str
    name: str  # who ran it (the events' source): the focuser, or e.g. the instrument
    kind: str  # "coarse" (a coarse then a fine sweep) or "fine"
    sweeps: list[FocusSweep]
    start_position: int
    best_position: int  # where the focuser was left
    success: bool
    reason: str  # what was found, what was settled for, or why it failed
    started: datetime
    duration_s: float  # clock seconds, plots excluded
    temperature_c: float | None  # the focuser's, at the start
    metric: str
    frames: int = 0  # exposures taken, the dark included
    plot_paths: list[Path] = field(default_factory=list)

    @property
    def fit_ok(self) -> bool:
        """The last sweep's curve fit was accepted."""
        return bool(self.sweeps) and self.sweeps[-1].fit.ok

    @property
    def change(self) -> int:
        return self.best_position - self.start_position

    def as_record(self) -> dict[str, Any]:
        """A JSON-serialisable summary (NaN → None, times as ISO text)."""
        return {
            "focuser": self.focuser, "name": self.name, "kind": self.kind,
            "metric": self.metric,
            "start_position": self.start_position, "best_position": self.best_position,
            "change": self.change, "success": self.success, "fit_ok": self.fit_ok,
            "reason": self.reason, "started": self.started.isoformat(),
            "duration_s": round(self.duration_s, 3),
            "temperature_c": _number(self.temperature_c), "frames": self.frames,
            "plot_paths": [str(path) for path in self.plot_paths],
            "sweeps": [sweep.as_record() for sweep in self.sweeps],
        }


# --- frames --------------------------------------------------------------------------


def sweep_positions(centre: int, span: int, step: int, max_step: int) -> list[int]:
    """``centre ± span/2`` every ``step`` (symmetric), clipped to 0..max_step, ascending."""
    half = span // 2 // step
    raw = (min(max(centre + k * step, 0), max_step) for k in range(-half, half + 1))
    return sorted(set(raw))


def extension(positions: list[int], direction: int, reach: int, step: int,
              max_step: int) -> list[int]:
    """Positions beyond the high (``direction`` > 0) or the low end of ``positions``,
    every ``step`` up to ``reach`` away, clipped to 0..max_step, ascending ([] at the
    limit)."""
    count = max(1, reach // step)
    if direction > 0:
        raw = (min(positions[-1] + k * step, max_step) for k in range(1, count + 1))
        return sorted({p for p in raw if p > positions[-1]})
    raw = (max(positions[0] - k * step, 0) for k in range(1, count + 1))
    return sorted({p for p in raw if p < positions[0]})


def hot_pixel_mask(dark: np.ndarray, *, sigma: float = HOT_PIXEL_SIGMA) -> np.ndarray:
    """Pixels of ``dark`` above its median + ``sigma`` × 1.4826·MAD."""
    values = np.asarray(dark, dtype=np.float64)
    median = float(np.median(values))
    spread = _MAD_TO_SIGMA * float(np.median(np.abs(values - median)))
    if spread == 0.0:
        spread = float(np.std(values))
    if spread == 0.0:
        return np.zeros(values.shape, dtype=bool)
    return values > median + sigma * spread


def clean_frame(light: np.ndarray, dark: np.ndarray | None = None,
                hot: np.ndarray | None = None) -> np.ndarray:
    """``light`` − ``dark`` as floats, ``hot`` pixels replaced by the median of their
    3 × 3 neighbours that are not hot themselves (only those pixels are evaluated)."""
    frame = np.array(light, dtype=np.float64)
    if dark is not None:
        frame -= dark
    if hot is None or not hot.any():
        return frame
    ys, xs = np.nonzero(hot)
    padded = np.pad(np.where(hot, np.nan, frame), 1, mode="constant", constant_values=np.nan)
    neighbours = np.stack([padded[ys + 1 + dy, xs + 1 + dx]
                           for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a pixel with only hot neighbours
        replacement = np.nanmedian(neighbours, axis=0)
    lost = ~np.isfinite(replacement)
    if lost.any():
        replacement[lost] = float(np.median(frame[~hot])) if (~hot).any() else 0.0
    frame[ys, xs] = replacement
    return frame


# --- devices -------------------------------------------------------------------------


async def _move(focuser: Focuser, target: int, max_increment: int) -> None:
    """Move and wait, in pieces no longer than the focuser's largest single move."""
    while True:
        position = (await focuser.state()).position
        gap = target - position
        if abs(gap) <= max_increment:
            await focuser.move_and_wait(target)
            return
        await focuser.move_and_wait(position + (max_increment if gap > 0 else -max_increment))


async def _approach(focuser: Focuser, target: int, step: int, max_increment: int) -> None:
    """Arrive at ``target`` moving up: from one ``step`` below it if above it now."""
    if (await focuser.state()).position > target:
        await _move(focuser, max(0, target - step), max_increment)
    await _move(focuser, target, max_increment)


async def _use_cutout(camera: Camera, size: int) -> None:
    """Read out only the central ``size`` × ``size`` binned pixels, if the camera can."""
    state, info = await camera.state(), await camera.info()
    width, height = info.width // state.bin_x, info.height // state.bin_y
    num_x, num_y = min(size, width), min(size, height)
    try:
        await camera.set_subframe((width - num_x) // 2, (height - num_y) // 2, num_x, num_y)
    except NocturnaError as exc:
        log.info("%s: no subframe (%s): the central cutout is cropped after readout",
                 camera.name, exc)


async def _stop_exposure(camera: Camera) -> None:
    with contextlib.suppress(Exception):
        state = await camera.state()
        if state.camera_state in (CameraState.EXPOSING, CameraState.READING,
                                  CameraState.WAITING, CameraState.DOWNLOAD):
            await camera.abort_exposure()


async def _restore_camera(camera: Camera, before: CameraStatus) -> None:
    """Binning and subframe back as they were (errors logged, never raised)."""
    try:
        await camera.set_frame(before.bin_x, before.bin_y, before.start_x, before.start_y,
                               before.num_x, before.num_y)
    except Exception as exc:
        log.error("%s: could not restore the binning and subframe: %s", camera.name, exc)


# --- the run -------------------------------------------------------------------------


class _Run:
    """One autofocus run's devices, settings and bookkeeping."""

    def __init__(self, camera: Camera, focuser: Focuser, settings: AutofocusSettings,
                 measure: Metric, clock: Clock, events: EventBus | None, name: str,
                 max_step: int, max_increment: int) -> None:
        self.camera, self.focuser, self.settings = camera, focuser, settings
        self.measure_frame = measure
        self.clock, self.events, self.name = clock, events, name
        self.max_step, self.max_increment = max_step, max_increment
        self.dark: np.ndarray | None = None
        self.hot: np.ndarray | None = None
        self.frames = 0

    def publish(self, topic: str, **data: Any) -> None:
        if self.events is not None:
            self.events.publish(f"focus.{topic}", self.name, time=self.clock.now(), **data)

    async def expose(self, light: bool) -> np.ndarray:
        image = await self.camera.expose(self.settings.exposure_s, light)
        self.frames += 1
        return central(np.asarray(image.data), self.settings.cutout_px)

    async def take_dark(self) -> None:
        dark = (await self.expose(False)).astype(np.float64)
        hot = await asyncio.to_thread(hot_pixel_mask, dark)
        self.dark, self.hot = dark, hot
        log.info("%s: dark frame taken, %d hot pixels masked", self.name, int(hot.sum()))

    async def frame(self) -> np.ndarray:
        light = await self.expose(True)
        dark, hot = self.dark, self.hot
        if dark is not None and dark.shape != light.shape:
            log.warning("%s: the dark frame %s does not match the frame %s; not used",
                        self.name, dark.shape, light.shape)
            dark = hot = None
        return await asyncio.to_thread(clean_frame, light, dark, hot)

    async def sweep(self, kind: str, centre: int, span: int, step: int) -> FocusSweep:
        """Measure ``centre ± span/2``; while the metric rises toward an end, extend the
        sweep that way by half its span, up to the focuser's limit."""
        planned = sweep_positions(centre, span, step, self.max_step)
        sweep = FocusSweep(kind, centre, self.clock.now(), [], [], fit_focus([], []))
        log.info("%s: %s sweep %d..%d every %d steps", self.name, kind, planned[0],
                 planned[-1], step)
        await self.measure(sweep, planned)
        reach = max(step, span // 2 // step * step)
        while (direction := sweep.fit.beyond) != 0:
            more = extension(sweep.positions, direction, reach, step, self.max_step)
            if not more:
                sweep.limit = self.max_step if direction > 0 else 0
                break
            log.info("%s: %s sweep: the metric rises toward %d: extended to %d..%d",
                     self.name, kind, sweep.positions[-1 if direction > 0 else 0], more[0],
                     more[-1])
            sweep.extensions += 1
            await self.measure(sweep, more)
        log.info("%s: %s sweep: %s", self.name, kind,
                 f"best {sweep.fit.best_position:.0f}" if sweep.fit.ok else sweep.fit.reason)
        return sweep

    async def measure(self, sweep: FocusSweep, positions: list[int]) -> None:
        """Frame and measure at ``positions`` (ascending, the first approached from
        below), add them to ``sweep`` in position order and fit it again."""
        step = positions[1] - positions[0] if len(positions) > 1 else self.settings.fine_step
        total = len(sweep.positions) + len(positions)
        for index, position in enumerate(positions):
            if index == 0:
                await _approach(self.focuser, position, step, self.max_increment)
            else:
                await _move(self.focuser, position, self.max_increment)
            data = await self.frame()
            raw = await asyncio.to_thread(self.measure_frame, data)
            value = math.nan if raw is None else float(raw)
            if not math.isfinite(value):
                value = math.nan
            sweep.add(position, value, data)
            self.publish("progress", kind=sweep.kind, index=len(sweep.positions),
                         total=total, position=position, metric=_number(value))
        sweep.fit = fit_focus(sweep.positions, sweep.metrics)

    def clip(self, position: float) -> int:
        return min(max(round(position), 0), self.max_step)


def _settle(sweep: FocusSweep, start: int) -> tuple[float, bool, str]:
    """Where to go after a sweep, whether that is a success, and why (not)."""
    fit, kind = sweep.fit, sweep.kind
    if fit.ok:
        return fit.best_position, True, f"fitted best focus at {fit.best_position:.0f}"
    if fit.sampled_best is None:
        return float(start), False, f"{kind} sweep: {fit.reason}; back at the start"
    if fit.peak_sampled:
        return fit.sampled_best, True, f"{kind} fit refused ({fit.reason}); " \
                                       "went to the best sampled position"
    if fit.beyond and sweep.limit is not None:
        which = "upper" if fit.beyond > 0 else "lower"
        return fit.sampled_best, False, f"{kind} sweep: the metric still rises at the " \
            f"focuser's {which} limit ({sweep.limit}): best focus lies beyond it; left " \
            "at the best sampled position"
    return float(start), False, f"{kind} sweep: {fit.reason}; back at the start"


async def run_autofocus(camera: Camera, focuser: Focuser, settings: AutofocusSettings, *,
                        coarse: bool = False, plot_dir: str | Path | None = None,
                        clock: Clock | None = None, metric: str | Metric | None = None,
                        events: EventBus | None = None, name: str = "") -> FocusResult:
    """Focus ``camera`` with ``focuser``; see the module docstring.

    ``metric`` (a name of :data:`METRICS` or a callable, larger is sharper) replaces
    ``settings.metric``. With ``settings.plots`` and a ``plot_dir``, one PNG per sweep
    (``focus_<YYYYmmddTHHMMSS>_<kind>.png``) goes there. ``events`` receives
    ``focus.started``, ``focus.progress`` per frame and ``focus.finished`` (or
    ``focus.failed``) from ``name`` (default: the focuser's name; e.g. the
    instrument's), which the result and the plot titles also carry.
    """
    clock = clock if clock is not None else get_clock()
    metric_name, measure = resolve_metric(settings.metric if metric is None else metric)
    label = name or focuser.name
    info, status = await focuser.info(), await focuser.state()
    start, temperature = int(status.position), status.temperature_c
    started = clock.now()
    run = _Run(camera, focuser, settings, measure, clock, events, label, int(info.max_step),
               int(info.max_increment or info.max_step))
    before = await camera.state()
    run.publish("started", kind="coarse" if coarse else "fine", position=start)
    sweeps: list[FocusSweep] = []
    try:
        try:
            await _use_cutout(camera, settings.cutout_px)
            if settings.dark_frame:
                await run.take_dark()
            centre, found = start, True
            if coarse:
                sweeps.append(await run.sweep("coarse", start, settings.coarse_range,
                                              settings.coarse_step))
                fit = sweeps[-1].fit
                found = fit.ok or fit.peak_sampled  # else no fine sweep: it has failed
                if found:
                    centre = run.clip(fit.best_position)
            if found:
                sweeps.append(await run.sweep("fine", centre, settings.fine_range,
                                              settings.fine_step))
            target, success, reason = _settle(sweeps[-1], start)
            best = run.clip(target)
            await _approach(focuser, best, settings.fine_step, run.max_increment)
        finally:
            await _stop_exposure(camera)
            await _restore_camera(camera, before)
    except BaseException as exc:
        run.publish("failed", reason=str(exc) or type(exc).__name__, position=start)
        with contextlib.suppress(Exception):
            await _approach(focuser, start, settings.fine_step, run.max_increment)
        raise
    result = FocusResult(
        focuser=focuser.name, name=label, kind="coarse" if coarse else "fine", sweeps=sweeps,
        start_position=start, best_position=best, success=success, reason=reason,
        started=started, duration_s=(clock.now() - started).total_seconds(),
        temperature_c=temperature, metric=metric_name, frames=run.frames)
    if settings.plots and plot_dir is not None:
        await _plot(result, Path(plot_dir), clock)
    log.info("%s: focus %s: %d → %d%s", label, "done" if success else "failed", start, best,
             f" ({reason})" if reason else "")
    run.publish("finished", kind=result.kind, success=success, reason=reason,
                start_position=start, best_position=best, fit_ok=result.fit_ok,
                plot_paths=[str(p) for p in result.plot_paths])
    return result


async def _plot(result: FocusResult, directory: Path, clock: Clock) -> None:
    """One PNG per sweep; a failed plot is logged, the focus result stands."""
    from nocturna.loops.focus_plot import save_focus_plot

    stamp = result.started.strftime("%Y%m%dT%H%M%S")
    for sweep in result.sweeps:
        path = directory / f"focus_{stamp}_{sweep.kind}.png"
        try:
            await asyncio.to_thread(save_focus_plot, path, result, sweep=sweep)
        except Exception as exc:
            log.warning("%s: could not write the focus plot %s: %s", result.focuser, path, exc)
            continue
        result.plot_paths.append(path)
