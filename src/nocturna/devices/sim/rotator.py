"""Simulated field rotator: finite speed, sync offset, reverse.

The mechanical angle turns the short way at ``speed_deg_s`` (lazily on the clock,
see :mod:`.motion`). The sky position angle is
``(s × mechanical + sync_offset) mod 360`` with ``s = -1`` when reversed, +1
otherwise. ``sync`` sets the offset so that the current sky angle reads the value
given; ``set_reverse`` flips ``s`` and re-computes the offset so that the current
sky angle is unchanged (it changes which way the mechanism turns for a given
change of sky angle, not where the rotator is).
"""

from __future__ import annotations

from typing import Any

from nocturna.core.clock import Clock
from nocturna.core.errors import InvalidOperationError, InvalidValueError
from nocturna.core.events import EventBus
from nocturna.devices.rotator import Rotator, RotatorInfo, RotatorStatus
from nocturna.devices.sim import options as opt
from nocturna.devices.sim.motion import Axis, check_angle, instant, wrap


def _check_angle(angle_deg: float) -> float:
    return check_angle(angle_deg, "rotator angle")


class SimRotator(Rotator):
    """A simulated rotator; see the module docstring."""

    driver_name = "sim"

    def __init__(
        self,
        name: str = "rotator",
        *,
        speed_deg_s: float = 3.0,
        step_size_deg: float = 0.01,
        mechanical_position_deg: float = 0.0,
        sync_offset_deg: float = 0.0,
        reverse: bool = False,
        can_reverse: bool = True,
        description: str = "",
        timeout_s: float = 10.0,
        clock: Clock | None = None,
        events: EventBus | None = None,
    ) -> None:
        super().__init__(name, description=description, timeout_s=timeout_s, clock=clock,
                         events=events)
        if not speed_deg_s > 0 or not step_size_deg > 0:
            raise InvalidValueError(f"{name}: speed_deg_s and step_size_deg must be > 0")
        self.step_size_deg = float(step_size_deg)
        self.can_reverse = bool(can_reverse)
        self._axis = Axis(_check_angle(mechanical_position_deg), speed_deg_s, period=360.0)
        self._target_mech = self._axis.position(0.0)
        self._offset = float(sync_offset_deg)
        self._reverse = bool(reverse)

    @classmethod
    def from_config(cls, cfg: Any, **context: Any) -> SimRotator:
        """Build from a device entry; ``context`` may hold ``clock`` and ``events``.

        Options: the constructor's keyword arguments.
        """
        spec: dict[str, opt.Converter] = {
            "speed_deg_s": opt.number("deg/s", ge=1e-6),
            "step_size_deg": opt.number("deg", ge=1e-9),
            "mechanical_position_deg": opt.number("deg", ge=0, le=359.999999),
            "sync_offset_deg": opt.number("deg"),
            "reverse": opt.boolean,
            "can_reverse": opt.boolean,
        }
        kwargs = opt.driver_options(cfg, spec)
        return cls(cfg.name, **kwargs, **opt.device_context(context))

    # ----------------------------------------------------------- internals
    @property
    def _sign(self) -> float:
        return -1.0 if self._reverse else 1.0

    def _sky(self, mechanical_deg: float) -> float:
        return wrap(self._sign * mechanical_deg + self._offset, 360.0)

    def _mechanical(self, sky_deg: float) -> float:
        return wrap(self._sign * (sky_deg - self._offset), 360.0)

    def _now(self) -> float:
        t = self.clock.timestamp()
        finished = self._axis.poll(t)
        if finished is not None:
            self.publish("move.finished", position_deg=self._sky(finished.target),
                         mechanical_position_deg=finished.target, at=instant(finished.end))
        return t

    def _move(self, mechanical_deg: float) -> None:
        t = self._now()
        motion = self._axis.move_to(mechanical_deg, t)
        self._target_mech = motion.target
        self.publish("move.started", position_deg=self._sky(motion.target),
                     mechanical_position_deg=motion.target, duration_s=motion.travel_s,
                     at=instant(t))

    # ------------------------------------------------------------ members
    async def info(self) -> RotatorInfo:
        return RotatorInfo(can_reverse=self.can_reverse, step_size_deg=self.step_size_deg)

    async def state(self) -> RotatorStatus:
        t = self._now()
        mechanical = self._axis.position(t)
        return RotatorStatus(
            position_deg=self._sky(mechanical),
            mechanical_position_deg=mechanical,
            target_position_deg=self._sky(self._target_mech),
            is_moving=self._axis.moving(t),
            reverse=self._reverse,
        )

    async def move_absolute(self, position_deg: float) -> None:
        self._move(self._mechanical(_check_angle(position_deg)))

    async def move_mechanical(self, position_deg: float) -> None:
        self._move(_check_angle(position_deg))

    async def sync(self, position_deg: float) -> None:
        sky = _check_angle(position_deg)
        t = self._now()
        if self._axis.moving(t):
            raise InvalidOperationError(f"{self.kind} {self.name!r}: cannot sync while moving")
        mechanical = self._axis.position(t)
        self._offset = wrap(sky - self._sign * mechanical, 360.0)
        self._target_mech = mechanical

    async def halt(self) -> None:
        t = self._now()
        if self._axis.moving(t):
            self._target_mech = self._axis.stop(t)
            self.publish("move.finished", position_deg=self._sky(self._target_mech),
                         mechanical_position_deg=self._target_mech, at=instant(t),
                         aborted=True)

    async def set_reverse(self, reverse: bool) -> None:
        if not self.can_reverse:
            raise self.not_implemented("reverse")
        t = self._now()
        if bool(reverse) == self._reverse:
            return
        if self._axis.moving(t):
            raise InvalidOperationError(
                f"{self.kind} {self.name!r}: cannot change reverse while moving")
        mechanical = self._axis.position(t)
        sky = self._sky(mechanical)
        self._reverse = bool(reverse)
        self._offset = wrap(sky - self._sign * mechanical, 360.0)
