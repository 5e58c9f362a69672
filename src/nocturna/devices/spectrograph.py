"""Spectrograph interface: a filter wheel, a grating (disperser) wheel and a linear stage.

Modelled on the LATISS ATSpectrograph: the filter and the grating are chosen by name
or slot, the linear stage moves the grating along the beam (which sets the
dispersion on the detector), in millimetres between two limits. Each filter and
grating has a focus offset (focuser steps to add when it is in the beam).

The three mechanisms move independently. Commands follow ASCOM: they start a move
and return; :meth:`Spectrograph.state` shows progress (a wheel's slot reads -1 and
its name None while it turns) and :meth:`Spectrograph.wait_idle` waits for all
three to stop. Unknown names, slots out of range and stage positions outside the
limits raise :class:`~nocturna.core.errors.InvalidValueError` before anything moves.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from dataclasses import dataclass, field

from nocturna.core.errors import InvalidValueError
from nocturna.devices.base import Device, Snapshot, command


@dataclass(frozen=True)
class SpectrographInfo(Snapshot):
    filters: list[str]  # filter names by slot
    gratings: list[str]  # grating (disperser) names by slot
    stage_min_mm: float  # linear stage limits
    stage_max_mm: float
    filter_focus_offsets: list[int]  # focuser steps to add for each filter
    grating_focus_offsets: list[int]  # focuser steps to add for each grating


@dataclass(frozen=True)
class SpectrographStatus(Snapshot):
    filter_position: int  # -1 while the filter wheel turns
    filter_name: str | None  # None while the filter wheel turns
    grating_position: int  # -1 while the grating wheel turns
    grating_name: str | None  # None while the grating wheel turns
    stage_position_mm: float
    stage_target_mm: float  # where the stage is going (its position when at rest)
    filter_moving: bool
    grating_moving: bool
    stage_moving: bool
    is_moving: bool = field(init=False)  # any of the three

    def __post_init__(self) -> None:
        object.__setattr__(self, "is_moving",
                           self.filter_moving or self.grating_moving or self.stage_moving)


def resolve_slot(names: list[str], wanted: str | int, what: str) -> int:
    """The slot of ``wanted``: an index, or a name (case-insensitive).

    ``what`` names the mechanism in errors ("filter", "grating"); an unknown name or
    an index out of range lists what is available.
    """
    available = ", ".join(f"{i}={name}" for i, name in enumerate(names))
    if isinstance(wanted, int) and not isinstance(wanted, bool):
        if not 0 <= wanted < len(names):
            raise InvalidValueError(f"{what} position {wanted} is not in 0..{len(names) - 1} "
                                    f"({what}s: {available})")
        return wanted
    if not isinstance(wanted, str) or not wanted:
        raise InvalidValueError(f"{what} must be a name or a position, got {wanted!r} "
                                f"({what}s: {available})")
    lowered = wanted.lower()
    for i, name in enumerate(names):
        if name.lower() == lowered:
            return i
    raise InvalidValueError(f"no {what} named {wanted!r} ({what}s: {available})")


def check_stage_position(position_mm: float, min_mm: float, max_mm: float) -> float:
    """``position_mm`` as a float if it is a finite number within the stage limits."""
    if isinstance(position_mm, bool) or not isinstance(position_mm, int | float) \
            or not math.isfinite(position_mm) or not min_mm <= position_mm <= max_mm:
        raise InvalidValueError(f"linear stage position {position_mm!r} mm is not within the "
                                f"limits [{min_mm:g}, {max_mm:g}] mm")
    return float(position_mm)


class Spectrograph(Device):
    """A slit-less spectrograph: filter wheel, grating wheel, linear stage."""

    kind = "spectrograph"
    interface_version = 1

    @abstractmethod
    @command
    async def info(self) -> SpectrographInfo:
        """Filter and grating names, stage limits, focus offsets."""

    @abstractmethod
    @command
    async def state(self) -> SpectrographStatus:
        """Where each mechanism is and whether it moves."""

    @abstractmethod
    @command
    async def move_filter(self, filter: str | int) -> None:
        """Start turning the filter wheel to a slot or name (returns at once)."""

    @abstractmethod
    @command
    async def move_grating(self, grating: str | int) -> None:
        """Start turning the grating wheel to a slot or name (returns at once)."""

    @abstractmethod
    @command
    async def move_stage(self, position_mm: float) -> None:
        """Start moving the linear stage to ``position_mm`` (returns at once)."""

    @abstractmethod
    @command
    async def halt(self) -> None:
        """Stop every mechanism."""

    # ------------------------------------------------------------ conveniences
    async def wait_idle(self, timeout_s: float = 120) -> SpectrographStatus:
        """Wait (on the clock) until no mechanism moves; returns that state."""
        return await self.wait_until(lambda s: not s.is_moving, timeout_s=timeout_s,
                                     poll_s=0.1, what="the spectrograph move")

    async def setup(self, *, filter: str | int | None = None,
                    grating: str | int | None = None, stage_mm: float | None = None,
                    wait: bool = True, timeout_s: float = 120) -> SpectrographStatus:
        """Move any of the three (LATISS ``setup_instrument``); optionally wait.

        Every value is checked before anything moves, so a bad one moves nothing.
        """
        info = await self.info()
        if filter is not None:
            resolve_slot(info.filters, filter, "filter")
        if grating is not None:
            resolve_slot(info.gratings, grating, "grating")
        if stage_mm is not None:
            check_stage_position(stage_mm, info.stage_min_mm, info.stage_max_mm)
        if filter is not None:
            await self.move_filter(filter)
        if grating is not None:
            await self.move_grating(grating)
        if stage_mm is not None:
            await self.move_stage(stage_mm)
        if not wait:
            return await self.state()
        return await self.wait_idle(timeout_s)
