"""Simulated absolute focuser with a temperature probe and temperature compensation.

Moves at ``speed_steps_s`` between 0 and ``max_step`` (lazily on the clock, see
:mod:`.motion`). The probe reads a smooth daily temperature curve that depends only
on the clock: ``mean + amplitude × cos(2π (solar hour − 15) / 24)``, warmest at
15:00 and coldest at 03:00 local solar time (from ``longitude_deg``), so a night
cools by a few tenths of a degree an hour.

With compensation on, the position follows ``temp_comp_steps_per_c`` × the change
of temperature since compensation was turned on (or since the last move), clamped
to the limits. A move to a position outside ``0..max_step`` or further than
``max_increment`` from the current position raises :class:`InvalidValueError`.
"""

from __future__ import annotations

import math
from typing import Any

from nocturna.core.clock import Clock
from nocturna.core.errors import InvalidValueError
from nocturna.core.events import EventBus
from nocturna.devices.focuser import Focuser, FocuserInfo, FocuserStatus
from nocturna.devices.sim import options as opt
from nocturna.devices.sim.motion import Axis, instant


def daily_temperature_c(t: float, *, mean_c: float, amplitude_c: float,
                        longitude_deg: float) -> float:
    """Air temperature at POSIX time ``t`` on a smooth daily curve (coldest at 03:00)."""
    solar_hour = (t / 3600.0 + longitude_deg / 15.0) % 24.0
    return mean_c + amplitude_c * math.cos(2 * math.pi * (solar_hour - 15.0) / 24.0)


