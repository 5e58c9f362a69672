"""Motions evaluated lazily on the clock, shared by the simulators.

A simulator never runs a task to move things. A command records a :class:`Motion`
(start value, target, start time, speed); asking where the device is *now* evaluates
the motion at the clock's current time, clamped at the target. So moving a
:class:`~nocturna.core.clock.SimClock` forward by 30 s moves every device 30 s
forward at once, and an accelerated clock works in real time too.

Times are POSIX seconds on the device's clock (``clock.timestamp()``).

Finishing is noticed, not scheduled: :meth:`Axis.poll` hands back a motion once,
the first time the axis is looked at after the motion ended, so the simulator can
publish its ``*.finished`` event then, stamped with the exact end time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from nocturna.core.errors import InvalidValueError


def wrap(value: float, period: float) -> float:
    """``value`` folded into ``[0, period)``."""
    folded = math.fmod(value, period)
    if folded < 0:
        folded += period
    return 0.0 if folded >= period else folded + 0.0  # + 0.0 turns -0.0 into 0.0


def check_angle(value: float, what: str) -> float:
    """``value`` as a float if it is a number in ``[0, 360)``, else InvalidValueError."""
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not 0.0 <= value < 360.0:
        raise InvalidValueError(f"{what} {value!r}° is not in [0, 360)")
    return float(value)


def instant(t: float) -> datetime:
    """POSIX seconds as an aware UTC datetime (for event data)."""
    return datetime.fromtimestamp(t, UTC)


def short_delta(start: float, target: float, period: float) -> float:
    """The signed shortest step from ``start`` to ``target`` on a circle of ``period``."""
    delta = wrap(target - start, period)
    return delta - period if delta > period / 2 else delta


@dataclass(frozen=True, slots=True)
class Motion:
    """Constant-speed travel from ``start`` to ``target``, starting at ``t0``.

    ``period`` makes the travel circular (angles: ``period=360``) along ``delta``,
    the short way unless a delta was given. ``settle_s`` is time after arrival
    during which the device still counts as moving (a mount's slew settle time).
    """

    start: float
    target: float
    t0: float
    speed: float
    settle_s: float = 0.0
    period: float | None = None
    delta: float | None = None  # signed travel; default: target - start (short way)

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise ValueError(f"motion speed must be > 0, got {self.speed!r}")
        if self.delta is None:
            delta = (self.target - self.start if self.period is None
                     else short_delta(self.start, self.target, self.period))
            object.__setattr__(self, "delta", delta)

    @property
    def travel(self) -> float:
        """Signed distance travelled."""
        assert self.delta is not None
        return self.delta

    @property
    def travel_s(self) -> float:
        """Seconds spent travelling (without settling)."""
        return abs(self.travel) / self.speed

    @property
    def arrival(self) -> float:
        """When the target is reached."""
        return self.t0 + self.travel_s

    @property
    def end(self) -> float:
        """When the motion is over (arrival plus settling)."""
        return self.arrival + self.settle_s

    def position(self, t: float) -> float:
        """Where the moving thing is at ``t`` (clamped at start and target)."""
        elapsed = min(max(t - self.t0, 0.0), self.travel_s)
        value = self.start + math.copysign(self.speed * elapsed, self.travel)
        if t >= self.arrival:
            value = self.start + self.travel
        return value if self.period is None else wrap(value, self.period)

    def moving(self, t: float) -> bool:
        """True until the motion (including settling) is over."""
        return t < self.end

    def remaining_s(self, t: float) -> float:
        """Seconds until the motion is over."""
        return max(0.0, self.end - t)


class Axis:
    """One degree of freedom: a resting position, or a :class:`Motion` under way.

    ``period`` makes the axis circular (positions folded into ``[0, period)``).
    """

    def __init__(self, position: float, speed: float, *, period: float | None = None,
                 settle_s: float = 0.0) -> None:
        if not speed > 0:
            raise ValueError(f"axis speed must be > 0, got {speed!r}")
        self.period = period
        self.speed = float(speed)
        self.settle_s = float(settle_s)
        self._rest = self._fold(float(position))
        self._motion: Motion | None = None

    def _fold(self, value: float) -> float:
        return value if self.period is None else wrap(value, self.period)

    @property
    def motion(self) -> Motion | None:
        """The motion under way or not yet noticed as finished."""
        return self._motion

    def position(self, t: float) -> float:
        """Position at ``t`` (at or after the last command)."""
        return self._rest if self._motion is None else self._motion.position(t)

    def moving(self, t: float) -> bool:
        return self._motion is not None and self._motion.moving(t)

    def move_to(self, target: float, t: float, *, speed: float | None = None,
                settle_s: float | None = None, delta: float | None = None) -> Motion:
        """Start moving from where the axis is at ``t`` to ``target``."""
        start = self.position(t)
        self._motion = Motion(start, self._fold(float(target)), t,
                              self.speed if speed is None else float(speed),
                              self.settle_s if settle_s is None else float(settle_s),
                              self.period, delta)
        return self._motion

    def stop(self, t: float) -> float:
        """Stop where the axis is at ``t`` (a halt); returns that position."""
        self._rest = self.position(t)
        self._motion = None
        return self._rest

    def set(self, position: float) -> None:
        """Declare the position without moving (a sync); any motion is dropped."""
        self._rest = self._fold(float(position))
        self._motion = None

    def poll(self, t: float) -> Motion | None:
        """The motion that has ended by ``t``, returned once (then the axis rests)."""
        motion = self._motion
        if motion is None or motion.moving(t):
            return None
        self._rest = motion.position(motion.end)
        self._motion = None
        return motion
