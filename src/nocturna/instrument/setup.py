"""Instrument setup: the filter, the grating and the linear stage before a sequence.

:meth:`InstrumentSetup.check` validates every keyword and value against what the
devices offer *before anything moves*; :meth:`InstrumentSetup.apply` then moves what
needs moving, all at once, and waits. ``filter`` goes to the camera's filter wheel, or
to the spectrograph's filter slot when there is no wheel; ``grating`` and
``linear_stage`` (mm) to the spectrograph (through its own ``setup``). When the filter
changes and there is a focuser, the focuser moves by the difference of the two
filters' focus offsets.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from typing import Any

from nocturna.core.errors import InvalidValueError
from nocturna.devices.filterwheel import FilterWheel, resolve_filter
from nocturna.devices.focuser import Focuser
from nocturna.devices.spectrograph import resolve_slot

log = logging.getLogger(__name__)

SETUP_KEYWORDS = ("filter", "grating", "linear_stage")


@dataclass(frozen=True)
class Setup:
    """What the instrument is set to: (filter, grating, stage position in mm)."""

    filter: str | None
    grating: str | None
    linear_stage: float | None

    def as_tuple(self) -> tuple[str | None, str | None, float | None]:
        return self.filter, self.grating, self.linear_stage


@dataclass(frozen=True)
class AvailableSetup:
    """What the instrument offers: filters, gratings, stage limits (mm)."""

    filters: list[str]
    gratings: list[str]
    linear_stage_limits: tuple[float, float] | None

    def as_tuple(self) -> tuple[list[str], list[str], tuple[float, float] | None]:
        return self.filters, self.gratings, self.linear_stage_limits


@dataclass(frozen=True)
class _Plan:
    filter_slot: int | None = None
    grating_slot: int | None = None
    stage_mm: float | None = None


class InstrumentSetup:
    """The movable optics of one instrument (any of them may be absent)."""

    def __init__(self, name: str, *, filterwheel: FilterWheel | None = None,
                 focuser: Focuser | None = None, spectrograph: Any | None = None,
                 apply_focus_offsets: bool = True) -> None:
        self.name = name
        self.filterwheel = filterwheel
        self.focuser = focuser
        self.spectrograph = spectrograph
        self.apply_focus_offsets = apply_focus_offsets

    def devices(self) -> list[Any]:
        return [d for d in (self.filterwheel, self.focuser, self.spectrograph) if d is not None]

    async def available(self) -> AvailableSetup:
        filters: list[str] = []
        gratings: list[str] = []
        limits = None
        if self.filterwheel is not None:
            filters = list((await self.filterwheel.info()).names)
        if self.spectrograph is not None:
            info = await self.spectrograph.info()
            if not filters:
                filters = list(info.filters)
            gratings = list(info.gratings)
            limits = (float(info.stage_min_mm), float(info.stage_max_mm))
        return AvailableSetup(filters, gratings, limits)

    async def current(self) -> Setup:
        filter_name = grating = stage = None
        if self.filterwheel is not None:
            filter_name = (await self.filterwheel.state()).name
        if self.spectrograph is not None:
            status = await self.spectrograph.state()
            if self.filterwheel is None:
                filter_name = status.filter_name
            grating = status.grating_name
            stage = float(status.stage_position_mm)
        return Setup(filter_name, grating, stage)

    async def check(self, setup: dict[str, Any]) -> _Plan:
        """Validate ``setup`` (keywords and values) without moving anything."""
        unknown = sorted(set(setup) - set(SETUP_KEYWORDS))
        if unknown:
            raise InvalidValueError(
                f"{self.name}: unknown setup keyword(s) {', '.join(unknown)} "
                f"(known: {', '.join(SETUP_KEYWORDS)})")
        wanted = {k: v for k, v in setup.items() if v is not None}
        plan = _Plan()
        if "filter" in wanted:
            if self.filterwheel is not None:
                names = (await self.filterwheel.info()).names
            elif self.spectrograph is not None:
                names = (await self.spectrograph.info()).filters
            else:
                raise InvalidValueError(f"{self.name}: filter={wanted['filter']!r} asked, but "
                                        "the instrument has no filter wheel or spectrograph")
            plan = _Plan(filter_slot=resolve_filter(list(names), wanted["filter"]))
        if ("grating" in wanted or "linear_stage" in wanted) and self.spectrograph is None:
            key = "grating" if "grating" in wanted else "linear_stage"
            raise InvalidValueError(f"{self.name}: {key}={wanted[key]!r} asked, but the "
                                    "instrument has no spectrograph")
        if "grating" in wanted:
            gratings = list((await self.spectrograph.info()).gratings)
            slot = resolve_slot(gratings, wanted["grating"], "grating")
            plan = _Plan(plan.filter_slot, slot, plan.stage_mm)
        if "linear_stage" in wanted:
            info = await self.spectrograph.info()
            value = wanted["linear_stage"]
            if isinstance(value, bool) or not isinstance(value, int | float) or \
                    not math.isfinite(value):
                raise InvalidValueError(f"{self.name}: linear_stage must be a number of mm, "
                                        f"got {value!r}")
            if not info.stage_min_mm <= value <= info.stage_max_mm:
                raise InvalidValueError(
                    f"{self.name}: linear_stage {value:g} mm is outside "
                    f"{info.stage_min_mm:g}..{info.stage_max_mm:g} mm")
            plan = _Plan(plan.filter_slot, plan.grating_slot, float(value))
        return plan

    async def apply(self, setup: dict[str, Any], *, timeout_s: float = 300.0) -> Setup:
        """Check ``setup``, then move everything it names (in parallel) and wait."""
        plan = await self.check(setup)
        moves = []
        if plan.filter_slot is not None and self.filterwheel is not None:
            moves.append(self._move_wheel(self.filterwheel, plan.filter_slot, timeout_s))
        spectrograph_filter = plan.filter_slot if self.filterwheel is None else None
        if self.spectrograph is not None and (spectrograph_filter is not None
                                              or plan.grating_slot is not None
                                              or plan.stage_mm is not None):
            moves.append(self.spectrograph.setup(filter=spectrograph_filter,
                                                 grating=plan.grating_slot,
                                                 stage_mm=plan.stage_mm, timeout_s=timeout_s))
        if moves:
            await asyncio.gather(*moves)
        return await self.current()

    async def _move_wheel(self, wheel: FilterWheel, slot: int, timeout_s: float) -> None:
        info = await wheel.info()
        before = (await wheel.state()).position
        if before == slot:
            return
        await wheel.set_position(slot)
        await wheel.wait_until(lambda s: s.position == slot, timeout_s=timeout_s, poll_s=0.1,
                               what=f"the move to filter {info.names[slot]}")
        if self.apply_focus_offsets and self.focuser is not None and before >= 0:
            delta = info.focus_offsets[slot] - info.focus_offsets[before]
            if delta:
                position = (await self.focuser.state()).position
                log.info("%s: filter %s → %s, focuser %+d steps", self.name,
                         info.names[before], info.names[slot], delta)
                await self.focuser.move_and_wait(position + delta, timeout_s=timeout_s)
