"""An indiserver killed under a running component, then restarted on the same port:
the component goes to FAULT, its recovery reconnects, and the focuser moves again.

Real time, a real indiserver of its own (it is killed), short heartbeat and retry
settings; on asyncio's default loop and on uvloop (the loop ``nocturna run`` uses).
"""

from __future__ import annotations

import asyncio

import pytest
import uvloop

from component_helpers import next_change
from indi_helpers import IndiServer
from nocturna.components import DeviceComponent, RecoveryPolicy, SummaryState
from nocturna.core.events import EventBus
from nocturna.devices.indi.connection import IndiConnectionError, acquire, release
from nocturna.devices.indi.focuser import IndiFocuser

STANDBY, ENABLED, FAULT = SummaryState.STANDBY, SummaryState.ENABLED, SummaryState.FAULT
POLICY = RecoveryPolicy(first_retry_s=0.5, max_retry_s=1.0)
LIMIT_S = 45.0
"""Real seconds a step may take before the test gives up (a hang, not a slow machine)."""


async def moved_by(focuser: IndiFocuser, steps: int) -> tuple[int, int]:
    """Move relative to where the focuser is; (target, where it stopped)."""
    start = (await focuser.state()).position
    target = start + steps if start + steps <= (await focuser.info()).max_step else start - steps
    await focuser.move_to(target)
    final = await focuser.wait_until(lambda s: not s.is_moving and s.position == target,
                                     timeout_s=LIMIT_S, poll_s=0.05)
    return target, final.position


async def device_switched_on(address: str, device: str) -> bool:
    """What a fresh client of the server sees: is the device's CONNECT switch On?"""
    connection = acquire(address, own=True)
    try:
        await connection.wait_up(LIMIT_S)
        switch = await connection.wait_for(
            lambda: connection.store.get(device, "CONNECTION"), LIMIT_S, "CONNECTION")
        return switch["CONNECT"] is True
    finally:
        await release(connection)


async def killed_and_restarted(server: IndiServer) -> None:
    events = EventBus()
    focuser = IndiFocuser("focus0", address=server.address, device=server.device("focuser"),
                          timeout_s=10, connect_timeout_s=2, events=events)
    component = DeviceComponent(focuser, events=events, heartbeat_interval_s=0.2,
                                probe_timeout_s=2.0, recovery=POLICY)
    try:
        with events.subscribe("component.*") as changes:
            async with asyncio.timeout(LIMIT_S):
                await component.set_state(ENABLED)
                target, reached = await moved_by(focuser, 1500)
                assert reached == target

                server.kill()
                fault = await next_change(changes, lambda d: d.get("to") is FAULT)
                assert "IndiConnectionError" in fault["reason"], fault["reason"]
                assert f"INDI server {server.address}" in component.fault_reason
                with pytest.raises(IndiConnectionError, match="is not connected"):
                    await focuser.state()

                await asyncio.to_thread(server.start)  # the same port; recovery keeps trying
                recovered = await next_change(
                    changes, lambda d: d["topic"] == "component.recovered")
                assert recovered["state"] is ENABLED and component.state is ENABLED
                target, reached = await moved_by(focuser, -2500)
                assert reached == target

                await component.set_state(STANDBY)
                assert not focuser.connected
                assert await device_switched_on(server.address, server.device("focuser"))
    finally:
        await component.close()


async def test_a_killed_server_faults_the_component_and_a_restart_recovers_it(tmp_path):
    with IndiServer(tmp_path, "focuser") as server:
        await killed_and_restarted(server)


def test_the_same_under_uvloop(tmp_path):
    with IndiServer(tmp_path, "focuser") as server, \
            asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(killed_and_restarted(server))
