"""The per-device fault hook: a simulated device misbehaves while its faults are active."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import is_dataclass, replace
from typing import Any

from nocturna.core.clock import Clock
from nocturna.core.errors import (
    NotConnectedError,
)
from nocturna.devices.base import Device
from nocturna.devices.sim.faults.spec import (
    DISCONNECT,
    EXCEPTION,
    FREEZE,
    KINDS,
    SLOW_READOUT,
    START_MEMBERS,
    Fault,
    SimulatedFaultError,
    instant,
)

log = logging.getLogger(__name__)

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
            if member in START_MEMBERS:
                if phase == _FAILED:
                    self._phase[index] = _ENDED  # the next exposure goes well
                elif phase == _PENDING and now >= fault.start:
                    self._started(device, index, f" (the exposure starting at "
                                                 f"{instant(now):%H:%M:%S} will fail)")
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
        await clock.sleep_until(instant(until))


def check_target(fault: Fault, device: Device | None, known: Iterable[str]) -> str | None:
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
