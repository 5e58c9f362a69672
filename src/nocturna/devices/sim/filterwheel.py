"""Simulated filter wheel: named slots, focus offsets, a dark slot, finite speed.

The wheel turns the shorter way round (either direction), ``seconds_per_slot`` per
slot passed, evaluated lazily on the clock (see :mod:`.motion`); the position reads
-1 (and the name None) while it turns. A new command while turning starts from
where the wheel is.
"""

from __future__ import annotations

from typing import Any

from nocturna.core.clock import Clock
from nocturna.core.errors import InvalidValueError
from nocturna.core.events import EventBus
from nocturna.devices.filterwheel import FilterWheel, FilterWheelInfo, FilterWheelStatus
from nocturna.devices.sim import options as opt
from nocturna.devices.sim.motion import Axis, instant

DEFAULT_NAMES = ("L", "R", "G", "B", "Ha", "OIII", "SII", "Dark")

DEFAULT_FOCUS_OFFSETS = {"L": 0, "R": 15, "G": 10, "B": 25, "Ha": 40, "OIII": 30, "SII": 45,
                         "Dark": 0}
"""Focuser steps per default filter (unknown names get 0)."""


class SimFilterWheel(FilterWheel):
    """A simulated filter wheel; see the module docstring."""

    driver_name = "sim"

    def __init__(
        self,
        name: str = "filterwheel",
        *,
        names: list[str] | tuple[str, ...] = DEFAULT_NAMES,
        focus_offsets: list[int] | None = None,
        dark_position: int | None = None,
        seconds_per_slot: float = 0.5,
        position: int = 0,
        description: str = "",
        timeout_s: float = 10.0,
        clock: Clock | None = None,
        events: EventBus | None = None,
    ) -> None:
        super().__init__(name, description=description, timeout_s=timeout_s, clock=clock,
                         events=events)
        self.names = [str(n) for n in names]
        count = len(self.names)
        if count < 1 or any(not n for n in self.names):
            raise InvalidValueError(f"{name}: a filter wheel needs at least one named slot")
        if len({n.lower() for n in self.names}) != count:
            raise InvalidValueError(f"{name}: filter names must be unique: {self.names}")
        if focus_offsets is None:
            focus_offsets = [DEFAULT_FOCUS_OFFSETS.get(n, 0) for n in self.names]
        if len(focus_offsets) != count:
            raise InvalidValueError(f"{name}: {len(focus_offsets)} focus offsets for "
                                    f"{count} filters")
        self.focus_offsets = [int(o) for o in focus_offsets]
        if dark_position is None:
            dark = [i for i, n in enumerate(self.names) if n.lower() == "dark"]
            dark_position = dark[0] if dark else None
        if dark_position is not None and not 0 <= dark_position < count:
            raise InvalidValueError(f"{name}: dark_position {dark_position} is not in "
                                    f"0..{count - 1}")
        self.dark_position = dark_position
        if not seconds_per_slot > 0:
            raise InvalidValueError(f"{name}: seconds_per_slot must be > 0")
        if not 0 <= position < count:
            raise InvalidValueError(f"{name}: position {position} is not in 0..{count - 1}")
        self._wheel = Axis(position, 1.0 / seconds_per_slot, period=float(count))

    @classmethod
    def from_config(cls, cfg: Any, **context: Any) -> SimFilterWheel:
        """Build from a device entry; ``context`` may hold ``clock`` and ``events``.

        Options: ``names``, ``focus_offsets``, ``dark_position``, ``seconds_per_slot``,
        ``position``.
        """
        spec: dict[str, opt.Converter] = {
            "names": opt.list_of(opt.text, min_length=1),
            "focus_offsets": opt.list_of(opt.integer()),
            "dark_position": opt.optional(opt.integer(ge=0)),
            "seconds_per_slot": opt.number("s", ge=1e-6),
            "position": opt.integer(ge=0),
        }
        kwargs = opt.driver_options(cfg, spec)
        return cls(cfg.name, **kwargs, **opt.device_context(context))

    def _now(self) -> float:
        t = self.clock.timestamp()
        finished = self._wheel.poll(t)
        if finished is not None:
            slot = round(finished.target) % len(self.names)
            self.publish("move.finished", position=slot, name=self.names[slot],
                         at=instant(finished.end))
        return t

    async def info(self) -> FilterWheelInfo:
        return FilterWheelInfo(names=list(self.names), focus_offsets=list(self.focus_offsets),
                               dark_position=self.dark_position)

    async def state(self) -> FilterWheelStatus:
        t = self._now()
        if self._wheel.moving(t):
            return FilterWheelStatus(position=-1, name=None)
        slot = round(self._wheel.position(t)) % len(self.names)
        return FilterWheelStatus(position=slot, name=self.names[slot])

    async def set_position(self, position: int) -> None:
        count = len(self.names)
        if isinstance(position, bool) or not isinstance(position, int) \
                or not 0 <= position < count:
            raise InvalidValueError(f"filter position {position!r} is not in 0..{count - 1}")
        t = self._now()
        if not self._wheel.moving(t) and round(self._wheel.position(t)) % count == position:
            return
        motion = self._wheel.move_to(position, t)
        self.publish("move.started", position=position, name=self.names[position],
                     duration_s=motion.travel_s, at=instant(t))
