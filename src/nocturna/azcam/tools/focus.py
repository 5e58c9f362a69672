"""azcam's focus tool ("focus"): a charge-shift focus frame.

One frame holds ``number_exposures`` images of every star: the camera exposes
``exposure_time`` at the starting focus, the charge shifts ``detector_shift`` rows, the
focuser moves one ``focus_step``, the camera exposes again, and so on; one readout at
the end. It runs on the camera's stuttered exposure
(:meth:`~nocturna.devices.camera.Camera.start_stuttered_exposure`), moving the focuser
in its ``between`` hook, so the copy of a star that moved furthest down the detector
is the one taken at the starting position. Afterwards (also after an error, an abort
or a cancellation) the focuser returns to where it started. The frame is written by
``write_frame`` (the exposure tool's writer) with FOCSTART, FOCSTEP, FOCSTEPS, FOCSHIFT
and FOCCOMP in its header.

Differences from azcam: the shift between copies is uniform (azcam doubles the last
one, the camera's stuttered exposure shifts by a fixed number of rows); focus moves are
absolute and the focuser is waited for instead of a fixed ``move_delay`` (an extra
settling delay can still be set); an aborted run raises
:class:`OperationCancelledError`.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

from nocturna.azcam.remote import remote
from nocturna.core.clock import Clock, get_clock
from nocturna.core.errors import (
    InvalidOperationError,
    InvalidValueError,
    OperationCancelledError,
)
from nocturna.devices.camera import Camera, CameraImage
from nocturna.devices.focuser import Focuser

log = logging.getLogger(__name__)

WriteFrame = Callable[[CameraImage, str, str, dict[str, tuple[Any, str]]], Awaitable[str]]
"""``(image, imagetype, title, extra_cards) -> path``: writes a frame, returns its path."""

FOCUS_COMPONENTS = ("instrument", "telescope")


class FocusTool:
    """The azcam "focus" tool; see the module docstring."""

    name = "focus"

    def __init__(self, camera: Camera, focuser: Focuser | None, write_frame: WriteFrame, *,
                 telescope_focuser: Focuser | None = None, clock: Clock | None = None,
                 move_timeout_s: float = 300.0) -> None:
        self.camera = camera
        self.focusers: dict[str, Focuser | None] = {"instrument": focuser,
                                                    "telescope": telescope_focuser}
        self.write_frame = write_frame
        self._clock = clock
        self.move_timeout_s = move_timeout_s
        # azcam's defaults
        self.exposure_time = 1.0
        self.number_exposures = 7
        self.focus_step = 30.0
        self.detector_shift = 10
        self.focus_component = "instrument" if focuser is not None or \
            telescope_focuser is None else "telescope"
        self.focus_type = "absolute"
        self.move_delay = 0.0  # extra settling time after each focus move, clock seconds
        self._running = False
        self._aborted = False
        self._exposing = False

    @property
    def clock(self) -> Clock:
        return self._clock if self._clock is not None else get_clock()

    # --------------------------------------------------------------- parameters
    @remote
    def set_pars(self, exposure_time: float, number_exposures: int = 7,
                 focus_step: float = 30, detector_shift: int = 10) -> None:
        """Exposure time per position (s), positions, focuser steps between positions,
        rows shifted between positions."""
        self.exposure_time, self.number_exposures, self.focus_step, self.detector_shift = \
            _checked(exposure_time, number_exposures, focus_step, detector_shift)

    @remote
    def get_pars(self) -> dict[str, Any]:
        """The focus parameters."""
        return {"exposure_time": self.exposure_time, "number_exposures": self.number_exposures,
                "focus_step": self.focus_step, "detector_shift": self.detector_shift,
                "focus_component": self.focus_component, "focus_type": self.focus_type,
                "move_delay": self.move_delay}

    @remote
    def set_focus_component(self, focus_component: str) -> None:
        """Which focuser moves: "instrument" or "telescope"."""
        component = str(focus_component).strip().lower()
        if component not in FOCUS_COMPONENTS:
            raise InvalidValueError(f"focus_component {focus_component!r} is not one of "
                                    f"{', '.join(FOCUS_COMPONENTS)}")
        if self.focusers[component] is None:
            raise InvalidValueError(f"focus_component {component!r}: no {component} focuser "
                                    "is configured")
        self.focus_component = component

    # ----------------------------------------------------------------------- run
    @remote
    async def run(self, exposure_time: float | None = None,
                  number_exposures: int | None = None, focus_step: float | None = None,
                  detector_shift: int | None = None) -> str:
        """Take a focus frame and return the path of its file.

        Arguments given replace the parameters (and are kept, as :meth:`set_pars`);
        those left out use the current ones.
        """
        pars = _checked(
            self.exposure_time if exposure_time is None else exposure_time,
            self.number_exposures if number_exposures is None else number_exposures,
            self.focus_step if focus_step is None else focus_step,
            self.detector_shift if detector_shift is None else detector_shift)
        focuser = self.focusers[self.focus_component]
        if focuser is None:
            raise InvalidOperationError(f"no {self.focus_component} focuser is configured")
        if self._running:
            raise InvalidOperationError("a focus frame is already being taken")
        self.exposure_time, self.number_exposures, self.focus_step, self.detector_shift = pars
        self._running, self._aborted = True, False
        try:
            return await self._run(focuser)
        finally:
            self._running = self._exposing = False

    async def _run(self, focuser: Focuser) -> str:
        exposure_time, n, step, shift = (self.exposure_time, self.number_exposures,
                                         self.focus_step, self.detector_shift)
        start = int((await focuser.state()).position)
        positions = [round(start + k * step) for k in range(n)]
        info = await focuser.info()
        outside = [p for p in positions if not 0 <= p <= info.max_step]
        if outside:
            raise InvalidValueError(
                f"focus positions {positions[0]}..{positions[-1]} (start {start}, step "
                f"{step:g}, {n} exposures) leave the focuser's range 0..{info.max_step}")

        async def between(k: int) -> None:
            await focuser.move_and_wait(positions[k + 1], timeout_s=self.move_timeout_s)
            if self.move_delay:
                await self.clock.sleep(self.move_delay)

        log.info("focus frame: %d exposures of %g s from %d by %g steps, shift %d rows",
                 n, exposure_time, start, step, shift)
        error: BaseException | None = None
        try:
            if self._aborted:
                raise OperationCancelledError("focus frame aborted")
            self._exposing = True
            await self.camera.start_stuttered_exposure(exposure_time, n, shift, light=True,
                                                       between=between)
            allowance = n * (self.move_timeout_s + self.move_delay)
            await self.camera.wait_until_ready(exposure_time * n,
                                               timeout_s=exposure_time * n + allowance + 600)
            self._exposing = False
            image = await self.camera.image()
        except BaseException as exc:
            error = exc
            if self._exposing:
                await _quietly(self.camera.abort_exposure())
            if self._aborted and isinstance(exc, Exception):
                raise OperationCancelledError("focus frame aborted") from exc
            raise
        finally:
            self._exposing = False
            try:
                await asyncio.shield(focuser.move_and_wait(start,
                                                           timeout_s=self.move_timeout_s))
            except Exception:
                log.exception("focus frame: could not return the focuser to %d", start)
                if error is None:
                    raise
        cards: dict[str, tuple[Any, str]] = {
            "FOCSTART": (start, "[step] starting focus position"),
            "FOCSTEP": (float(step), "[step] focus step between exposures"),
            "FOCSTEPS": (n, "focus number of exposures"),
            "FOCSHIFT": (shift, "[row] detector shift between exposures"),
            "FOCCOMP": (self.focus_component, "focus component moved"),
        }
        return await self.write_frame(image, "focus", "Focus", cards)

    @remote
    async def abort(self) -> None:
        """Abort the focus frame being taken (nothing is written; focus returns)."""
        if not self._running:
            return
        self._aborted = True
        if self._exposing:
            await self.camera.abort_exposure()


def _checked(exposure_time: Any, number_exposures: Any, focus_step: Any,
             detector_shift: Any) -> tuple[float, int, float, int]:
    if isinstance(exposure_time, bool) or not isinstance(exposure_time, int | float) \
            or not math.isfinite(exposure_time) or exposure_time <= 0:
        raise InvalidValueError(f"exposure_time {exposure_time!r} must be a number of "
                                "seconds > 0 (a focus frame needs light)")
    for what, value in (("number_exposures", number_exposures),
                        ("detector_shift", detector_shift)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidValueError(f"{what} {value!r} must be an integer >= 1")
    if isinstance(focus_step, bool) or not isinstance(focus_step, int | float) \
            or not math.isfinite(focus_step):
        raise InvalidValueError(f"focus_step {focus_step!r} must be a finite number of steps")
    return float(exposure_time), number_exposures, float(focus_step), detector_shift


async def _quietly(awaitable: Awaitable[Any]) -> None:
    try:
        await awaitable
    except Exception:
        log.exception("focus frame: could not abort the camera exposure")
