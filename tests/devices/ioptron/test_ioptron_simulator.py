"""IoptronSimulator: the v3 replies byte for byte, on top of a SimMount that really moves."""

from __future__ import annotations

import asyncio
import math

import pytest

from nocturna.core.clock import SimClock
from nocturna.core.events import EventBus
from nocturna.devices.ioptron import protocol as iop
from nocturna.devices.ioptron.simulator import IoptronSimulator
from nocturna.devices.sim.equatorial import SIDEREAL_DEG_PER_S, j2000_to_apparent
from nocturna.devices.sim.mount import SimMount
from nocturna.devices.types import DriveRate, PierSide
from unit_helpers import PERFECT_MOUNT

NIGHT = "2026-12-15T08:00:00Z"  # 22:00 in Hawaii, SimMount's default site


@pytest.fixture
async def sim():
    clock = SimClock(NIGHT, speed=0)
    mount = SimMount("m", clock=clock, events=EventBus(), slew_rate_deg_s=5.0,
                     slew_settle_time_s=0.0, **PERFECT_MOUNT)
    simulator = IoptronSimulator(mount, clock=clock)
    await simulator.start()
    yield simulator
    await simulator.stop()


async def ask(sim: IoptronSimulator, command: bytes) -> bytes:
    assert command.startswith(b":") and command.endswith(b"#")
    return await sim.answer(command[1:-1].decode())


async def advance(sim: IoptronSimulator, seconds: float) -> None:
    """Move the frozen clock on, letting background motions (park, home) see it."""
    for _ in range(int(seconds)):
        sim.clock.advance(1.0)
        for _ in range(5):
            await asyncio.sleep(0)


async def goto_of_date(sim, ra_hours: float, dec_deg: float) -> None:
    ra, dec = j2000_to_apparent(ra_hours * 15, dec_deg, sim.clock.timestamp())
    assert await ask(sim, iop.set_ra(ra / 15)) == b"1"
    assert await ask(sim, iop.set_dec(dec)) == b"1"


async def test_identity_replies_have_inds_lengths(sim):
    assert await ask(sim, b":MountInfo#") == b"0040"
    fw = iop.parse_firmware(await ask(sim, b":FW1#"), await ask(sim, b":FW2#"))
    assert len(fw.mainboard) == len(fw.dec_motor) == 6
    assert await ask(sim, b":AG#") == b"5050#"  # SimMount's default: 0.5 x sidereal
    assert await ask(sim, b":GMT#") == b"103#"
    assert len(await ask(sim, b":GUT#")) == 19
    assert await ask(sim, b":GPE#") == b"0"


async def test_status_and_position_follow_the_simmount(sim):
    status = iop.parse_status(await ask(sim, b":GLS#"))
    assert status.system == iop.SystemState.PARKED  # SimMount starts parked
    assert status.latitude_deg == pytest.approx(19.54, abs=1e-5)
    assert status.longitude_deg == pytest.approx(-155.58, abs=1e-5)
    assert status.northern and status.slew_speed == 9 and status.gps == iop.Gps.OFF
    state = await sim.mount.state()
    position = iop.parse_position(await ask(sim, b":GEP#"))
    ra, dec = j2000_to_apparent(state.ra_hours * 15, state.dec_deg, sim.clock.timestamp())
    assert position.ra_hours == pytest.approx(ra / 15, abs=1e-5)
    assert position.dec_deg == pytest.approx(dec, abs=1e-5)


async def test_goto_moves_the_simmount_and_the_status_says_so(sim):
    assert await ask(sim, b":MS1#") == b"0"  # no target, parked
    assert await ask(sim, b":MP0#") == b"1"
    lst = (await sim.mount.state()).sidereal_time_hours
    target = ((lst + 1.0) % 24, 30.0)
    await goto_of_date(sim, *target)
    assert await ask(sim, b":MS1#") == b"1"
    assert iop.parse_status(await ask(sim, b":GLS#")).system == iop.SystemState.SLEWING
    await advance(sim, 60)
    status = iop.parse_status(await ask(sim, b":GLS#"))
    assert status.system == iop.SystemState.TRACKING  # the goto ended tracking
    state = await sim.mount.state()
    assert state.ra_hours == pytest.approx(target[0], abs=1e-4)
    assert state.dec_deg == pytest.approx(target[1], abs=1e-4)
    assert iop.parse_position(await ask(sim, b":GEP#")).pier_side == state.side_of_pier


