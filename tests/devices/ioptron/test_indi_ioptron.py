"""The proof: INDI's own iOptron driver runs nocturna's iOptron simulator.

Debian's ``indi_ioptronv3_telescope`` (indi-bin 1.9.9) under a real ``indiserver`` opens
the simulator's pseudo-terminal like the mount's serial port, and nocturna's INDI
client (:class:`IndiMount`) drives it: connect, read the coordinates, unpark, slew,
park. The SimMount behind the simulator really moves there. The INDI driver keeps its
configuration and park data in a throw-away ``HOME``; its port is set with
``indi_setprop`` before connecting (nocturna's client switches devices on, it does not
configure their ports), with the search of other ports switched off.
"""

from __future__ import annotations

import math
import subprocess

import pytest

from indi_helpers import IndiServer
from nocturna.core.clock import RealClock
from nocturna.core.events import EventBus
from nocturna.devices.indi.mount import IndiMount
from nocturna.devices.ioptron.simulator import IoptronSimulator
from nocturna.devices.serial.pty_host import PtyHost
from nocturna.devices.sim.mount import SimMount
from unit_helpers import PERFECT_MOUNT

ARCMIN = 1.0 / 60.0


def separation_deg(ra1_h: float, dec1: float, ra2_h: float, dec2: float) -> float:
    a1, d1, a2, d2 = map(math.radians, (ra1_h * 15, dec1, ra2_h * 15, dec2))
    cos = math.sin(d1) * math.sin(d2) + math.cos(d1) * math.cos(d2) * math.cos(a1 - a2)
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def set_property(server: IndiServer, assignment: str) -> None:
    subprocess.run(["indi_setprop", "-p", str(server.port), assignment], check=True,
                   capture_output=True, timeout=30)


@pytest.fixture
def mount_on_pty():
    """A SimMount (fast, exact pointing) behind the iOptron simulator on a pty."""
    clock = RealClock()
    mount = SimMount("cem40", clock=clock, events=EventBus(), slew_rate_deg_s=15.0,
                     slew_settle_time_s=0.5, **PERFECT_MOUNT)
    simulator = IoptronSimulator(mount, clock=clock, model="0040")
    with PtyHost(simulator) as host:
        yield mount, simulator, host


async def test_indi_ioptronv3_driver_connects_slews_and_parks_the_simulated_mount(
        tmp_path, mount_on_pty):
    mount, simulator, host = mount_on_pty
    with IndiServer(tmp_path / "home", "ioptron") as server:
        device = server.device("ioptron")
        set_property(server, f"{device}.DEVICE_AUTO_SEARCH.INDI_ENABLED=Off;INDI_DISABLED=On")
        set_property(server, f"{device}.DEVICE_PORT.PORT={host.path}")
        set_property(server, f"{device}.DEVICE_BAUD_RATE.115200=On")
        client = IndiMount("mount", address=server.address, device=device, timeout_s=30.0)
        await client.connect()
        try:
            # connected: INDI read the model, and reports where the SimMount points
            assert simulator.received[0] == "MountInfo"
            assert client.value("Firmware Info", "Model") == "CEM40"
            truth = await mount.state()
            assert truth.at_park  # SimMount starts parked: INDI learns it from :GLS#
            state = await client.wait_until(  # INDI polls the mount once a second
                lambda s: s.at_park and abs(s.dec_deg - truth.dec_deg) < ARCMIN,
                timeout_s=20, poll_s=0.2, what="the first coordinates")
            assert abs(state.dec_deg - truth.dec_deg) < ARCMIN

            await client.unpark()
            assert not (await mount.state()).at_park
            target = ((truth.sidereal_time_hours - 1.0) % 24.0, 25.0)  # an hour east, high
            await client.slew_to_coordinates(*target)
            final = await client.wait_for_slew(timeout_s=60)
            truth = await mount.state()
            assert separation_deg(truth.ra_hours, truth.dec_deg, *target) < ARCMIN
            assert truth.tracking and not truth.slewing
            assert separation_deg(final.ra_hours, final.dec_deg, *target) < ARCMIN
            sent = simulator.received
            assert "MS1" in sent and any(c.startswith("SRA") for c in sent)

            await client.park()
            assert (await mount.state()).at_park
            assert (await client.state()).at_park
        finally:
            await client.disconnect()
