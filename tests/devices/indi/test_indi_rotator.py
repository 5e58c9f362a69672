"""The INDI rotator driver against Debian's rotator simulator (a real indiserver)."""

from __future__ import annotations

import pytest

from nocturna.core.errors import InvalidValueError
from nocturna.devices.indi.rotator import IndiRotator


def rotator_of(server) -> IndiRotator:
    return IndiRotator("rot0", address=server.address, device=server.device("rotator"))


async def all_defined(rotator: IndiRotator) -> None:
    """Connect waits for ABS_ROTATOR_ANGLE only; the optional properties follow it."""
    names = ("ROTATOR_ABORT_MOTION", "SYNC_ROTATOR_ANGLE", "ROTATOR_REVERSE")
    await rotator.connection.wait_for(lambda: all(rotator.has(n) for n in names), 30,
                                      "the rotator's optional properties")


async def settled(rotator: IndiRotator):
    return await rotator.wait_until(lambda s: not s.is_moving, timeout_s=60, poll_s=0.1)


async def test_moves_to_an_angle_and_reaches_it(indi_server):
    rotator = rotator_of(indi_server)
    await rotator.connect()
    await all_defined(rotator)
    try:
        assert (await rotator.info()).can_reverse
        start = (await settled(rotator)).position_deg
        target = (start + 40.0) % 360.0
        await rotator.move_absolute(target)
        moving = await rotator.state()
        assert moving.is_moving and moving.target_position_deg == target
        final = await settled(rotator)
        assert final.position_deg == pytest.approx(target, abs=0.01)
        assert final.target_position_deg == final.position_deg
        assert rotator.vector("ABS_ROTATOR_ANGLE").state == "Ok"
        with pytest.raises(InvalidValueError, match=r"360.5.* is not in \[0, 360\)"):
            await rotator.move_absolute(360.5)
    finally:
        await rotator.disconnect()


async def test_moves_relative_to_where_it_is_and_halts(indi_server):
    rotator = rotator_of(indi_server)
    await rotator.connect()
    await all_defined(rotator)
    try:
        start = (await settled(rotator)).position_deg
        await rotator.move(-20.0)
        moved = (await settled(rotator)).position_deg
        assert moved == pytest.approx((start - 20.0) % 360.0, abs=0.01)
        far = (moved + 150.0) % 360.0
        await rotator.move_absolute(far)
        assert (await rotator.state()).is_moving
        await rotator.halt()
        stopped = await settled(rotator)
        assert stopped.position_deg != pytest.approx(far, abs=1.0)
        assert stopped.target_position_deg == stopped.position_deg
    finally:
        await rotator.disconnect()


async def test_sync_sends_the_angle_and_reverse_switches(indi_server):
    rotator = rotator_of(indi_server)
    await rotator.connect()
    await all_defined(rotator)
    try:
        start = await settled(rotator)
        synced = (start.position_deg + 100.0) % 360.0
        await rotator.sync(synced)
        sync = rotator.vector("SYNC_ROTATOR_ANGLE")
        assert (sync["ANGLE"], sync.state) == (pytest.approx(synced), "Ok")
        await rotator.set_reverse(not start.reverse)
        assert (await rotator.state()).reverse is (not start.reverse)
        await rotator.set_reverse(start.reverse)
        assert (await rotator.state()).reverse is start.reverse
    finally:
        await rotator.disconnect()