async def test_goto_below_the_horizon_is_refused(sim):
    await ask(sim, b":MP0#")
    lst = (await sim.mount.state()).sidereal_time_hours
    await goto_of_date(sim, (lst + 12) % 24, -60.0)
    assert await ask(sim, b":MS1#") == b"0"
    assert not (await sim.mount.state()).slewing


async def test_park_home_abort(sim):
    await ask(sim, b":MP0#")
    assert await ask(sim, b":ST1#") == b"1"
    lst = (await sim.mount.state()).sidereal_time_hours
    await goto_of_date(sim, lst % 24, 45.0)
    await ask(sim, b":MS1#")
    assert await ask(sim, b":Q#") == b"1"
    assert not (await sim.mount.state()).slewing
    assert await ask(sim, b":MH#") == b"1"
    await advance(sim, 60)
    assert iop.parse_status(await ask(sim, b":GLS#")).system == iop.SystemState.HOMED
    assert await ask(sim, b":MP1#") == b"1"
    await advance(sim, 60)
    assert (await sim.mount.state()).at_park
    assert iop.parse_status(await ask(sim, b":GLS#")).system == iop.SystemState.PARKED
    assert await ask(sim, b":MSH#") == b"0"  # no homing while parked
    assert await ask(sim, b":ST1#") == b"0"  # nor tracking


async def test_tracking_rates_and_custom_rate(sim):
    await ask(sim, b":MP0#")
    assert await ask(sim, b":RT1#") == b"1"
    assert (await sim.mount.state()).tracking_rate == DriveRate.LUNAR
    assert iop.parse_status(await ask(sim, b":GLS#")).tracking_rate == iop.TrackingRate.LUNAR
    assert await ask(sim, b":RR15000#") == b"1"
    assert await ask(sim, b":RT4#") == b"1"
    state = await sim.mount.state()
    assert state.tracking_rate == DriveRate.SIDEREAL and state.ra_rate == pytest.approx(-0.5)
    assert await ask(sim, b":RT9#") == b"0"
    assert await ask(sim, b":RR00001#") == b"0"
    assert await ask(sim, b":ST1#") == b"1"
    assert (await sim.mount.state()).tracking
    assert await ask(sim, b":ST0#") == b"1"
    assert not (await sim.mount.state()).tracking


async def test_guide_rates_pulses_and_moves(sim):
    await ask(sim, b":MP0#")
    assert await ask(sim, b":RG2540#") == b"1"
    state = await sim.mount.state()
    assert state.guide_rate_ra_deg_s == pytest.approx(0.25 * SIDEREAL_DEG_PER_S)
    assert state.guide_rate_dec_deg_s == pytest.approx(0.40 * SIDEREAL_DEG_PER_S)
    assert await ask(sim, b":AG#") == b"2540#"
    assert await ask(sim, b":RG0040#") == b"0"
    lst = (await sim.mount.state()).sidereal_time_hours
    await goto_of_date(sim, lst, 30.0)
    assert await ask(sim, b":MS1#") == b"1"
    await advance(sim, 60)
    before = (await sim.mount.state()).dec_deg
    assert await ask(sim, b":ZC02000#") == b""  # south, no reply
    assert iop.parse_status(await ask(sim, b":GLS#")).system == iop.SystemState.GUIDING
    await advance(sim, 3)
    after = (await sim.mount.state()).dec_deg
    assert before - after == pytest.approx(2.0 * 0.40 * SIDEREAL_DEG_PER_S, rel=1e-3)
    assert await ask(sim, b":SR3#") == b"1"
    assert await ask(sim, b":ms#") == b""
    await advance(sim, 2)
    moved = after - (await sim.mount.state()).dec_deg
    assert moved == pytest.approx(2.0 * 8 * SIDEREAL_DEG_PER_S, rel=1e-3)
    assert await ask(sim, b":qD#") == b"1"
    assert not (await sim.mount.state()).slewing
    ra = (await sim.mount.state()).ra_hours
    assert await ask(sim, b":me#") == b""  # INDI's "west": RA decreases
    await advance(sim, 2)
    assert await ask(sim, b":qR#") == b"1"
    assert (await sim.mount.state()).ra_hours < ra


