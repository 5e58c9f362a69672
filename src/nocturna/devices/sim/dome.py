"""Simulated dome (rotating, with a shutter) or roll-off roof.

Azimuth and shutter move at finite speed, evaluated lazily on the clock (see
:mod:`.motion`): the azimuth turns the short way at ``slew_rate_deg_s``; the
shutter goes from closed to open (or back) in ``shutter_time_s`` (a partial travel
takes its share), reporting OPENING/CLOSING meanwhile. ``abort_slew`` stops
everything where it is: a shutter stopped part-way reports ERROR (neither open nor
closed) until it is opened or closed again. ``slewing`` is true while any part moves.

A roll-off roof (``is_roof=True``) has only the shutter: no azimuth (``None``) and
the azimuth members (slews, syncs, park, home, slaving) raise
:class:`NotImplementedByDeviceError`.

Slaving: given a :class:`~nocturna.devices.sim.mount.SimMount`, a slaved dome
follows the mount's azimuth at its own finite speed. The pursuit is integrated in
steps of ``follow_step_s`` clock seconds (at most 200 steps per look, so a long
jump of the clock stays cheap). Manual azimuth commands while slaved raise
:class:`InvalidWhileSlavedError`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from nocturna.core.clock import Clock
from nocturna.core.errors import InvalidValueError, InvalidWhileSlavedError
from nocturna.core.events import EventBus
from nocturna.devices.dome import Dome, DomeInfo, DomeStatus
from nocturna.devices.sim import options as opt
from nocturna.devices.sim.motion import Axis, check_angle, instant, short_delta
from nocturna.devices.types import ShutterState

if TYPE_CHECKING:
    from nocturna.devices.sim.mount import SimMount

_MAX_FOLLOW_STEPS = 200
_CAUGHT_UP_DEG = 0.01


def _check_azimuth(azimuth_deg: float) -> float:
    return check_angle(azimuth_deg, "azimuth")


class SimDome(Dome):
    """A simulated rotating dome or roll-off roof; see the module docstring."""

    driver_name = "sim"

    def __init__(
        self,
        name: str = "dome",
        *,
        is_roof: bool = False,
        slew_rate_deg_s: float = 4.0,
        shutter_time_s: float = 30.0,
        park_azimuth_deg: float = 180.0,
        home_azimuth_deg: float = 0.0,
        azimuth_deg: float | None = None,
        shutter_open: bool = False,
        mount: SimMount | None = None,
        follow_step_s: float = 1.0,
        description: str = "",
        timeout_s: float = 10.0,
        clock: Clock | None = None,
        events: EventBus | None = None,
    ) -> None:
        super().__init__(name, description=description, timeout_s=timeout_s, clock=clock,
                         events=events)
        if not slew_rate_deg_s > 0 or not shutter_time_s > 0 or not follow_step_s > 0:
            raise InvalidValueError(
                f"{name}: slew_rate_deg_s, shutter_time_s and follow_step_s must be > 0")
        if mount is not None and not callable(getattr(mount, "pointing_at", None)):
            raise InvalidValueError(f"{name}: a simulated dome can only follow a simulated "
                                    f"mount (one with pointing_at), got {mount!r}")
        self.is_roof = bool(is_roof)
        self.mount = mount
        self.follow_step_s = float(follow_step_s)
        self._park_az = _check_azimuth(park_azimuth_deg)
        self._home_az = _check_azimuth(home_azimuth_deg)
        start_az = self._park_az if azimuth_deg is None else _check_azimuth(azimuth_deg)
        self._az: Axis | None = (None if self.is_roof
                                 else Axis(start_az, slew_rate_deg_s, period=360.0))
        self._shutter = Axis(1.0 if shutter_open else 0.0, 1.0 / shutter_time_s)
        self._at_park = not self.is_roof and start_az == self._park_az
        self._at_home = False
        self._going_to: str | None = None  # "park" or "home" while slewing there
        self._slaved = False
        self._follow_t = 0.0
        self._follow_gap = 0.0

    @classmethod
    def from_config(cls, cfg: Any, **context: Any) -> SimDome:
        """Build from a device entry; ``context`` may hold ``clock``, ``events``, ``mount``.

        A ``mount`` that is not simulated (no ``pointing_at``) is ignored: the dome
        then cannot slave. Options: ``is_roof``, ``slew_rate_deg_s``, ``shutter_time_s``,
        ``park_azimuth_deg``, ``home_azimuth_deg``, ``azimuth_deg``, ``shutter_open``,
        ``follow_step_s`` (and the common ``description``, ``timeout_s``).
        """
        spec: dict[str, opt.Converter] = {
            "is_roof": opt.boolean,
            "slew_rate_deg_s": opt.number("deg/s", ge=1e-6),
            "shutter_time_s": opt.number("s", ge=1e-3),
            "park_azimuth_deg": opt.number("deg", ge=0, le=359.999999),
            "home_azimuth_deg": opt.number("deg", ge=0, le=359.999999),
            "azimuth_deg": opt.number("deg", ge=0, le=359.999999),
            "shutter_open": opt.boolean,
            "follow_step_s": opt.number("s", ge=1e-3),
        }
        kwargs = opt.driver_options(cfg, spec)
        mount = context.get("mount")
        if not callable(getattr(mount, "pointing_at", None)):
            mount = None  # only a simulated mount can be followed here
        return cls(cfg.name, mount=mount, **kwargs, **opt.device_context(context))

    # ---------------------------------------------------------- bookkeeping
    def _now(self) -> float:
        t = self.clock.timestamp()
        self._update(t)
        return t

    def _update(self, t: float) -> None:
        if self._az is not None:
            if self._slaved:
                self._follow(t)
            finished = self._az.poll(t)
            if finished is not None:
                if self._going_to == "park":
                    self._at_park = True
                elif self._going_to == "home":
                    self._at_home = True
                self._going_to = None
                self.publish("slew.finished", azimuth_deg=finished.target,
                             at=instant(finished.end), aborted=False)
        finished = self._shutter.poll(t)
        if finished is not None:
            self.publish("shutter.finished", shutter=self._shutter_state(t).name.lower(),
                         at=instant(finished.end))

    def _follow(self, t: float) -> None:
        """Chase the mount's azimuth from the last look until ``t`` at finite speed."""
        assert self._az is not None and self.mount is not None
        last = self._follow_t
        position = self._az.position(t)
        if t > last:
            steps = min(_MAX_FOLLOW_STEPS, max(1, math.ceil((t - last) / self.follow_step_s)))
            h = (t - last) / steps
            reach = self._az.speed * h
            for i in range(1, steps + 1):
                target = self.mount.pointing_at(last + i * h).az_deg
                delta = short_delta(position, target, 360.0)
                position = (target if abs(delta) <= reach
                            else position + math.copysign(reach, delta))
            self._az.set(position)
            self._follow_t = t
        gap = short_delta(position, self.mount.pointing_at(t).az_deg, 360.0)
        self._follow_gap = abs(gap)

    def _shutter_state(self, t: float) -> ShutterState:
        motion = self._shutter.motion
        if motion is not None and motion.moving(t):
            return ShutterState.OPENING if motion.target > motion.start else ShutterState.CLOSING
        fraction = self._shutter.position(t)
        if fraction >= 1.0:
            return ShutterState.OPEN
        if fraction <= 0.0:
            return ShutterState.CLOSED
        return ShutterState.ERROR

    def _rotating(self) -> Axis:
        """The azimuth axis, or not-implemented for a roof."""
        if self._az is None:
            raise self.not_implemented("azimuth motion (this is a roll-off roof)")
        return self._az

    def _refuse_if_slaved(self, what: str) -> None:
        if self._slaved:
            raise InvalidWhileSlavedError(
                f"{self.kind} {self.name!r} is slaved to the mount: cannot {what}")

    def _slew(self, azimuth_deg: float, t: float, going_to: str | None) -> None:
        axis = self._rotating()
        motion = axis.move_to(azimuth_deg, t)
        self._at_park = self._at_home = False
        self._going_to = going_to
        self.publish("slew.started", azimuth_deg=azimuth_deg, duration_s=motion.travel_s,
                     purpose=going_to or "slew", at=instant(t))

    # ------------------------------------------------------------ snapshots
    async def info(self) -> DomeInfo:
        rotating = not self.is_roof
        return DomeInfo(
            is_roof=self.is_roof,
            can_find_home=rotating, can_park=rotating, can_set_altitude=False,
            can_set_azimuth=rotating, can_set_park=rotating, can_set_shutter=True,
            can_slave=rotating and self.mount is not None, can_sync_azimuth=rotating,
        )

    async def state(self) -> DomeStatus:
        t = self._now()
        shutter = self._shutter_state(t)
        az_moving = self._az is not None and (
            self._az.moving(t) or (self._slaved and self._follow_gap > _CAUGHT_UP_DEG))
        return DomeStatus(
            shutter_status=shutter,
            azimuth_deg=None if self._az is None else self._az.position(t),
            altitude_deg=None,
            at_home=self._at_home,
            at_park=self._at_park,
            slewing=az_moving or shutter in (ShutterState.OPENING, ShutterState.CLOSING),
            slaved=self._slaved,
        )

    # -------------------------------------------------------------- shutter
    async def open_shutter(self) -> None:
        await self._move_shutter(1.0, "open")

    async def close_shutter(self) -> None:
        await self._move_shutter(0.0, "close")

    async def _move_shutter(self, target: float, action: str) -> None:
        t = self._now()
        motion = self._shutter.motion
        if self._shutter.position(t) == target and (motion is None or not motion.moving(t)):
            return
        if motion is not None and motion.target == target:
            return  # already on its way
        motion = self._shutter.move_to(target, t)
        self.publish("shutter.started", action=action, duration_s=motion.travel_s,
                     at=instant(t))

    # -------------------------------------------------------------- azimuth
    async def abort_slew(self) -> None:
        t = self._now()
        if self._az is not None:
            if self._az.moving(t):
                position = self._az.stop(t)
                self.publish("slew.finished", azimuth_deg=position, at=instant(t),
                             aborted=True)
            self._going_to = None
            self._slaved = False
        if self._shutter.moving(t):
            self._shutter.stop(t)
            self.publish("shutter.finished", shutter=self._shutter_state(t).name.lower(),
                         at=instant(t))

    async def slew_to_azimuth(self, azimuth_deg: float) -> None:
        self._rotating()
        azimuth = _check_azimuth(azimuth_deg)
        self._refuse_if_slaved("slew by hand")
        self._slew(azimuth, self._now(), None)

    async def sync_to_azimuth(self, azimuth_deg: float) -> None:
        axis = self._rotating()
        azimuth = _check_azimuth(azimuth_deg)
        self._refuse_if_slaved("sync")
        self._now()
        axis.set(azimuth)
        self._going_to = None

    async def find_home(self) -> None:
        self._rotating()
        self._refuse_if_slaved("find home")
        self._slew(self._home_az, self._now(), "home")

    async def park(self) -> None:
        self._rotating()
        self._refuse_if_slaved("park")
        t = self._now()
        if self._at_park:
            return
        self._slew(self._park_az, t, "park")

    async def set_park(self) -> None:
        axis = self._rotating()
        self._park_az = axis.position(self._now())

    async def set_slaved(self, slaved: bool) -> None:
        axis = self._rotating()
        if self.mount is None:
            raise self.not_implemented("slaving (no mount to follow)")
        t = self._now()
        if slaved and not self._slaved:
            axis.stop(t)
            self._going_to = None
            self._at_park = self._at_home = False
            self._follow_t = t
            self._follow_gap = 0.0
        self._slaved = bool(slaved)
        self.publish("slaved.changed", slaved=self._slaved, at=instant(t))
