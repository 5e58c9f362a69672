"""Simulated spectrograph (after the LATISS ATSpectrograph): two wheels and a stage.

* The filter wheel and the grating wheel turn the shorter way round,
  ``filter_seconds_per_slot`` / ``grating_seconds_per_slot`` per slot passed; a
  wheel's slot reads -1 (and its name None) while it turns.
* The linear stage moves at ``stage_speed_mm_per_s`` between ``stage_limits_mm``.

Every motion is evaluated lazily on the clock (see :mod:`.motion`), each mechanism
independently of the others. A new command while a mechanism moves starts from
where it is. :meth:`SimSpectrograph.halt` stops the stage where it is and drops each
turning wheel into its nearest slot (the detent).

Events (``spectrograph.<mechanism>.move.started`` / ``.finished``, mechanism one
of ``filter``, ``grating``, ``stage``) mark the start and end of every move;
``finished`` carries ``aborted=True`` after a halt.
"""

from __future__ import annotations

import math
from typing import Any

from nocturna.core.clock import Clock
from nocturna.core.errors import InvalidValueError
from nocturna.core.events import EventBus
from nocturna.devices.sim import options as opt
from nocturna.devices.sim.motion import Axis, instant
from nocturna.devices.spectrograph import (
    Spectrograph,
    SpectrographInfo,
    SpectrographStatus,
    check_stage_position,
    resolve_slot,
)

DEFAULT_FILTERS = ("empty", "RG610", "OG550", "BG40")
"""LATISS-like filters; the first slot is clear."""

DEFAULT_GRATINGS = ("empty", "holo4_003", "ronchi170lpmm")
"""LATISS-like dispersers; the first slot is clear."""

DEFAULT_STAGE_LIMITS_MM = (0.0, 75.0)
DEFAULT_STAGE_POSITION_MM = 67.0


class _Wheel:
    """One named wheel of the spectrograph (filter or grating)."""

    def __init__(self, device: str, what: str, names: list[str] | tuple[str, ...],
                 offsets: list[int] | None, position: int, seconds_per_slot: float) -> None:
        self.what = what
        self.names = [str(n) for n in names]
        count = len(self.names)
        if count < 1 or any(not n for n in self.names):
            raise InvalidValueError(f"{device}: the {what} wheel needs at least one named slot")
        if len({n.lower() for n in self.names}) != count:
            raise InvalidValueError(f"{device}: {what} names must be unique "
                                    f"(case-insensitive): {self.names}")
        offsets = [0] * count if offsets is None else list(offsets)
        if len(offsets) != count:
            raise InvalidValueError(f"{device}: {len(offsets)} {what} focus offsets for "
                                    f"{count} {what}s")
        self.offsets = [int(o) for o in offsets]
        if not (isinstance(seconds_per_slot, int | float) and seconds_per_slot > 0
                and math.isfinite(seconds_per_slot)):
            raise InvalidValueError(f"{device}: {what} seconds per slot must be a finite "
                                    f"number > 0, got {seconds_per_slot!r}")
        if isinstance(position, bool) or not isinstance(position, int) \
                or not 0 <= position < count:
            raise InvalidValueError(f"{device}: {what} position {position!r} is not in "
                                    f"0..{count - 1}")
        self.axis = Axis(position, 1.0 / seconds_per_slot, period=float(count))

    def slot(self, t: float) -> int:
        return round(self.axis.position(t)) % len(self.names)


