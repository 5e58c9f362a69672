"""What operators asked of the unit, as the states read it.

:class:`OperatorRequests` is the unit-side half of operator control
(:mod:`nocturna.runtime.control` is the other): a hold (``pause`` or ``park``) that
keeps the unit from starting new work until it is resumed, a request to end the night,
the targets of opportunity waiting to be observed next, and the calibration sequences
waiting for the unit to be parked. The states read it; a change wakes whatever waits
on :meth:`OperatorRequests.wait` (the parked and paused states), so a resume or a
calibration request is acted on at once, not at the next safety check.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nocturna.core.clock import Clock

PAUSE = "pause"
PARK = "park"


@dataclass(frozen=True)
class CalibrationJob:
    """A calibration sequence an operator asked for (checked already)."""

    kind: str  # bias | dark | flat
    count: int
    exposure_s: float | None = None
    filter: str | None = None
    who: str = ""

    @property
    def label(self) -> str:
        if self.kind == "bias":
            return f"{self.count} bias"
        what = f"{self.count} {self.kind}s"
        if self.exposure_s is not None:
            what += f" of {self.exposure_s:g} s"
        return what + (f" in {self.filter}" if self.filter else "")


@dataclass
class OperatorRequests:
    """The operators' standing requests (see the module docstring)."""

    hold: str | None = None  # PAUSE | PARK | None
    held_by: str = ""
    end_night: bool = False
    targets: list[Any] = field(default_factory=list)  # Observations, first = next
    calibrations: list[CalibrationJob] = field(default_factory=list)
    _changed: asyncio.Event | None = None

    @property
    def holds_closed(self) -> bool:
        """The unit must park and stay closed (an operator park or the end of the night)."""
        return self.hold == PARK or self.end_night

    @property
    def stops_work(self) -> bool:
        """No new work may start (a hold, or the end of the night)."""
        return self.hold is not None or self.end_night

    def changed(self) -> None:
        """Wake everything waiting in :meth:`wait`."""
        event, self._changed = self._changed, None
        if event is not None:
            event.set()

    async def wait(self, clock: Clock, timeout_s: float) -> None:
        """Until a request changes, or ``timeout_s`` clock seconds have passed."""
        if self._changed is None:
            self._changed = asyncio.Event()
        waiter = asyncio.ensure_future(self._changed.wait())
        sleeper = asyncio.ensure_future(clock.sleep(timeout_s))
        try:
            await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (waiter, sleeper):
                task.cancel()
            for task in (waiter, sleeper):
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def next_target(self) -> Any | None:
        """The target of opportunity to observe next (finished ones are dropped)."""
        while self.targets and self.targets[0].is_finished:
            self.targets.pop(0)
        return self.targets[0] if self.targets else None

    def add_target(self, observation: Any) -> int:
        """Queue a target of opportunity by priority (highest first, then in order of
        arrival); its place in the queue (0: next)."""
        priority = observation.field.priority
        place = next((i for i, queued in enumerate(self.targets)
                      if queued.field.priority < priority), len(self.targets))
        self.targets.insert(place, observation)
        self.changed()
        return place

    def preempts(self, observation: Any) -> str | None:
        """Why the set of ``observation`` must stop before its next frame (None: go on)."""
        if self.end_night:
            return "the night was ended by an operator"
        if self.hold == PARK:
            return f"parked by {self.held_by or 'an operator'}"
        if self.hold == PAUSE:
            return f"paused by {self.held_by or 'an operator'}"
        target = self.next_target()
        if target is not None and target is not observation:
            return f"target of opportunity {target.field.name} goes first"
        return None
