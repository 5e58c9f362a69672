"""The overheads of a unit, derived from its configuration through the code its night
uses, for the scheduler to plan and rank with:

* per frame: the primary camera's readout (a simulated camera's model, 0 for a real
  one, see :mod:`nocturna.devices.timing`) plus ``scheduler.overhead`` (writing,
  guiding, a real camera's readout);
* after each slew to a field: a pointing correction (``observatory.pointing``) of
  :data:`TYPICAL_POINTING_FRAMES` frames, each ``exposure`` long, read out binned
  ``binning`` × ``binning`` and solved in ``solve_time``;
* autofocus (``observatory.autofocus``): a coarse run when the night begins (a dark,
  the coarse and the fine sweep), then a fine run (a dark and the fine sweep) every
  ``interval``; each frame is an exposure of the central ``cutout``, its readout and
  the focuser's move (the positions are those of
  :func:`~nocturna.loops.autofocus.sweep_positions`). Refocusing because the
  temperature changed cannot be foreseen and is not planned.

Filter changes and the dome's turns are not counted (seconds per field).
"""

from __future__ import annotations

from nocturna.core.config.models import DeviceConfig, NocturnaConfig
from nocturna.devices.timing import camera_readout, camera_size, focuser_motion
from nocturna.loops.autofocus import AutofocusSettings, sweep_positions
from nocturna.scheduler.overheads import Overheads

TYPICAL_POINTING_FRAMES = 2
"""Frames of a typical pointing correction: the first, a sync and re-slew, one that
confirms (the default simulated night: 45 frames for 23 slews)."""

def unit_overheads(config: NocturnaConfig) -> Overheads:
    """The overheads of the unit ``config`` describes."""
    camera = _primary_camera(config)
    frame_s = _readout_s(camera, 1) + float(config.scheduler.overhead.to_value("s"))
    pointing = config.observatory.pointing
    pointing_s = 0.0
    if pointing.enabled:
        frames = min(TYPICAL_POINTING_FRAMES, pointing.max_iterations)
        per_frame = (float(pointing.exposure.to_value("s"))
                     + _readout_s(camera, pointing.binning)
                     + float(pointing.solve_time.to_value("s")))
        pointing_s = frames * per_frame
    focus_start_s = focus_s = interval_s = 0.0
    focus = config.observatory.autofocus
    focuser = _focuser_entry(config, camera)
    if focus.enabled and focuser is not None:
        settings = AutofocusSettings.from_config(focus)
        focus_start_s = _autofocus_s(settings, camera, focuser, coarse=True)
        focus_s = _autofocus_s(settings, camera, focuser, coarse=False)
        interval_s = float(focus.interval.to_value("s"))
    return Overheads(frame_s, pointing_s, focus_start_s, focus_s, interval_s)


def _primary_camera(config: NocturnaConfig) -> DeviceConfig | None:
    cameras = config.cameras
    if not cameras:
        return None
    return next((c for c in cameras if (c.model_extra or {}).get("primary")), cameras[0])


def _readout_s(camera: DeviceConfig | None, binning: int, cutout_px: int = 0) -> float:
    """Seconds to read the whole sensor binned ``binning`` × ``binning``, or its central
    ``cutout_px`` square."""
    size = camera_size(camera)
    if size is None:
        return 0.0
    width, height = size
    if cutout_px:
        pixels = min(cutout_px, width) * min(cutout_px, height)
    else:
        pixels = (width // binning) * (height // binning)
    return camera_readout(camera)(pixels)


def _focuser_entry(config: NocturnaConfig, camera: DeviceConfig | None
                   ) -> DeviceConfig | None:
    name = (camera.model_extra or {}).get("focuser") if camera is not None else None
    return next((f for f in config.focusers or [] if f.name == name), None)


def _autofocus_s(settings: AutofocusSettings, camera: DeviceConfig | None,
                 focuser: DeviceConfig, *, coarse: bool) -> float:
    """Seconds of one autofocus run (see the module notes)."""
    motion = focuser_motion(focuser)
    frame_s = settings.exposure_s + _readout_s(camera, 1, settings.cutout_px)
    centre = motion.max_step // 2
    sweeps = [(settings.coarse_range, settings.coarse_step)] if coarse else []
    sweeps.append((settings.fine_range, settings.fine_step))
    total = frame_s if settings.dark_frame else 0.0
    for span, step in sweeps:
        positions = sweep_positions(centre, span, step, motion.max_step)
        # to the first position, along the sweep, back to the best: about twice its span
        travel_s = 2 * (positions[-1] - positions[0]) / motion.speed_steps_s
        total += len(positions) * frame_s + travel_s
    return total
