"""Simulated cover calibrator: a dust cover with a travel time and a flat panel.

The cover takes ``cover_time_s`` from closed to open (lazily on the clock, see
:mod:`.motion`), reporting MOVING meanwhile; ``halt_cover`` stops it where it is and
the cover then reports UNKNOWN (neither open nor closed), as ASCOM asks. The panel
lights at a brightness 0..``max_brightness`` and is NOT_READY for ``warmup_s``
after every change, then READY. Either part may be absent (``has_cover``,
``has_calibrator``): its state is NOT_PRESENT and its members raise
:class:`NotImplementedByDeviceError`.
"""

from __future__ import annotations

from typing import Any

from nocturna.core.clock import Clock
from nocturna.core.errors import InvalidValueError
from nocturna.core.events import EventBus
from nocturna.devices.covercalibrator import (
    CoverCalibrator,
    CoverCalibratorInfo,
    CoverCalibratorStatus,
)
from nocturna.devices.sim import options as opt
from nocturna.devices.sim.motion import Axis, instant
from nocturna.devices.types import CalibratorState, CoverState


class SimCoverCalibrator(CoverCalibrator):
    """A simulated flat panel with a cover; see the module docstring."""

    driver_name = "sim"

    def __init__(
        self,
        name: str = "covercalibrator",
        *,
        has_cover: bool = True,
        has_calibrator: bool = True,
        cover_time_s: float = 10.0,
        cover_open: bool = False,
        max_brightness: int = 255,
        warmup_s: float = 3.0,
        description: str = "",
        timeout_s: float = 10.0,
        clock: Clock | None = None,
        events: EventBus | None = None,
    ) -> None:
        super().__init__(name, description=description, timeout_s=timeout_s, clock=clock,
                         events=events)
        if not cover_time_s > 0 or not warmup_s >= 0:
            raise InvalidValueError(f"{name}: cover_time_s must be > 0 and warmup_s >= 0")
        if has_calibrator and not max_brightness >= 1:
            raise InvalidValueError(f"{name}: max_brightness must be >= 1")
        self.has_cover = bool(has_cover)
        self.has_calibrator = bool(has_calibrator)
        self.max_brightness = int(max_brightness) if self.has_calibrator else 0
        self.warmup_s = float(warmup_s)
        self._cover = Axis(1.0 if cover_open else 0.0, 1.0 / cover_time_s)
        self._brightness = 0
        self._ready_at: float | None = None  # None: light off
        self._announced_ready = True

    @classmethod
    def from_config(cls, cfg: Any, **context: Any) -> SimCoverCalibrator:
        """Build from a device entry; ``context`` may hold ``clock`` and ``events``.

        Options: the constructor's keyword arguments.
        """
        spec: dict[str, opt.Converter] = {
            "has_cover": opt.boolean,
            "has_calibrator": opt.boolean,
            "cover_time_s": opt.number("s", ge=1e-3),
            "cover_open": opt.boolean,
            "max_brightness": opt.integer(ge=1),
            "warmup_s": opt.number("s", ge=0),
        }
        kwargs = opt.driver_options(cfg, spec)
        return cls(cfg.name, **kwargs, **opt.device_context(context))

    def _now(self) -> float:
        t = self.clock.timestamp()
        finished = self._cover.poll(t)
        if finished is not None:
            self.publish("cover.finished", cover=self._cover_state(t).name.lower(),
                         at=instant(finished.end))
        if not self._announced_ready and self._ready_at is not None and t >= self._ready_at:
            self._announced_ready = True
            self.publish("calibrator.ready", brightness=self._brightness,
                         at=instant(self._ready_at))
        return t

    def _cover_state(self, t: float) -> CoverState:
        if not self.has_cover:
            return CoverState.NOT_PRESENT
        if self._cover.moving(t):
            return CoverState.MOVING
        fraction = self._cover.position(t)
        if fraction >= 1.0:
            return CoverState.OPEN
        if fraction <= 0.0:
            return CoverState.CLOSED
        return CoverState.UNKNOWN

    def _calibrator_state(self, t: float) -> CalibratorState:
        if not self.has_calibrator:
            return CalibratorState.NOT_PRESENT
        if self._ready_at is None:
            return CalibratorState.OFF
        return CalibratorState.READY if t >= self._ready_at else CalibratorState.NOT_READY

    async def info(self) -> CoverCalibratorInfo:
        return CoverCalibratorInfo(max_brightness=self.max_brightness)

    async def state(self) -> CoverCalibratorStatus:
        t = self._now()
        calibrator = self._calibrator_state(t)
        return CoverCalibratorStatus(
            cover_state=self._cover_state(t),
            calibrator_state=calibrator,
            brightness=self._brightness,
            cover_moving=self.has_cover and self._cover.moving(t),
            calibrator_changing=calibrator == CalibratorState.NOT_READY,
        )

    async def _move_cover(self, target: float, action: str) -> None:
        if not self.has_cover:
            raise self.not_implemented(f"{action}_cover (no cover)")
        t = self._now()
        if self._cover.position(t) == target and not self._cover.moving(t):
            return
        motion = self._cover.move_to(target, t)
        self.publish("cover.started", action=action, duration_s=motion.travel_s,
                     at=instant(t))

    async def open_cover(self) -> None:
        await self._move_cover(1.0, "open")

    async def close_cover(self) -> None:
        await self._move_cover(0.0, "close")

    async def halt_cover(self) -> None:
        if not self.has_cover:
            raise self.not_implemented("halt_cover (no cover)")
        t = self._now()
        if self._cover.moving(t):
            self._cover.stop(t)
            self.publish("cover.finished", cover=self._cover_state(t).name.lower(),
                         at=instant(t), aborted=True)

    async def calibrator_on(self, brightness: int) -> None:
        if not self.has_calibrator:
            raise self.not_implemented("calibrator_on (no calibrator)")
        if isinstance(brightness, bool) or not isinstance(brightness, int | float) \
                or not float(brightness).is_integer() \
                or not 0 <= brightness <= self.max_brightness:
            raise InvalidValueError(
                f"brightness {brightness!r} is not a whole number in 0..{self.max_brightness}")
        t = self._now()
        self._brightness = int(brightness)
        self._ready_at = t + self.warmup_s
        self._announced_ready = False
        self.publish("calibrator.on", brightness=self._brightness, warmup_s=self.warmup_s,
                     at=instant(t))

    async def calibrator_off(self) -> None:
        if not self.has_calibrator:
            raise self.not_implemented("calibrator_off (no calibrator)")
        self._now()
        self._brightness = 0
        self._ready_at = None
        self._announced_ready = True
        self.publish("calibrator.off")
