"""Shared by the serial drivers' tests: a device's component goes FAULT when its
simulator stops answering, and recovers by itself when it answers again."""

from __future__ import annotations

import asyncio

from component_helpers import next_change
from nocturna.components import DeviceComponent, RecoveryPolicy, SummaryState
from nocturna.core.events import EventBus
from nocturna.devices.serial.device import SerialDevice
from nocturna.devices.serial.simulator import ProtocolSimulator

ENABLED, FAULT = SummaryState.ENABLED, SummaryState.FAULT
POLICY = RecoveryPolicy(first_retry_s=0.5, max_retry_s=1.0)
LIMIT_S = 60.0
"""Seconds (of the loop's time) a step may take before the test gives up."""


async def silenced_then_recovered(device: SerialDevice, simulator: ProtocolSimulator,
                                  events: EventBus) -> tuple[str, dict]:
    """Enable ``device`` under a component (``events`` must be the device's bus),
    silence ``simulator`` until the component is FAULT, then let it answer until the
    component has recovered. Returns (the fault reason, the recovery event's data)."""
    component = DeviceComponent(device, events=events, heartbeat_interval_s=0.2,
                                probe_timeout_s=1.0, recovery=POLICY)
    try:
        with events.subscribe("component.*") as changes:
            async with asyncio.timeout(LIMIT_S):
                await component.set_state(ENABLED)
                simulator.go_silent()
                fault = await next_change(changes, lambda d: d.get("to") is FAULT)
                simulator.go_silent(False)
                recovered = await next_change(
                    changes, lambda d: d["topic"] == "component.recovered")
                assert component.state is ENABLED
                return fault["reason"], recovered
    finally:
        await component.close()
