"""What the night spends besides exposing, so that plans and rankings count it.

:meth:`Overheads.of` derives each figure from the configuration the night runs on,
through the code the night uses:

* per frame: the primary camera's readout (a simulated camera's model,
  :meth:`~nocturna.devices.sim.camera.SimCameraModel.readout_time_s`; 0 for a real
  camera) plus ``scheduler.overhead`` (writing, guiding, a real camera's readout);
* after each slew to a field: a pointing correction (``observatory.pointing``) of
  :data:`TYPICAL_POINTING_FRAMES` frames, each ``exposure`` long, read out binned
  ``binning`` × ``binning`` and solved in ``solve_time``;
* autofocus (``observatory.autofocus``): a coarse run when the night begins (a dark,
  the coarse and the fine sweep), then a fine run (a dark and the fine sweep) every
  ``interval``; each frame is an exposure of the central ``cutout``, its readout and
  the focuser's move at the simulated focuser's speed (the positions are those of
  :func:`~nocturna.loops.autofocus.sweep_positions`). Refocusing because the
  temperature changed cannot be foreseen and is not planned.

Filter changes and the dome's turns are not counted (seconds per field).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nocturna.core.config.models import NocturnaConfig, SchedulerConfig

TYPICAL_POINTING_FRAMES = 2
"""Frames of a typical pointing correction: the first, a sync and re-slew, one that
confirms (the default simulated night: 45 frames for 23 slews)."""


@dataclass(frozen=True)
class Overheads:
    """Seconds the night spends besides exposing (see the module notes)."""

    frame_s: float = 0.0  # added to every frame's exposure time
    pointing_s: float = 0.0  # after each slew to a field
    focus_start_s: float = 0.0  # the night's first (coarse) autofocus, at dark
    focus_s: float = 0.0  # a fine autofocus when due
    focus_interval_s: float = 0.0  # a fine autofocus this long after the last (0: never)

    @classmethod
    def from_scheduler(cls, config: SchedulerConfig) -> Overheads:
        """Only ``scheduler.overhead`` per frame (no camera, no closed loops known)."""
        return cls(frame_s=float(config.overhead.to_value("s")))

    @classmethod
    def of(cls, config: NocturnaConfig) -> Overheads:
        """The overheads of the unit ``config`` describes."""
        readout = _camera_readout(config)
        frame_s = readout(None) + float(config.scheduler.overhead.to_value("s"))
        observatory = config.observatory
        pointing = observatory.pointing
        pointing_s = 0.0
        if pointing.enabled:
            frames = min(TYPICAL_POINTING_FRAMES, pointing.max_iterations)
            per_frame = (float(pointing.exposure.to_value("s")) + readout(pointing.binning)
                         + float(pointing.solve_time.to_value("s")))
            pointing_s = frames * per_frame
        focus_start_s = focus_s = interval_s = 0.0
        focus = observatory.autofocus
        if focus.enabled and _focuser_entry(config) is not None:
            focus_start_s = _autofocus_s(config, readout, coarse=True)
            focus_s = _autofocus_s(config, readout, coarse=False)
            interval_s = float(focus.interval.to_value("s"))
        return cls(frame_s, pointing_s, focus_start_s, focus_s, interval_s)


def _primary_camera(config: NocturnaConfig):  # type: ignore[no-untyped-def]
    cameras = config.cameras
    if not cameras:
        return None
    return next((c for c in cameras if (c.model_extra or {}).get("primary")), cameras[0])


def _camera_readout(config: NocturnaConfig):  # type: ignore[no-untyped-def]
    """``readout(binning)``: seconds to read the whole sensor binned (None: unbinned), or
    of a central square ``("cutout", px)``."""
    entry = _primary_camera(config)
    if entry is None or entry.driver != "sim":
        return lambda what: 0.0
    from nocturna.devices.sim.camera import camera_model

    model = camera_model(entry)

    def readout(what: int | tuple[str, int] | None) -> float:
        if isinstance(what, tuple):
            side = what[1]
            return model.readout_time_s(min(side, model.width) * min(side, model.height))
        binning = what or 1
        return model.readout_time_s((model.width // binning) * (model.height // binning))

    return readout


def _focuser_entry(config: NocturnaConfig):  # type: ignore[no-untyped-def]
    camera = _primary_camera(config)
    name = (camera.model_extra or {}).get("focuser") if camera is not None else None
    focusers = config.focusers or []
    return next((f for f in focusers if f.name == name), None)


def _autofocus_s(config: NocturnaConfig, readout, *, coarse: bool) -> float:  # type: ignore[no-untyped-def]
    """Seconds of one autofocus run (see the module notes)."""
    from nocturna.loops.autofocus import AutofocusSettings, sweep_positions

    settings = AutofocusSettings.from_config(config.observatory.autofocus)
    entry = _focuser_entry(config)
    speed, max_step = 1.0e9, 1 << 30  # a real focuser: moves not counted
    if entry is not None and entry.driver == "sim":
        from nocturna.devices.sim.focuser import SimFocuser

        focuser = SimFocuser.from_config(entry)
        speed, max_step = focuser.speed_steps_s, focuser.max_step
    frame_s = settings.exposure_s + readout(("cutout", settings.cutout_px))
    centre = max_step // 2
    sweeps = [(settings.coarse_range, settings.coarse_step)] if coarse else []
    sweeps.append((settings.fine_range, settings.fine_step))
    total = frame_s if settings.dark_frame else 0.0
    for span, step in sweeps:
        positions = sweep_positions(centre, span, step, max_step)
        # to the first position, along the sweep, back to the best: about twice its span
        total += len(positions) * frame_s + 2 * (positions[-1] - positions[0]) / speed
    return total
