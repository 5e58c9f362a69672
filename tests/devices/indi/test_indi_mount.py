"""The INDI mount driver against Debian's telescope simulator (a real indiserver).

The simulator slews at 6°/s and keeps its state for the module, so each test reads
where the mount is and moves a few degrees from there; a test that parks sets the park
position where the mount already is, so parking is immediate.
"""

from __future__ import annotations

import asyncio
import math

import pytest
import uvloop

from nocturna.core.errors import (
    InvalidValueError,
    InvalidWhileParkedError,
    NotImplementedByDeviceError,
)
from nocturna.devices.indi.mount import IndiMount
from nocturna.devices.sim.equatorial import j2000_to_apparent
from nocturna.devices.types import EquatorialSystem, GuideDirection, TelescopeAxis

ARCSEC = 1.0 / 3600.0


def mount_of(server) -> IndiMount:
    return IndiMount("mount0", address=server.address, device=server.device("telescope"))


def separation_deg(ra1_h: float, dec1: float, ra2_h: float, dec2: float) -> float:
    a1, d1, a2, d2 = map(math.radians, (ra1_h * 15, dec1, ra2_h * 15, dec2))
    cos = math.sin(d1) * math.sin(d2) + math.cos(d1) * math.cos(d2) * math.cos(a1 - a2)
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


async def ready(mount: IndiMount):
    """Connected, unparked, not moving, tracking: the state a test starts from."""
    await mount.connect()
    await mount.unpark()
    if (await mount.state()).slewing:
        await mount.abort_slew()
        await mount.wait_until(lambda s: not s.slewing, timeout_s=30, poll_s=0.1)
    await mount.set_tracking(True)
    return await mount.state()


def nearby(status, degrees: float = 3.0) -> tuple[float, float]:
    """A J2000 target ``degrees`` in declination from where the mount points, towards
    the equator."""
    dec = status.dec_deg - degrees if status.dec_deg > 0 else status.dec_deg + degrees
    return status.ra_hours, dec


async def test_slews_to_j2000_coordinates_and_sends_them_of_date(indi_server):
    mount = mount_of(indi_server)
    start = await ready(mount)
    try:
        info = await mount.info()
        assert info.equatorial_system == EquatorialSystem.J2000 and info.can_slew_async
        ra, dec = nearby(start)
        await mount.slew_to_coordinates(ra, dec)
        assert (await mount.state()).slewing
        final = await mount.wait_for_slew(timeout_s=60)
        assert separation_deg(final.ra_hours, final.dec_deg, ra, dec) < 5 * ARCSEC
        assert final.tracking and (final.target_ra_hours, final.target_dec_deg) == (ra, dec)
        # the server got (and reports) the coordinates of date, not the J2000 ones
        sent = mount.vector("EQUATORIAL_EOD_COORD")
        ra_app, dec_app = j2000_to_apparent(ra * 15, dec, mount.clock.timestamp())
        assert separation_deg(sent["RA"], sent["DEC"], ra_app / 15, dec_app) < 5 * ARCSEC
        assert separation_deg(sent["RA"], sent["DEC"], ra, dec) > 0.1  # precession since 2000
        with pytest.raises(InvalidValueError, match="declination 95"):
            await mount.slew_to_coordinates(ra, 95.0)
    finally:
        await mount.disconnect()


async def test_an_abort_stops_a_slew_short_of_its_target(indi_server):
    mount = mount_of(indi_server)
    start = await ready(mount)
    try:
        ra, dec = nearby(start, 40.0)
        await mount.slew_to_coordinates(ra, dec)
        await mount.wait_until(lambda s: abs(s.dec_deg - start.dec_deg) > 2.0, timeout_s=30,
                               poll_s=0.05, what="the slew under way")
        await mount.abort_slew()
        stopped = await mount.wait_until(lambda s: not s.slewing, timeout_s=10, poll_s=0.05)
        assert abs(stopped.dec_deg - dec) > 5.0
        await asyncio.sleep(0.6)  # two more polls of the driver: it stays stopped
        assert abs((await mount.state()).dec_deg - stopped.dec_deg) < 0.01
    finally:
        await mount.disconnect()


async def test_tracking_turns_on_and_off(indi_server):
    mount = mount_of(indi_server)
    await ready(mount)
    try:
        for on in (False, True, False):
            await mount.set_tracking(on)
            assert (await mount.state()).tracking is on
            assert mount.vector("TELESCOPE_TRACK_STATE")["TRACK_ON"] is on
    finally:
        await mount.disconnect()