class SimSpectrograph(Spectrograph):
    """A simulated spectrograph; see the module docstring."""

    driver_name = "sim"

    def __init__(
        self,
        name: str = "spectrograph",
        *,
        filters: list[str] | tuple[str, ...] = DEFAULT_FILTERS,
        gratings: list[str] | tuple[str, ...] = DEFAULT_GRATINGS,
        filter_focus_offsets: list[int] | None = None,
        grating_focus_offsets: list[int] | None = None,
        filter_position: int = 0,
        grating_position: int = 0,
        filter_seconds_per_slot: float = 1.0,
        grating_seconds_per_slot: float = 1.0,
        stage_limits_mm: tuple[float, float] | list[float] = DEFAULT_STAGE_LIMITS_MM,
        stage_position_mm: float = DEFAULT_STAGE_POSITION_MM,
        stage_speed_mm_per_s: float = 5.0,
        description: str = "",
        timeout_s: float = 10.0,
        clock: Clock | None = None,
        events: EventBus | None = None,
    ) -> None:
        super().__init__(name, description=description, timeout_s=timeout_s, clock=clock,
                         events=events)
        self._filter = _Wheel(name, "filter", filters, filter_focus_offsets, filter_position,
                              filter_seconds_per_slot)
        self._grating = _Wheel(name, "grating", gratings, grating_focus_offsets,
                               grating_position, grating_seconds_per_slot)
        limits = list(stage_limits_mm)
        if len(limits) != 2 or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                for v in limits) or not limits[0] < limits[1]:
            raise InvalidValueError(f"{name}: stage_limits_mm must be two finite numbers "
                                    f"[min, max] with min < max, got {stage_limits_mm!r}")
        self.stage_min_mm, self.stage_max_mm = float(limits[0]), float(limits[1])
        if isinstance(stage_position_mm, bool) \
                or not isinstance(stage_position_mm, int | float) \
                or not self.stage_min_mm <= stage_position_mm <= self.stage_max_mm:
            raise InvalidValueError(f"{name}: stage_position_mm {stage_position_mm!r} is not "
                                    f"within [{self.stage_min_mm:g}, {self.stage_max_mm:g}]")
        if not (isinstance(stage_speed_mm_per_s, int | float) and stage_speed_mm_per_s > 0
                and math.isfinite(stage_speed_mm_per_s)):
            raise InvalidValueError(f"{name}: stage_speed_mm_per_s must be a finite number "
                                    f"> 0, got {stage_speed_mm_per_s!r}")
        self._stage = Axis(float(stage_position_mm), float(stage_speed_mm_per_s))

    @classmethod
    def from_config(cls, cfg: Any, **context: Any) -> SimSpectrograph:
        """Build from a device entry; ``context`` may hold ``clock`` and ``events``
        (``site`` and anything else is ignored).

        Options: ``filters``, ``gratings``, ``filter_focus_offsets``,
        ``grating_focus_offsets``, ``filter_position``, ``grating_position``,
        ``filter_seconds_per_slot``, ``grating_seconds_per_slot`` (s),
        ``stage_limits_mm`` ([min, max], mm), ``stage_position_mm`` (mm),
        ``stage_speed_mm_per_s`` (mm/s); numbers may be quantities (``"2 s"``,
        ``"50 mm"``, ``"1 cm/s"``).
        """
        spec: dict[str, opt.Converter] = {
            "filters": opt.list_of(opt.text, min_length=1),
            "gratings": opt.list_of(opt.text, min_length=1),
            "filter_focus_offsets": opt.list_of(opt.integer()),
            "grating_focus_offsets": opt.list_of(opt.integer()),
            "filter_position": opt.integer(ge=0),
            "grating_position": opt.integer(ge=0),
            "filter_seconds_per_slot": opt.number("s", ge=1e-6),
            "grating_seconds_per_slot": opt.number("s", ge=1e-6),
            "stage_limits_mm": _stage_limits,
            "stage_position_mm": opt.number("mm"),
            "stage_speed_mm_per_s": opt.number("mm/s", ge=1e-6),
        }
        kwargs = opt.driver_options(cfg, spec)
        return cls(cfg.name, **kwargs, **opt.device_context(context))

    # ----------------------------------------------------------- internals
    def _now(self) -> float:
        """The clock's time, after announcing any move that has ended by then."""
        t = self.clock.timestamp()
        for wheel in (self._filter, self._grating):
            finished = wheel.axis.poll(t)
            if finished is not None:
                slot = round(finished.target) % len(wheel.names)
                self.publish(f"{wheel.what}.move.finished", position=slot,
                             name=wheel.names[slot], at=instant(finished.end))
        finished = self._stage.poll(t)
        if finished is not None:
            self.publish("stage.move.finished", position_mm=finished.target,
                         at=instant(finished.end))
        return t

    def _move_wheel(self, wheel: _Wheel, wanted: str | int) -> None:
        slot = resolve_slot(wheel.names, wanted, wheel.what)
        t = self._now()
        if not wheel.axis.moving(t) and wheel.slot(t) == slot:
            return
        motion = wheel.axis.move_to(slot, t)
        self.publish(f"{wheel.what}.move.started", position=slot, name=wheel.names[slot],
                     duration_s=motion.travel_s, at=instant(t))

    # ------------------------------------------------------------ members
    async def info(self) -> SpectrographInfo:
        return SpectrographInfo(
            filters=list(self._filter.names), gratings=list(self._grating.names),
            stage_min_mm=self.stage_min_mm, stage_max_mm=self.stage_max_mm,
            filter_focus_offsets=list(self._filter.offsets),
            grating_focus_offsets=list(self._grating.offsets),
        )

    async def state(self) -> SpectrographStatus:
        t = self._now()
        filter_moving = self._filter.axis.moving(t)
        grating_moving = self._grating.axis.moving(t)
        filter_slot = -1 if filter_moving else self._filter.slot(t)
        grating_slot = -1 if grating_moving else self._grating.slot(t)
        motion = self._stage.motion
        position = self._stage.position(t)
        return SpectrographStatus(
            filter_position=filter_slot,
            filter_name=None if filter_moving else self._filter.names[filter_slot],
            grating_position=grating_slot,
            grating_name=None if grating_moving else self._grating.names[grating_slot],
            stage_position_mm=position,
            stage_target_mm=motion.target if motion is not None else position,
            filter_moving=filter_moving,
            grating_moving=grating_moving,
            stage_moving=self._stage.moving(t),
        )

    async def move_filter(self, filter: str | int) -> None:
        self._move_wheel(self._filter, filter)

    async def move_grating(self, grating: str | int) -> None:
        self._move_wheel(self._grating, grating)

    async def move_stage(self, position_mm: float) -> None:
        target = check_stage_position(position_mm, self.stage_min_mm, self.stage_max_mm)
        t = self._now()
        if not self._stage.moving(t) and self._stage.position(t) == target:
            return
        motion = self._stage.move_to(target, t)
        self.publish("stage.move.started", position_mm=target, duration_s=motion.travel_s,
                     at=instant(t))

    async def halt(self) -> None:
        t = self._now()
        for wheel in (self._filter, self._grating):
            if wheel.axis.moving(t):
                slot = wheel.slot(t)
                wheel.axis.set(slot)
                self.publish(f"{wheel.what}.move.finished", position=slot,
                             name=wheel.names[slot], at=instant(t), aborted=True)
        if self._stage.moving(t):
            position = self._stage.stop(t)
            self.publish("stage.move.finished", position_mm=position, at=instant(t),
                         aborted=True)


def _stage_limits(value: Any) -> list[float]:
    """``[min, max]`` in mm (numbers or length quantities), min < max."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError("expected [min, max] in mm")
    low, high = (opt.number("mm")(v) for v in value)
    if not (math.isfinite(low) and math.isfinite(high)) or not low < high:
        raise ValueError("expected finite [min, max] in mm with min < max")
    return [low, high]
