"""Pointing correction: measure where the telescope really points and put it on target.

:func:`correct_pointing` takes a short frame (image type ACQ, written and recorded like
any frame), plate solves it with the mount's position and the plate scale as hints,
and compares the solved centre with the target. Within the tolerance it stops;
otherwise it tells the mount where it really points (a sync, so the next slews
benefit too) and slews to the target again — or, for a mount that cannot sync, slews
to the target shifted by the opposite of the error — and measures again, up to
``max_iterations`` frames. The solved WCS goes into each frame's header.

The :class:`PointingResult` records every iteration: the error of the first frame is
the mount's pointing error for that slew, the last one what is left.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from nocturna.core.clock import Clock, get_clock
from nocturna.core.errors import InvalidValueError
from nocturna.core.skyoffsets import offset_position
from nocturna.devices.mount import Mount
from nocturna.images.solve import (
    PlateSolver,
    SolveError,
    SolveHints,
    SolverSettings,
    write_solution,
)
from nocturna.instrument.instrument import Instrument

log = logging.getLogger(__name__)

AfterMove = Callable[[], Awaitable[Any]]


@dataclass(frozen=True)
class PointingSettings:
    """How the loop runs (``observatory.pointing`` in the configuration)."""

    exposure_s: float = 5.0
    binning: int = 1
    tolerance_arcsec: float = 30.0
    max_iterations: int = 4
    solve_time_s: float = 5.0
    """What a solve costs in simulated time (on virtual time; a real solve takes its own)."""
    solver: SolverSettings = field(default_factory=SolverSettings)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.exposure_s) and self.exposure_s > 0):
            raise InvalidValueError(f"pointing exposure must be > 0 s, got {self.exposure_s!r}")
        if not (isinstance(self.binning, int) and self.binning >= 1):
            raise InvalidValueError(f"pointing binning must be >= 1, got {self.binning!r}")
        if not (math.isfinite(self.tolerance_arcsec) and self.tolerance_arcsec > 0):
            raise InvalidValueError(f"pointing tolerance must be > 0″, "
                                    f"got {self.tolerance_arcsec!r}")
        if not (isinstance(self.max_iterations, int) and self.max_iterations >= 1):
            raise InvalidValueError(f"pointing max_iterations must be >= 1, "
                                    f"got {self.max_iterations!r}")

    @classmethod
    def from_config(cls, cfg: Any) -> PointingSettings:
        """From a :class:`~nocturna.core.config.models.PointingConfig`."""
        return cls(exposure_s=float(cfg.exposure.to_value("s")), binning=cfg.binning,
                   tolerance_arcsec=float(cfg.tolerance.to_value("arcsec")),
                   max_iterations=cfg.max_iterations,
                   solve_time_s=float(cfg.solve_time.to_value("s")),
                   solver=SolverSettings.from_config(cfg.solver))


@dataclass(frozen=True)
class PointingIteration:
    """One pointing frame: where it was solved and how far that is from the target."""

    index: int
    image_id: str
    solved_ra_deg: float | None  # None: the frame did not solve
    solved_dec_deg: float | None
    east_arcsec: float | None  # solved centre minus target, on the sky
    north_arcsec: float | None
    solve_s: float
    correction: str  # "none", "sync", "offset"
    reason: str = ""

    @property
    def error_arcsec(self) -> float | None:
        if self.east_arcsec is None or self.north_arcsec is None:
            return None
        return math.hypot(self.east_arcsec, self.north_arcsec)


@dataclass
class PointingResult:
    """The outcome of one pointing correction."""

    field_name: str
    target_ra_deg: float
    target_dec_deg: float
    tolerance_arcsec: float
    started: datetime
    iterations: list[PointingIteration] = field(default_factory=list)
    success: bool = False
    reason: str = ""
    duration_s: float = 0.0

    @property
    def initial_error_arcsec(self) -> float | None:
        """The pointing error of the slew (the first frame that solved)."""
        errors = [i.error_arcsec for i in self.iterations if i.error_arcsec is not None]
        return errors[0] if errors else None

    @property
    def final_error_arcsec(self) -> float | None:
        """What is left after the corrections (the last frame that solved)."""
        errors = [i.error_arcsec for i in self.iterations if i.error_arcsec is not None]
        return errors[-1] if errors else None

    def as_record(self) -> dict[str, Any]:
        """A JSON-ready dict (storage telemetry of kind ``pointing``)."""
        return {"field": self.field_name, "target_ra_deg": self.target_ra_deg,
                "target_dec_deg": self.target_dec_deg,
                "tolerance_arcsec": self.tolerance_arcsec, "success": self.success,
                "reason": self.reason, "started": self.started.isoformat(),
                "duration_s": self.duration_s,
                "initial_error_arcsec": self.initial_error_arcsec,
                "final_error_arcsec": self.final_error_arcsec,
                "iterations": [asdict(i) | {"error_arcsec": i.error_arcsec}
                               for i in self.iterations]}


async def correct_pointing(
    mount: Mount,
    instrument: Instrument,
    target_ra_deg: float,
    target_dec_deg: float,
    settings: PointingSettings,
    *,
    field_name: str = "",
    solver: PlateSolver | None = None,
    after_move: AfterMove | None = None,
    clock: Clock | None = None,
) -> PointingResult:
    """Bring the field centre within the tolerance of the target; see the module notes.

    ``after_move`` is awaited after each corrective slew (the unit turns its dome).
    A frame that does not solve ends the loop without success; device errors
    propagate.
    """
    clock = clock or get_clock()
    solver = solver or PlateSolver(settings.solver)
    started = clock.now()
    result = PointingResult(field_name, target_ra_deg, target_dec_deg,
                            settings.tolerance_arcsec, started)
    can_sync = (await mount.info()).can_sync
    camera = instrument.camera
    before = await camera.state()
    scale = await instrument.plate_scale_arcsec() * settings.binning
    await camera.set_binning(settings.binning)  # and the whole sensor: solve whole fields
    try:
        for index in range(1, settings.max_iterations + 1):
            iteration = await _measure(mount, instrument, solver, settings, scale,
                                       target_ra_deg, target_dec_deg, index, field_name, clock)
            error = iteration.error_arcsec
            last = index == settings.max_iterations
            if error is None:
                result.iterations.append(iteration)
                result.reason = f"frame {index} did not solve: {iteration.reason}"
                break
            if error <= settings.tolerance_arcsec:
                result.iterations.append(iteration)
                result.success = True
                result.reason = f"within {settings.tolerance_arcsec:g}″ after " \
                                f"{index - 1} correction(s)"
                break
            if last:
                result.iterations.append(iteration)
                result.reason = f"still {error:.0f}″ off after {index} frames"
                break
            correction = await _correct(mount, can_sync, iteration, target_ra_deg,
                                        target_dec_deg)
            result.iterations.append(replace(iteration, correction=correction))
            if after_move is not None:
                await after_move()
    finally:
        await camera.set_frame(before.bin_x, before.bin_y, before.start_x, before.start_y,
                               before.num_x, before.num_y)
        result.duration_s = (clock.now() - started).total_seconds()
    log.info("pointing %s: %s (first error %s″)", field_name or "", result.reason,
             None if result.initial_error_arcsec is None
             else f"{result.initial_error_arcsec:.1f}")
    return result


async def _measure(mount: Mount, instrument: Instrument, solver: PlateSolver,
                   settings: PointingSettings, scale: float, target_ra: float,
                   target_dec: float, index: int, field_name: str,
                   clock: Clock) -> PointingIteration:
    """Take and solve one pointing frame."""
    status = await mount.state()
    ids = await instrument.take_imgtype("acq", settings.exposure_s, 1, reason="pointing",
                                        title=field_name or None,
                                        note=f"pointing frame {index}")
    exposure_id = ids[0]
    path = instrument.image_path(exposure_id)
    hints = SolveHints(status.ra_hours * 15.0, status.dec_deg, scale_arcsec=scale)
    image_id = instrument.image_id(exposure_id)
    async with clock.takes(settings.solve_time_s):
        try:
            solution = await solver.solve(path, hints)
        except SolveError as exc:
            return PointingIteration(index, image_id, None, None, None, None, 0.0, "none",
                                     str(exc))
        await asyncio.to_thread(write_solution, path, solution)
    east, north = solution.offset_arcsec(target_ra, target_dec)
    return PointingIteration(index, image_id, solution.ra_deg, solution.dec_deg, east, north,
                             solution.elapsed_s, "none")


async def _correct(mount: Mount, can_sync: bool, iteration: PointingIteration,
                   target_ra: float, target_dec: float) -> str:
    """Move so the field centre lands on the target; which correction was made."""
    assert iteration.solved_ra_deg is not None and iteration.solved_dec_deg is not None
    if can_sync:
        await mount.sync_to_coordinates(iteration.solved_ra_deg / 15.0, iteration.solved_dec_deg)
        await mount.slew_and_wait(target_ra / 15.0, target_dec)
        return "sync"
    assert iteration.east_arcsec is not None and iteration.north_arcsec is not None
    status = await mount.state()
    # Where the mount must say it points for the field centre to land on the target.
    ra, dec = offset_position(status.ra_hours * 15.0, status.dec_deg, -iteration.east_arcsec,
                              -iteration.north_arcsec)
    await mount.slew_and_wait(ra / 15.0, max(-90.0, min(90.0, dec)))
    return "offset"

