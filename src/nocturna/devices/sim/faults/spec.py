"""Fault kinds, one scheduled fault, and reading ``faults:`` lists from scenario data."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nocturna.core.errors import (
    NocturnaError,
)
from nocturna.devices.sim.scenario import _Times

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

START_MEMBERS = frozenset({"start_exposure", "start_stuttered_exposure"})


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
        until = None if self.once or math.isinf(self.end) else instant(self.end).isoformat()
        return {"fault": self.kind, "entry": self.label, "until": until, **self.params}


def instant(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def parse_faults(data: Any, times: _Times, problems: list[str]) -> list[Fault]:
    """The faults of a ``faults:`` list; mistakes go to ``problems``."""
    if data is None:
        return []
    if not isinstance(data, list):
        problems.append(f"faults: expected a list of faults, got {data!r}")
        return []
    faults = []
    for index, entry in enumerate(data):
        fault = _fault(entry, f"faults[{index}]", times, problems)
        if fault is not None:
            faults.append(fault)
    return faults


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
