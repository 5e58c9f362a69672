"""A unit's fault plan: installing device hooks, running unit-wide faults on the clock."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import date, datetime
from typing import Any

from nocturna.core import diskspace
from nocturna.core.clock import Clock, get_clock
from nocturna.core.errors import (
    ConfigError,
    InvalidOperationError,
)
from nocturna.core.events import EventBus, get_event_bus
from nocturna.devices.base import Device
from nocturna.devices.sim.faults.hooks import DeviceFaults, check_target
from nocturna.devices.sim.faults.spec import CLOCK_JUMP, KINDS, Fault, instant, parse_faults
from nocturna.devices.sim.scenario import _night_of, _Times, _zone

log = logging.getLogger(__name__)


def plan_from_data(data: Any, *, start: datetime | None = None, timezone: str | None = None,
                   night: date | None = None) -> FaultPlan:
    """A plan from a parsed ``faults:`` list (see the module docstring).

    ``HH:MM`` times fall on ``night`` (the evening date), else on the night of
    ``start``; ``timezone`` (IANA, default UTC) is the zone of those and zone-less times.
    """
    try:
        zone = _zone(timezone)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if night is None and start is not None:
        night = _night_of(start, zone)
    problems: list[str] = []
    plan = faults_from_data(data, _Times(zone, night), problems)
    if problems:
        raise ConfigError(problems)
    return plan


def faults_from_data(data: Any, times: _Times, problems: list[str]) -> FaultPlan:
    """The plan of a ``faults:`` list; mistakes go to ``problems``."""
    return FaultPlan(parse_faults(data, times, problems))


# ---------------------------------------------------------------------- plan
class FaultPlan:
    """Scheduled faults of one simulated unit (see the module docstring)."""

    def __init__(self, faults: Iterable[Fault] = (), *, source: str | None = None) -> None:
        self.faults = tuple(faults)
        for fault in self.faults:
            if fault.kind not in KINDS:
                raise ConfigError(f"{fault.label}.kind: expected one of {', '.join(KINDS)}, "
                                  f"got {fault.kind!r}")
        self.source = source
        """Where the plan comes from (a scenario file's name), to prefix errors."""
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self.faults)

    def __iter__(self) -> Iterator[Fault]:
        return iter(self.faults)

    def __repr__(self) -> str:
        return f"<FaultPlan of {len(self.faults)} fault(s)>"

    @property
    def device_names(self) -> set[str]:
        """The devices named by device faults."""
        return {f.device for f in self.faults if f.device is not None}

    @property
    def unit_faults(self) -> list[Fault]:
        """The unit-wide faults, which need :meth:`start`."""
        return [f for f in self.faults if f.device is None]

    # -------------------------------------------------------------- install
    def install(self, devices: Iterable[Device]) -> dict[str, DeviceFaults]:
        """Set the fault hook of every device a fault names; returns the hooks by name.

        Raises :class:`ConfigError` (every problem) for a name no device has, a device
        that is not simulated, or a kind the device cannot take.
        """
        by_name = {device.name: device for device in devices}
        problems: list[str] = []
        targets: dict[str, list[Fault]] = {}
        for fault in self.faults:
            if fault.device is None:
                continue
            problem = check_target(fault, by_name.get(fault.device), by_name)
            if problem is not None:
                problems.append(problem)
            else:
                targets.setdefault(fault.device, []).append(fault)
        if problems:
            prefix = f"{self.source}: " if self.source else ""
            raise ConfigError([prefix + problem for problem in problems])
        hooks = {name: DeviceFaults(faults) for name, faults in targets.items()}
        for name, hook in hooks.items():
            by_name[name].fault = hook
        return hooks

    # ------------------------------------------------------------ unit-wide
    def start(self, clock: Clock | None = None, *, events: EventBus | None = None,
              data_dir: str | os.PathLike[str] | None = None) -> asyncio.Task[None]:
        """Apply the unit-wide faults at their times on ``clock`` (default: the process
        clock) in a task; ``disk_full`` covers ``data_dir`` (None: every path)."""
        if self._task is not None and not self._task.done():
            raise InvalidOperationError("this fault plan is already running")
        runner = _UnitFaults(self.unit_faults, clock or get_clock(),
                             events or get_event_bus(), data_dir)
        self._task = asyncio.get_running_loop().create_task(runner.run(),
                                                            name="nocturna fault plan")
        return self._task

    async def stop(self) -> None:
        """Stop the runner; a disk shortage in force ends (idempotent)."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @contextlib.asynccontextmanager
    async def running(self, clock: Clock | None = None, *, events: EventBus | None = None,
                      data_dir: str | os.PathLike[str] | None = None
                      ) -> AsyncIterator[asyncio.Task[None]]:
        """:meth:`start` for the duration of an ``async with`` block, then :meth:`stop`."""
        task = self.start(clock, events=events, data_dir=data_dir)
        try:
            yield task
        finally:
            await self.stop()


class _UnitFaults:
    """The runner of a plan's unit-wide faults."""

    def __init__(self, faults: list[Fault], clock: Clock, events: EventBus,
                 data_dir: str | os.PathLike[str] | None) -> None:
        self.faults, self.clock, self.events, self.data_dir = faults, clock, events, data_dir
        self._shortages: dict[int, diskspace.Shortage] = {}  # by id of the fault

    def _steps(self) -> list[tuple[float, int, Fault]]:
        """(time, 0 end / 1 start, fault), in order, without what is already over."""
        now = self.clock.timestamp()
        steps: list[tuple[float, int, Fault]] = []
        for fault in self.faults:
            if fault.once and fault.start < now:
                log.info("injected fault %s at %s: in the past, skipped", fault.describe(),
                         instant(fault.start).isoformat())
            elif not fault.once and fault.end <= now:
                log.info("injected fault %s: over before the unit started, skipped",
                         fault.describe())
            else:
                steps.append((max(fault.start, now), 1, fault))
                if not fault.once and not math.isinf(fault.end):
                    steps.append((fault.end, 0, fault))
        return sorted(steps, key=lambda step: step[:2])

    async def run(self) -> None:
        try:
            for at, starts, fault in self._steps():
                await self.clock.sleep_until(instant(at))
                if starts:
                    self._start(fault)
                else:
                    self._end(fault)
            if self._shortages:  # lasting to the end of time: until the plan stops
                await asyncio.get_running_loop().create_future()
        finally:
            for fault in self.faults:
                self._end(fault, " (the plan stopped)")

    def _publish(self, topic: str, fault: Fault, **extra: Any) -> None:
        self.events.publish(topic, "faults", time=self.clock.now(), **fault.event_data(),
                            **extra)

    def _start(self, fault: Fault) -> None:
        if fault.kind == CLOCK_JUMP:
            self._jump(fault)
            return
        free = int(fault.params["free_mb"] * 1e6)
        self._shortages[id(fault)] = diskspace.simulate_shortage(self.data_dir, free)
        where = self.data_dir if self.data_dir is not None else "every disk"
        log.warning("injected fault %s started: %s has %d MB free", fault.describe(), where,
                    free // 1_000_000)
        self._publish("fault.started", fault, path=None if self.data_dir is None
                      else str(self.data_dir))

    def _end(self, fault: Fault, detail: str = "") -> None:
        shortage = self._shortages.pop(id(fault), None)
        if shortage is None:
            return
        diskspace.end_shortage(shortage)
        log.info("injected fault %s ended%s", fault.describe(), detail)
        self._publish("fault.ended", fault)

    def _jump(self, fault: Fault) -> None:
        seconds = fault.params["seconds"]
        step = getattr(self.clock, "step", None)
        if not callable(step):
            log.warning("injected fault %s: %r cannot step; no clock jump", fault.describe(),
                        self.clock)
            return
        log.warning("injected fault %s: the clock steps forward %g s", fault.describe(),
                    seconds)
        self._publish("fault.started", fault)
        step(seconds)
        self._publish("fault.ended", fault)