async def test_a_sync_changes_the_reported_coordinates_without_a_slew(indi_server):
    mount = mount_of(indi_server)
    start = await ready(mount)
    try:
        ra, dec = nearby(start, 0.5)
        await mount.sync_to_coordinates(ra, dec)
        synced = await mount.state()
        assert not synced.slewing
        assert separation_deg(synced.ra_hours, synced.dec_deg, ra, dec) < 60 * ARCSEC
        # a later goto from another client still slews: ON_COORD_SET is back on TRACK
        assert mount.vector("ON_COORD_SET").on() == ["TRACK"]
    finally:
        await mount.disconnect()


async def pulse(mount: IndiMount, direction: GuideDirection, duration_ms: int):
    await mount.pulse_guide(direction, duration_ms)
    assert (await mount.state()).is_pulse_guiding
    return await mount.wait_until(lambda s: not s.is_pulse_guiding, timeout_s=10,
                                  poll_s=0.05, what="the pulse")


async def test_guide_pulses_north_and_south_move_the_declination_axis(indi_server):
    mount = mount_of(indi_server)
    start = await ready(mount)
    try:
        assert (await mount.info()).can_pulse_guide
        if start.dec_deg > 80:  # keep away from the pole
            await mount.slew_to_coordinates(*nearby(start, 10.0))
            await mount.wait_for_slew(timeout_s=60)
        before = await mount.state()
        north = await pulse(mount, GuideDirection.NORTH, 1000)
        # 1 s at the simulator's guide rate (half sidereal) is 7.5″ along the Dec axis
        # (which way on the sky depends on the pier side in the simulator)
        moved = (north.dec_deg - before.dec_deg) / ARCSEC
        assert abs(moved) == pytest.approx(7.5, abs=2.0), moved
        south = await pulse(mount, GuideDirection.SOUTH, 1000)
        assert (south.dec_deg - before.dec_deg) / ARCSEC == pytest.approx(0.0, abs=1.0)
        with pytest.raises(InvalidValueError, match="pulse duration"):
            await mount.pulse_guide(GuideDirection.SOUTH, 10_000_000)
    finally:
        await mount.disconnect()


async def exercise_park(mount: IndiMount) -> None:
    start = await ready(mount)
    await mount.set_park()  # park where it points: parking is then immediate
    await mount.park()
    parked = await mount.state()
    assert parked.at_park and not parked.slewing
    said = len(mount.connection.messages)
    with pytest.raises(InvalidWhileParkedError, match="is parked: cannot slew"):
        await mount.slew_to_coordinates(*nearby(start))
    with pytest.raises(InvalidWhileParkedError, match="cannot start tracking"):
        await mount.set_tracking(True)
    with pytest.raises(InvalidWhileParkedError, match="cannot pulse guide"):
        await mount.pulse_guide(GuideDirection.NORTH, 100)
    await asyncio.sleep(0.6)  # the refusals sent nothing: the driver never heard of them
    still = await mount.state()
    assert still.at_park and not still.slewing and still.dec_deg == pytest.approx(
        parked.dec_deg, abs=ARCSEC)
    assert not [m.text for m in list(mount.connection.messages)[said:]
                if "Slewing" in m.text or "Unpark" in m.text]
    await mount.unpark()
    assert not (await mount.state()).at_park
    ra, dec = nearby(await mount.state(), 1.0)
    await mount.slew_to_coordinates(ra, dec)
    final = await mount.wait_for_slew(timeout_s=60)
    assert separation_deg(final.ra_hours, final.dec_deg, ra, dec) < 5 * ARCSEC


def test_a_parked_mount_refuses_to_slew_until_unparked_under_uvloop(indi_server):
    async def main() -> None:
        mount = mount_of(indi_server)
        try:
            await exercise_park(mount)
        finally:
            if mount.connected:
                await mount.unpark()
            await mount.disconnect()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main())


async def test_info_site_and_what_the_simulator_lacks(indi_server):
    mount = mount_of(indi_server)
    await ready(mount)
    try:
        await mount.set_site(45.5, -73.5, 120.0)
        info = await mount.info()
        assert (info.site_latitude_deg, info.site_longitude_deg, info.site_elevation_m) == \
            pytest.approx((45.5, -73.5, 120.0))
        assert mount.vector("GEOGRAPHIC_COORD")["LONG"] == pytest.approx(286.5)
        assert (info.aperture_diameter_m, info.focal_length_m) == pytest.approx((0.12, 0.9))
        assert {r.name for r in info.tracking_rates} == {"SIDEREAL", "SOLAR", "LUNAR"}
        status = await mount.state()
        assert -90 <= status.alt_deg <= 90 and 0 <= status.az_deg < 360
        assert 0 <= status.sidereal_time_hours < 24
        with pytest.raises(NotImplementedByDeviceError, match="HORIZONTAL_COORD"):
            await mount.slew_to_alt_az(45.0, 180.0)
        with pytest.raises(NotImplementedByDeviceError):
            await mount.move_axis(TelescopeAxis.PRIMARY, 1.0)
    finally:
        await mount.disconnect()
