"""Faults injected into a simulated unit, on its clock (soak tests, tests of recovery).

A :class:`FaultPlan` lists scheduled :class:`Fault`\\ s. It comes from the ``faults:``
list of a weather scenario file (:mod:`nocturna.devices.sim.scenario`, where it is
``scenario.faults``) or from :func:`plan_from_data`::

    faults:
      - {kind: freeze, device: mount0, from: "23:00", until: "23:05"}
      - {kind: disconnect, device: foc0, from: "01:00", duration: 600}
      - {kind: exception, device: cam0, from: "02:00", message: "readout failed"}
      - {kind: slow_readout, device: cam0, from: "03:00", until: "04:00", factor: 5}
      - {kind: disk_full, from: "04:30", duration: 1800, free_mb: 0}
      - {kind: clock_jump, from: "05:00", seconds: 120}

Every entry has a ``kind`` and ``from`` (an ISO time or ``HH:MM`` on the night, as in
a scenario's timeline). Faults that last have ``until`` (a time) or ``duration``
(seconds), else they last to the end of time; they are active in [from, until).
Device faults name their ``device``; ``disk_full`` and ``clock_jump`` are unit-wide.

* ``freeze`` (device): every call hangs until the fault ends, so a call made while
  it is active ends in :class:`~nocturna.core.errors.DeviceTimeoutError` unless the
  fault ends first;
* ``disconnect`` (device): the link is down: the device reads disconnected, its calls
  raise :class:`~nocturna.core.errors.NotConnectedError`, ``connect()`` too;
  ``disconnect()`` works. Afterwards the device is connected again unless it was
  disconnected meanwhile (then ``connect()`` works again);
* ``exception`` (camera; once): the first exposure started at or after ``from``
  fails: the image of that exposure cannot be read (``image()`` raises
  :class:`SimulatedFaultError`, with ``message``) until the next exposure starts;
* ``slow_readout`` (simulated camera): exposures started while it is active read
  out ``factor`` (≥ 1) times slower, so their image is ready that much later;
* ``disk_full`` (unit-wide): the data directory has ``free_mb`` (default 0) MB free:
  the safety disk check sees it, image writes fail with ``OSError(ENOSPC)`` (see
  :mod:`nocturna.core.diskspace`);
* ``clock_jump`` (unit-wide; once): at ``from`` the clock steps forward by
  ``seconds`` (a system clock step; only a clock with ``step()``, such as
  :class:`~nocturna.core.clock.VirtualClock`, can).

Device faults follow the device's clock at each call (no task needed), through the
device's ``fault`` hook (:mod:`nocturna.devices.base`), which :meth:`FaultPlan.install`
sets on the simulated devices the plan names. Unit-wide faults need the plan's runner:
:meth:`FaultPlan.start` (or ``async with plan.running(clock, ...)``), started by
whoever builds the unit. Each fault's start and end are logged once and published:
``<device kind>.fault.started`` / ``.fault.ended`` from the device, ``fault.started``
/ ``fault.ended`` from source ``faults`` for unit-wide faults. Mistakes raise
:class:`ConfigError` naming the entry and the field (``faults[2].factor: ...``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, is_dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from nocturna.core import diskspace
from nocturna.core.clock import Clock, get_clock
from nocturna.core.errors import (
    ConfigError,
    InvalidOperationError,
    NocturnaError,
    NotConnectedError,
)
from nocturna.core.events import EventBus, get_event_bus
from nocturna.devices.base import Device
from nocturna.devices.sim.scenario import _night_of, _Times, _zone

log = logging.getLogger(__name__)

FREEZE, DISCONNECT, EXCEPTION = "freeze", "disconnect", "exception"
SLOW_READOUT, DISK_FULL, CLOCK_JUMP = "slow_readout", "disk_full", "clock_jump"


@dataclass(frozen=True)
class _Param:
    low: float
    high: float
    default: float | None = None  # None: required
    above_low: bool = False  # the value must exceed ``low``

    def accepts(self, value: Any) -> bool:
        return _number(value) and (value > self.low if self.above_low
                                   else value >= self.low) and value <= self.high

    def describe(self) -> str:
        low = f"> {self.low:g}" if self.above_low else f">= {self.low:g}"
        return f"a number {low} and <= {self.high:g}"


@dataclass(frozen=True)
class _Kind:
    target: str | None  # "device", "camera", or None (unit-wide)
    once: bool = False
    params: Mapping[str, _Param] = field(default_factory=dict)
    text: tuple[str, ...] = ()  # optional text parameters


KINDS: dict[str, _Kind] = {
    FREEZE: _Kind("device"),
    DISCONNECT: _Kind("device"),
    EXCEPTION: _Kind("camera", once=True, text=("message",)),
    SLOW_READOUT: _Kind("camera", params={"factor": _Param(1.0, 1000.0)}),
    DISK_FULL: _Kind(None, params={"free_mb": _Param(0.0, 1e12, 0.0)}),
    CLOCK_JUMP: _Kind(None, once=True,
                      params={"seconds": _Param(0.0, 366 * 86400.0, above_low=True)}),
}
"""Each fault kind: what it targets, whether it happens once, its parameters."""

_START_MEMBERS = frozenset({"start_exposure", "start_stuttered_exposure"})


class SimulatedFaultError(NocturnaError):
    """A driver error injected by an ``exception`` fault."""


@dataclass(frozen=True)
class Fault:
    """One scheduled fault: ``kind`` on ``device`` (None: unit-wide) in [start, end).

    ``start``/``end`` are POSIX seconds (``end`` is ``inf`` for the end of time and
    equals ``start`` for faults that happen once); ``label`` names the entry
    (``faults[2]``) in logs, events and errors.
    """

    kind: str
    device: str | None
    start: float
    end: float = math.inf
    params: Mapping[str, Any] = field(default_factory=dict)
    label: str = "fault"

    @property
    def once(self) -> bool:
        return KINDS[self.kind].once

    def active(self, t: float) -> bool:
        """Whether this (lasting) fault is in force at POSIX time ``t``."""
        return self.start <= t < self.end

    def describe(self) -> str:
        where = f" on {self.device}" if self.device else ""
        return f"{self.label} ({self.kind}{where})"

    def event_data(self) -> dict[str, Any]:
        """What its events carry besides the time."""
        until = None if self.once or math.isinf(self.end) else _instant(self.end).isoformat()
        return {"fault": self.kind, "entry": self.label, "until": until, **self.params}


def _instant(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


# ------------------------------------------------------------------ parsing
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
    if data is None:
        return FaultPlan()
    if not isinstance(data, list):
        problems.append(f"faults: expected a list of faults, got {data!r}")
        return FaultPlan()
    faults = []
    for index, entry in enumerate(data):
        fault = _fault(entry, f"faults[{index}]", times, problems)
        if fault is not None:
            faults.append(fault)
    return FaultPlan(faults)


def _fault(entry: Any, where: str, times: _Times, problems: list[str]) -> Fault | None:
    if not isinstance(entry, Mapping):
        problems.append(f"{where}: expected a mapping such as {{kind: freeze, device: "
                        f"mount0, from: '23:00', duration: 60}}, got {entry!r}")
        return None
    kind = entry.get("kind")
    if kind not in KINDS:
        got = "missing" if kind is None else f"got {kind!r}"
        problems.append(f"{where}.kind: expected one of {', '.join(KINDS)}, {got}")
        return None
    spec = KINDS[kind]
    count = len(problems)
    allowed = _fields(spec)
    for key in entry:
        if key not in allowed:
            problems.append(f"{where}.{key}: unknown field for a {kind} fault (expected "
                            f"{', '.join(allowed)})")
    device = _device(entry, where, spec, problems)
    start, end = _window(entry, where, spec, times, problems)
    params = _params(entry, where, spec, problems)
    if len(problems) > count:
        return None
    return Fault(kind, device, start, end, params, where)


def _fields(spec: _Kind) -> list[str]:
    fields = ["kind", *(["device"] if spec.target else []), "from"]
    if not spec.once:
        fields += ["until", "duration"]
    return [*fields, *spec.params, *spec.text]


def _device(entry: Mapping[str, Any], where: str, spec: _Kind,
            problems: list[str]) -> str | None:
    if spec.target is None:
        return None
    name = entry.get("device")
    if not isinstance(name, str) or not name:
        got = "missing" if name is None else f"got {name!r}"
        problems.append(f"{where}.device: expected the name of a simulated "
                        f"{'camera' if spec.target == 'camera' else 'device'}, {got}")
        return None
    return name


def _window(entry: Mapping[str, Any], where: str, spec: _Kind, times: _Times,
            problems: list[str]) -> tuple[float, float]:
    """[start, end) of an entry (NaN when it cannot be read)."""
    if "from" not in entry:
        problems.append(f"{where}.from: required (an ISO time or HH:MM)")
        return math.nan, math.nan
    try:
        start = times(entry["from"], f"{where}.from")
    except ValueError as exc:
        problems.append(str(exc))
        return math.nan, math.nan
    if spec.once:
        return start, start
    if "until" in entry and "duration" in entry:
        problems.append(f"{where}: give 'until' or 'duration', not both")
        return start, math.nan
    if "duration" in entry:
        duration = entry["duration"]
        if _number(duration) and 0 < duration < math.inf:
            return start, start + float(duration)
        problems.append(f"{where}.duration: expected a number of seconds > 0, "
                        f"got {duration!r}")
        return start, math.nan
    if "until" not in entry:
        return start, math.inf
    try:
        end = times(entry["until"], f"{where}.until")
    except ValueError as exc:
        problems.append(str(exc))
        return start, math.nan
    if not start < end:
        problems.append(f"{where}.until: must be after 'from'")
    return start, end


def _params(entry: Mapping[str, Any], where: str, spec: _Kind,
            problems: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, param in spec.params.items():
        value = entry.get(name, param.default)
        if value is None:
            problems.append(f"{where}.{name}: required ({param.describe()})")
        elif not param.accepts(value):
            problems.append(f"{where}.{name}: expected {param.describe()}, got {value!r}")
        else:
            params[name] = float(value)
    for name in spec.text:
        if name in entry:
            if isinstance(entry[name], str) and entry[name].strip():
                params[name] = entry[name].strip()
            else:
                problems.append(f"{where}.{name}: expected some text, got {entry[name]!r}")
    return params


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) \
        and not math.isnan(value)


# ------------------------------------------------------------ device faults
_PENDING, _ACTIVE, _FAILED, _ENDED = "pending", "active", "failed", "ended"


class DeviceFaults:
    """The fault hook of one simulated device (a :class:`~nocturna.devices.base.FaultHook`):
    its faults, and how far each has got."""

    def __init__(self, faults: Sequence[Fault]) -> None:
        self.faults = tuple(faults)
        self._phase = [_PENDING] * len(self.faults)
        self._model: Any = None  # a slowed camera's own model, while slowed
        self._factor = 1.0

    async def __call__(self, device: Device, member: str) -> None:
        now = self._update(device)
        self._pace_readout(device, now)
        self._exception(device, member, now)
        if member != "disconnect" and self._active(DISCONNECT, now):
            raise NotConnectedError(f"{device.kind} {device.name!r}: the link is down "
                                    f"({member}; {self._label(DISCONNECT, now)})")
        frozen_until = max((f.end for f in self._lasting(FREEZE, now)), default=None)
        if frozen_until is not None:
            await _hang(device.clock, frozen_until)
            self._update(device)

    def link_down(self, device: Device) -> bool:
        """Whether a ``disconnect`` fault is active now."""
        return self._active(DISCONNECT, self._update(device))

    # ------------------------------------------------------------ phases
    def _update(self, device: Device) -> float:
        """Log and publish lasting faults that started or ended; returns the time."""
        now = device.clock.timestamp()
        for index, fault in enumerate(self.faults):
            phase = self._phase[index]
            if fault.once or phase == _ENDED:
                continue
            if phase == _PENDING and fault.active(now):
                self._started(device, index)
            elif now >= fault.end:
                if phase == _ACTIVE:
                    self._ended(device, index)
                else:
                    log.info("%s: injected fault %s passed without a call to the device",
                             device.name, fault.describe())
                    self._phase[index] = _ENDED
        return now

    def _started(self, device: Device, index: int, detail: str = "") -> None:
        fault = self.faults[index]
        self._phase[index] = _ACTIVE
        log.warning("%s: injected fault %s started%s", device.name, fault.describe(), detail)
        device.publish("fault.started", **fault.event_data())

    def _ended(self, device: Device, index: int, detail: str = "") -> None:
        fault = self.faults[index]
        self._phase[index] = _ENDED
        log.info("%s: injected fault %s ended%s", device.name, fault.describe(), detail)
        device.publish("fault.ended", **fault.event_data())

    def _lasting(self, kind: str, now: float) -> list[Fault]:
        return [f for f in self.faults if f.kind == kind and f.active(now)]

    def _active(self, kind: str, now: float) -> bool:
        return bool(self._lasting(kind, now))

    def _label(self, kind: str, now: float) -> str:
        return "injected fault " + ", ".join(f.label for f in self._lasting(kind, now))

    # ------------------------------------------------------------ kinds
    def _pace_readout(self, device: Device, now: float) -> None:
        """Slow the camera's readout while a ``slow_readout`` fault is active."""
        factor = max((f.params["factor"] for f in self._lasting(SLOW_READOUT, now)),
                     default=1.0)
        if factor == self._factor:
            return
        camera: Any = device
        own = self._model if self._model is not None else camera.model
        if factor == 1.0:
            camera.model, self._model = own, None
        else:
            camera.model = replace(own, readout_s=own.readout_s * factor,
                                   fast_readout_s=own.fast_readout_s * factor,
                                   readout_overhead_s=own.readout_overhead_s * factor)
            self._model = own
        self._factor = factor

    def _exception(self, device: Device, member: str, now: float) -> None:
        """Arm an ``exception`` fault at an exposure's start; fail that exposure's image."""
        for index, fault in enumerate(self.faults):
            if fault.kind != EXCEPTION:
                continue
            phase = self._phase[index]
            if member in _START_MEMBERS:
                if phase == _FAILED:
                    self._phase[index] = _ENDED  # the next exposure goes well
                elif phase == _PENDING and now >= fault.start:
                    self._started(device, index, f" (the exposure starting at "
                                                 f"{_instant(now):%H:%M:%S} will fail)")
                    return  # one fault per exposure
            elif member == "image" and phase in (_ACTIVE, _FAILED):
                if phase == _ACTIVE:
                    self._ended(device, index, " (the exposure failed)")
                    self._phase[index] = _FAILED
                message = fault.params.get("message", "the exposure failed mid-way")
                raise SimulatedFaultError(f"{device.kind} {device.name!r}: {message} "
                                          f"(injected fault {fault.label})")


