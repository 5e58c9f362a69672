"""A device under control: connects in DISABLED, gates its commands, probes ``state()``."""

from __future__ import annotations

import logging
from typing import Any

from nocturna.components.component import Component
from nocturna.components.heartbeat import PROBING
from nocturna.components.states import (
    CONNECTED,
    DISABLED,
    STANDBY,
    SummaryState,
    describe_error,
    is_device_failure,
)
from nocturna.core.clock import Clock
from nocturna.core.errors import (
    InvalidOperationError,
)
from nocturna.core.events import EventBus
from nocturna.devices.base import Device

log = logging.getLogger(__name__)


class DeviceComponent(Component):
    """A device under control: connects in DISABLED, gates its commands, probes ``state()``.

    Installs itself as the device's ``gate`` (commands that act need ENABLED) and
    ``outcome`` (consecutive device failures lead to FAULT). A device can be under one
    open component at a time.
    """

    probe_description = "state()"

    def __init__(self, device: Device, **options: Any) -> None:
        owner = getattr(device.gate, "__self__", None)
        if isinstance(owner, Component) and not owner.closed:
            raise InvalidOperationError(
                f"{device.kind} {device.name!r} is already under {owner!r}; close it first")
        identity = device.identity
        options.setdefault("software_version",
                           f"{device.driver_name} {identity.driver_version}")
        options.setdefault("simulation_mode", device.driver_name == "sim")
        super().__init__(device.name, **options)
        self.kind = device.kind
        self.device = device
        device.gate = self._gate
        device.outcome = self._outcome

    @property
    def clock(self) -> Clock:
        return self._clock if self._clock is not None else self.device.clock

    @property
    def events(self) -> EventBus:
        return self._events if self._events is not None else self.device.events

    async def _on_enter(self, state: SummaryState) -> None:
        if state is DISABLED and self.state is STANDBY:
            await self.device.connect()
        elif state is STANDBY:  # also from OFFLINE: a device found connected is let go
            await self.device.disconnect()

    async def _probe(self) -> None:
        await self.device.state()

    def _transition_action(self, previous: SummaryState, state: SummaryState) -> str:
        if state is DISABLED and previous is STANDBY:
            return "connect"
        if state is STANDBY:
            return "disconnect"
        return super()._transition_action(previous, state)

    def _gate(self, device: Device, member: str) -> None:
        self.require_enabled(member)

    async def _outcome(self, device: Device, member: str, error: Exception | None) -> None:
        if PROBING.get() is self or self._state not in CONNECTED:
            return
        if error is None or not is_device_failure(error):
            self.command_failures = 0  # the device answered
            return
        self.command_failures += 1
        self.last_failure = f"{self.label}: {member}() raised {describe_error(error)}"
        if self.command_failures >= self.fault_after:
            await self.fault(f"{self.label}: {self.command_failures} commands failed in a "
                             f"row, the last {member}() raised {describe_error(error)}")
