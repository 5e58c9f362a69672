"""The INDI dome driver against Debian's dome simulator (a real indiserver).

The simulator turns 10° per 1 s poll and moves its shutter in about 5 s; it keeps its
state for the module, so each test starts by reading it (helpers below) and moves
relative to where the dome is.
"""

from __future__ import annotations

import asyncio

import pytest
import uvloop

from nocturna.core.errors import (
    InvalidValueError,
    InvalidWhileParkedError,
    InvalidWhileSlavedError,
)
from nocturna.devices.indi.dome import IndiDome
from nocturna.devices.types import ShutterState


def dome_of(server) -> IndiDome:
    return IndiDome("dome0", address=server.address, device=server.device("dome"))


async def ready(dome: IndiDome):
    """Connected, unparked, not slaved, not moving: the state a test starts from."""
    await dome.connect()
    status = await dome.state()
    if status.slaved:
        await dome.set_slaved(False)
    if status.at_park:  # the test's own set-up: the interface unparks only by moving
        await dome.send("DOME_PARK", {"PARK": False, "UNPARK": True}, wait=True,
                        timeout_s=60)
    if (await dome.state()).slewing:
        await dome.abort_slew()
    return await dome.state()


async def shutter_to(dome: IndiDome, wanted: ShutterState) -> list[ShutterState]:
    """Open or close the shutter; the distinct states seen on the way, in order."""
    seen: list[ShutterState] = []

    def record(status) -> bool:
        if not seen or seen[-1] != status.shutter_status:
            seen.append(status.shutter_status)
        return status.shutter_status == wanted

    await (dome.open_shutter() if wanted == ShutterState.OPEN else dome.close_shutter())
    await dome.wait_until(record, timeout_s=30, poll_s=0.1, what=f"shutter {wanted.name}")
    return seen


async def test_the_shutter_opens_and_closes_through_opening_and_closing(indi_server):
    dome = dome_of(indi_server)
    status = await ready(dome)
    try:
        assert (await dome.info()).can_set_shutter
        if status.shutter_status not in (ShutterState.OPEN, ShutterState.CLOSED):
            await shutter_to(dome, ShutterState.CLOSED)
        moves = [ShutterState.OPEN, ShutterState.CLOSED]
        if (await dome.state()).shutter_status == ShutterState.OPEN:
            moves.reverse()
        for wanted in moves:  # from where it is to the other end and back
            seen = await shutter_to(dome, wanted)
            moving = ShutterState.OPENING if wanted == ShutterState.OPEN \
                else ShutterState.CLOSING
            assert seen == [moving, wanted]
            assert not (await dome.state()).slewing
    finally:
        await dome.disconnect()


async def test_the_dome_turns_to_an_azimuth_and_an_abort_stops_it(indi_server):
    dome = dome_of(indi_server)
    start = await ready(dome)
    try:
        info = await dome.info()
        assert info.can_set_azimuth and not info.is_roof
        target = (start.azimuth_deg + 30.0) % 360.0
        await dome.slew_to_azimuth(target)
        assert (await dome.state()).slewing
        final = await dome.wait_until(lambda s: not s.slewing, timeout_s=30, poll_s=0.1)
        assert final.azimuth_deg == pytest.approx(target)

        far = (target + 120.0) % 360.0
        await dome.slew_to_azimuth(far)
        await dome.wait_until(lambda s: s.azimuth_deg != pytest.approx(target),
                              timeout_s=10, poll_s=0.1, what="turning")
        await dome.abort_slew()
        stopped = await dome.state()
        assert not stopped.slewing
        assert stopped.azimuth_deg not in (pytest.approx(target), pytest.approx(far))
        with pytest.raises(InvalidValueError, match="azimuth 400"):
            await dome.slew_to_azimuth(400.0)
    finally:
        await dome.disconnect()


async def test_a_slaved_dome_refuses_slews_by_hand(indi_server):
    dome = dome_of(indi_server)
    await ready(dome)
    try:
        assert (await dome.info()).can_slave
        await dome.set_slaved(True)
        assert (await dome.state()).slaved
        assert dome.vector("DOME_AUTOSYNC")["DOME_AUTOSYNC_ENABLE"] is True
        with pytest.raises(InvalidWhileSlavedError, match="slaved to the mount"):
            await dome.slew_to_azimuth(10.0)
        await dome.set_slaved(False)
        assert not (await dome.state()).slaved
    finally:
        await dome.disconnect()


async def exercise_park(dome: IndiDome) -> None:
    start = await ready(dome)
    await dome.set_park()  # park where it is: no turning, only the shutter closes
    await dome.park()
    parked = await dome.wait_until(lambda s: s.at_park and not s.slewing, timeout_s=30,
                                   poll_s=0.1, what="parking")
    assert parked.azimuth_deg == pytest.approx(start.azimuth_deg)
    assert parked.shutter_status == ShutterState.CLOSED  # the simulator closes on park
    target = (start.azimuth_deg + 20.0) % 360.0
    with pytest.raises(InvalidWhileParkedError, match="open the shutter"):
        await dome.slew_to_azimuth(target)
    with pytest.raises(InvalidWhileParkedError):
        await dome.set_slaved(True)
    assert (await dome.state()).at_park and not (await dome.state()).slewing
    # opening the shutter is how a parked INDI dome is opened: it unparks too
    await shutter_to(dome, ShutterState.OPEN)
    await dome.wait_until(lambda s: not s.at_park and not s.slewing, timeout_s=30,
                          poll_s=0.1, what="unparking")
    await dome.slew_to_azimuth(target)
    final = await dome.wait_until(lambda s: not s.slewing, timeout_s=30, poll_s=0.1)
    assert final.azimuth_deg == pytest.approx(target)


def test_a_parked_dome_turns_only_once_opened_under_uvloop(indi_server):
    async def main() -> None:
        dome = dome_of(indi_server)
        try:
            await exercise_park(dome)
        finally:
            await dome.disconnect()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main())