async def _hang(clock: Clock, until: float) -> None:
    """Sleep on ``clock`` until POSIX time ``until`` (forever if infinite)."""
    if math.isinf(until):
        await asyncio.get_running_loop().create_future()  # until the call times out
    else:
        await clock.sleep_until(_instant(until))


def _check_target(fault: Fault, device: Device | None, known: Iterable[str]) -> str | None:
    """Why ``fault`` cannot go on ``device`` (None: it can)."""
    where = f"{fault.label}.device"
    if device is None:
        return (f"{where}: no device named {fault.device!r} (known: "
                f"{', '.join(sorted(known)) or 'none'})")
    if device.driver_name != "sim":
        return (f"{where}: {fault.device!r} is not simulated (driver "
                f"{device.driver_name!r}); faults go on simulated devices only")
    if KINDS[fault.kind].target == "camera" and device.kind != "camera":
        return f"{where}: {fault.device!r} is a {device.kind}; {fault.kind} needs a camera"
    model = getattr(device, "model", None)
    if fault.kind == SLOW_READOUT and not (is_dataclass(model)
                                           and hasattr(model, "readout_s")):
        return f"{where}: camera {fault.device!r} has no readout model to slow"
    return None


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
            problem = _check_target(fault, by_name.get(fault.device), by_name)
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
                         _instant(fault.start).isoformat())
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
                await self.clock.sleep_until(_instant(at))
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