async def test_sync_time_site_and_remembered_settings(sim):
    await ask(sim, b":MP0#")
    state = await sim.mount.state()
    await goto_of_date(sim, (state.ra_hours + 0.01) % 24, state.dec_deg)
    assert await ask(sim, b":CM#") == b"1"
    synced = await sim.mount.state()
    assert synced.ra_hours == pytest.approx((state.ra_hours + 0.01) % 24, abs=1e-4)
    assert not synced.tracking  # a sync leaves tracking as it was
    assert await ask(sim, b":SUT0000000000000#") == b"1"  # J2000.0
    assert await ask(sim, b":SG-600#") == b"1"
    assert await ask(sim, b":SDS1#") == b"1"
    time = iop.parse_time(await ask(sim, b":GUT#"))
    assert time.utc == iop.J2000 and time.utc_offset_min == -600 and time.dst
    assert iop.parse_status(await ask(sim, b":GLS#")).time_source == iop.TimeSource.RS232
    assert await ask(sim, iop.set_latitude(-33.5)) == b"1"
    assert await ask(sim, iop.set_longitude(149.25)) == b"1"
    assert (sim.mount.latitude_deg, sim.mount.longitude_deg) == (-33.5, 149.25)
    assert not iop.parse_status(await ask(sim, b":GLS#")).northern
    assert await ask(sim, b":SPA000000000#") == b"1"
    assert await ask(sim, b":SPH07020000#") == b"1"
    assert sim.park_position == (0, 7020000)
    assert await ask(sim, b":SMT010#") == b"1"
    assert await ask(sim, b":GMT#") == b"010#"
    assert await ask(sim, b":SPR1#") == b"1" and await ask(sim, b":GPR#") == b"1"
    assert await ask(sim, b":SPR0#") == b"1" and await ask(sim, b":GPE#") == b"1"
    assert await ask(sim, b":SPP1#") == b"1"
    assert await ask(sim, b":SZP#") == b"1"


async def test_unknown_and_malformed_commands(sim):
    assert await ask(sim, b":XYZ#") == b""
    assert await ask(sim, b":GLSX#") == b""
    assert await ask(sim, b":SRA12#") == b"0"
    assert await ask(sim, b":Sd123456789#") == b"0"


async def test_framing_faults_and_options():
    clock = SimClock(NIGHT, speed=0)
    sim = IoptronSimulator(clock=clock, model="0120", gps="1")
    out: list[bytes] = []
    sim.attach(out.append)  # collect what goes to the driver
    await sim.start()
    worker = asyncio.create_task(sim.run())
    try:
        async def settle() -> None:
            for _ in range(20):
                await asyncio.sleep(0)

        sim.receive(b"junk:Mount")
        sim.receive(b"Info#:GLS#:mn")
        await settle()
        assert out[0] == b"0120"
        status = iop.parse_status(out[1])
        assert status.gps == iop.Gps.OK and status.time_source == iop.TimeSource.GPS
        sim.garble_next()
        sim.receive(b"#:GEP#")  # the end of ":mn#" (no reply), then a garbled reply
        await settle()
        assert len(out) == 3 and out[2].endswith(b"#") and len(out[2]) == 21
        with pytest.raises(iop.SerialProtocolError, match=r":GEP#.*\?\?\?"):
            iop.parse_position(out[2])
        sim.go_silent()
        sim.receive(b":GEP#")
        await settle()
        assert len(out) == 3
        sim.go_silent(False)
        sim.receive(b":GEP#")
        await settle()
        assert iop.parse_position(out[3]).pier_side in tuple(PierSide)
    finally:
        worker.cancel()
        await sim.stop()
    assert not sim.mount.connected  # a mount the simulator built is its own to close
    with pytest.raises(ValueError, match="4-digit"):
        IoptronSimulator(clock=clock, model="CEM40")
    assert math.isfinite(sim.mount.latitude_deg)