class SimFocuser(Focuser):
    """A simulated focuser; see the module docstring."""

    driver_name = "sim"

    def __init__(
        self,
        name: str = "focuser",
        *,
        max_step: int = 60000,
        max_increment: int | None = None,
        position: int = 30000,
        speed_steps_s: float = 1000.0,
        step_size_um: float | None = 1.0,
        temperature_probe: bool = True,
        mean_temperature_c: float = 5.0,
        temperature_amplitude_c: float = 4.0,
        longitude_deg: float = -155.58,
        temp_comp_steps_per_c: float | None = -10.0,
        description: str = "",
        timeout_s: float = 10.0,
        clock: Clock | None = None,
        events: EventBus | None = None,
    ) -> None:
        super().__init__(name, description=description, timeout_s=timeout_s, clock=clock,
                         events=events)
        max_increment = max_step if max_increment is None else max_increment
        if not max_step > 0 or not 0 < max_increment <= max_step:
            raise InvalidValueError(f"{name}: need max_step > 0 and 0 < max_increment <= "
                                    f"max_step, got {max_step}, {max_increment}")
        if not 0 <= position <= max_step:
            raise InvalidValueError(f"{name}: position {position} is not in 0..{max_step}")
        if not speed_steps_s > 0:
            raise InvalidValueError(f"{name}: speed_steps_s must be > 0")
        self.max_step = int(max_step)
        self.max_increment = int(max_increment)
        self.step_size_um = step_size_um
        self.temperature_probe = bool(temperature_probe)
        self.mean_temperature_c = float(mean_temperature_c)
        self.temperature_amplitude_c = float(temperature_amplitude_c)
        self.longitude_deg = float(longitude_deg)
        self.temp_comp_steps_per_c = temp_comp_steps_per_c
        self._axis = Axis(int(position), speed_steps_s)
        self._comp = False
        self._comp_ref_c = 0.0

    @classmethod
    def from_config(cls, cfg: Any, **context: Any) -> SimFocuser:
        """Build from a device entry; ``context`` may hold ``clock``, ``events``, ``site``.

        Options: the constructor's keyword arguments; ``longitude_deg`` defaults to
        the configured site's.
        """
        spec: dict[str, opt.Converter] = {
            "max_step": opt.integer(ge=1),
            "max_increment": opt.integer(ge=1),
            "position": opt.integer(ge=0),
            "speed_steps_s": opt.number(ge=1e-6),
            "step_size_um": opt.optional(opt.number("um", ge=0)),
            "temperature_probe": opt.boolean,
            "mean_temperature_c": opt.number("deg_C"),
            "temperature_amplitude_c": opt.number("deg_C", ge=0),
            "longitude_deg": opt.number("deg", ge=-180, le=360),
            "temp_comp_steps_per_c": opt.optional(opt.number()),
        }
        kwargs = opt.driver_options(cfg, spec)
        site = context.get("site")
        if site is not None and "longitude_deg" not in kwargs:
            import astropy.units as u

            kwargs["longitude_deg"] = float(site.longitude.to_value(u.deg))
        return cls(cfg.name, **kwargs, **opt.device_context(context))

    @property
    def speed_steps_s(self) -> float:
        """How fast the focuser moves (steps per second)."""
        return self._axis.speed

    # ----------------------------------------------------------- internals
    @property
    def _comp_available(self) -> bool:
        return self.temperature_probe and self.temp_comp_steps_per_c is not None

    def temperature_c(self, t: float) -> float:
        """The probe's reading at POSIX time ``t``."""
        return daily_temperature_c(t, mean_c=self.mean_temperature_c,
                                   amplitude_c=self.temperature_amplitude_c,
                                   longitude_deg=self.longitude_deg)

    def _raw_position(self, t: float) -> float:
        value = self._axis.position(t)
        if self._comp:
            assert self.temp_comp_steps_per_c is not None
            value += self.temp_comp_steps_per_c * (self.temperature_c(t) - self._comp_ref_c)
        return min(max(value, 0.0), float(self.max_step))

    def _position(self, t: float) -> int:
        return round(self._raw_position(t))

    def _now(self) -> float:
        t = self.clock.timestamp()
        finished = self._axis.poll(t)
        if finished is not None:
            self.publish("move.finished", position=self._position(t), at=instant(finished.end))
        return t

    def _rebase(self, t: float) -> None:
        """Fold the compensation so far into the resting position."""
        self._axis.set(self._position(t))
        if self._comp:
            self._comp_ref_c = self.temperature_c(t)

    # ------------------------------------------------------------ members
    async def info(self) -> FocuserInfo:
        return FocuserInfo(absolute=True, max_step=self.max_step,
                           max_increment=self.max_increment, step_size_um=self.step_size_um,
                           temp_comp_available=self._comp_available)

    async def state(self) -> FocuserStatus:
        t = self._now()
        return FocuserStatus(
            position=self._position(t),
            is_moving=self._axis.moving(t),
            temperature_c=self.temperature_c(t) if self.temperature_probe else None,
            temp_comp=self._comp,
        )

    async def move_to(self, position: int) -> None:
        if isinstance(position, bool) or not isinstance(position, int | float) \
                or not float(position).is_integer():
            raise InvalidValueError(f"focuser position {position!r} is not a whole number")
        position = int(position)
        if not 0 <= position <= self.max_step:
            raise InvalidValueError(
                f"focuser position {position} is not in 0..{self.max_step}")
        t = self._now()
        current = self._position(t)
        if abs(position - current) > self.max_increment:
            raise InvalidValueError(
                f"a move from {current} to {position} ({abs(position - current)} steps) "
                f"exceeds the largest move of {self.max_increment} steps")
        if self._comp:
            self._rebase(t)
        motion = self._axis.move_to(position, t)
        self.publish("move.started", position=position, duration_s=motion.travel_s,
                     at=instant(t))

    async def halt(self) -> None:
        t = self._now()
        if self._axis.moving(t):
            self._axis.stop(t)
            self._rebase(t)
            self.publish("move.finished", position=self._position(t), at=instant(t),
                         aborted=True)

    async def set_temp_comp(self, on: bool) -> None:
        if not self._comp_available:
            raise self.not_implemented("temperature compensation")
        t = self._now()
        if bool(on) == self._comp:
            return
        if self._axis.moving(t):
            self._axis.stop(t)
        self._rebase(t)
        self._comp = bool(on)
        self._comp_ref_c = self.temperature_c(t)
