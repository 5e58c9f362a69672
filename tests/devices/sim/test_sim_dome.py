"""SimDome: azimuth and shutter on the clock, park/home, slaving, roll-off roof, errors."""

from __future__ import annotations

import pytest
from sim_device_helpers import device_kwargs, frozen_clock, run_advancing

from nocturna.core.config.models import DeviceConfig
from nocturna.core.errors import (
    InvalidValueError,
    InvalidWhileSlavedError,
    NotConnectedError,
    NotImplementedByDeviceError,
)
from nocturna.devices.sim.dome import SimDome
from nocturna.devices.sim.mount import SimMount
from nocturna.devices.types import ShutterState


async def make_dome(clock=None, **options):
    clock = clock or frozen_clock()
    dome = SimDome("dome", **options, **device_kwargs(clock))
    await dome.connect()
    return dome, clock


async def slaved_pair(mount_alt_az=(40.0, 90.0)):
    """A mount pointing at ``mount_alt_az`` and a slaved dome parked at 180°."""
    clock = frozen_clock()
    mount = SimMount("mount", **device_kwargs(clock))
    await mount.connect()
    await mount.unpark()
    await mount.slew_to_alt_az(*mount_alt_az)
    clock.advance(200)
    dome, _ = await make_dome(clock, mount=mount)
    return mount, dome, clock


# ------------------------------------------------------------------ azimuth
async def test_starts_parked_with_the_shutter_closed():
    dome, _ = await make_dome()
    state = await dome.state()
    assert state.at_park and state.azimuth_deg == 180.0
    assert state.shutter_status == ShutterState.CLOSED and not state.slewing


async def test_slew_goes_the_short_way_at_the_configured_speed():
    dome, clock = await make_dome(azimuth_deg=350.0)
    await dome.slew_to_azimuth(10.0)  # 20° at 4°/s: 5 s through north
    clock.advance(2.5)
    middle = await dome.state()
    assert middle.slewing and middle.azimuth_deg == pytest.approx(0.0, abs=1e-9)
    clock.advance(2.49)
    assert (await dome.state()).slewing
    clock.advance(0.02)
    done = await dome.state()
    assert not done.slewing and done.azimuth_deg == pytest.approx(10.0)


async def test_park_slews_to_the_park_azimuth_and_sets_at_park():
    dome, clock = await make_dome(azimuth_deg=100.0, park_azimuth_deg=120.0)
    assert not (await dome.state()).at_park
    await dome.park()
    assert not (await dome.state()).at_park
    clock.advance(5.0)
    state = await dome.state()
    assert state.at_park and state.azimuth_deg == pytest.approx(120.0)


async def test_find_home_sets_at_home_and_a_slew_clears_it():
    dome, clock = await make_dome()
    await dome.find_home()
    clock.advance(60)
    assert (await dome.state()).at_home
    await dome.slew_to_azimuth(30.0)
    state = await dome.state()
    assert not state.at_home and not state.at_park


async def test_set_park_uses_the_current_azimuth():
    dome, clock = await make_dome()
    await dome.slew_to_azimuth(90.0)
    clock.advance(60)
    await dome.set_park()
    await dome.slew_to_azimuth(200.0)
    clock.advance(60)
    await dome.park()
    clock.advance(60)
    assert (await dome.state()).azimuth_deg == pytest.approx(90.0)


async def test_sync_to_azimuth_declares_the_position():
    dome, _ = await make_dome()
    await dome.sync_to_azimuth(42.0)
    assert (await dome.state()).azimuth_deg == 42.0


async def test_abort_stops_the_azimuth_where_it_is():
    dome, clock = await make_dome(azimuth_deg=0.0)
    await dome.slew_to_azimuth(100.0)
    clock.advance(10.0)
    await dome.abort_slew()
    clock.advance(60)
    state = await dome.state()
    assert not state.slewing and state.azimuth_deg == pytest.approx(40.0)


@pytest.mark.parametrize("azimuth", [360.0, -1.0, 720.0])
async def test_azimuth_out_of_range_is_refused(azimuth):
    dome, _ = await make_dome()
    with pytest.raises(InvalidValueError):
        await dome.slew_to_azimuth(azimuth)
    with pytest.raises(InvalidValueError):
        await dome.sync_to_azimuth(azimuth)


# ------------------------------------------------------------------ shutter
async def test_shutter_opens_over_its_travel_time():
    dome, clock = await make_dome(shutter_time_s=30.0)
    await dome.open_shutter()
    clock.advance(15)
    opening = await dome.state()
    assert opening.shutter_status == ShutterState.OPENING and opening.slewing
    clock.advance(15)
    opened = await dome.state()
    assert opened.shutter_status == ShutterState.OPEN and not opened.slewing


async def test_shutter_closes_over_its_travel_time():
    dome, clock = await make_dome(shutter_open=True)
    await dome.close_shutter()
    clock.advance(29.9)
    assert (await dome.state()).shutter_status == ShutterState.CLOSING
    clock.advance(0.1)
    assert (await dome.state()).shutter_status == ShutterState.CLOSED


async def test_closing_part_way_through_opening_takes_the_share_travelled():
    dome, clock = await make_dome()
    await dome.open_shutter()
    clock.advance(10)
    await dome.close_shutter()
    clock.advance(9.9)
    assert (await dome.state()).shutter_status == ShutterState.CLOSING
    clock.advance(0.1)
    assert (await dome.state()).shutter_status == ShutterState.CLOSED


async def test_abort_leaves_a_part_open_shutter_in_error():
    dome, clock = await make_dome()
    await dome.open_shutter()
    clock.advance(10)
    await dome.abort_slew()
    clock.advance(60)
    assert (await dome.state()).shutter_status == ShutterState.ERROR


async def test_open_and_wait_returns_once_open():
    dome, clock = await make_dome()
    state = await run_advancing(clock, dome.open_and_wait(), step_s=1.0)
    assert state.shutter_status == ShutterState.OPEN


async def test_shutter_events_are_published():
    dome, clock = await make_dome()
    subscription = dome.events.subscribe("dome.shutter.*")
    await dome.open_shutter()
    clock.advance(31)
    await dome.state()
    events = subscription.drain()
    assert [e.topic for e in events] == ["dome.shutter.started", "dome.shutter.finished"]
    assert events[1].data["shutter"] == "open"


# ------------------------------------------------------------------ slaving
async def test_slaved_dome_follows_the_mount_azimuth():
    mount, dome, clock = await slaved_pair((40.0, 90.0))
    await dome.set_slaved(True)
    clock.advance(120)
    state = await dome.state()
    assert state.slaved and not state.slewing
    assert state.azimuth_deg == pytest.approx((await mount.state()).az_deg, abs=0.01)


async def test_slaved_dome_turns_at_its_finite_speed():
    _, dome, clock = await slaved_pair((40.0, 90.0))
    await dome.set_slaved(True)  # from 180° towards 90°
    clock.advance(5)
    state = await dome.state()
    assert state.slewing
    assert state.azimuth_deg == pytest.approx(160.0, abs=0.01)


async def test_slaved_dome_keeps_following_a_tracking_mount():
    mount, dome, clock = await slaved_pair((40.0, 90.0))
    await mount.set_tracking(True)
    await dome.set_slaved(True)
    clock.advance(120)
    await dome.state()
    clock.advance(1800)
    state = await dome.state()
    mount_az = (await mount.state()).az_deg
    assert abs(mount_az - 90.0) > 1.0  # the mount has moved on
    assert state.azimuth_deg == pytest.approx(mount_az, abs=0.01)


@pytest.mark.parametrize("call", [
    lambda d: d.slew_to_azimuth(10.0),
    lambda d: d.sync_to_azimuth(10.0),
    lambda d: d.park(),
    lambda d: d.find_home(),
], ids=["slew", "sync", "park", "find_home"])
async def test_manual_azimuth_commands_while_slaved_are_refused(call):
    _, dome, _ = await slaved_pair()
    await dome.set_slaved(True)
    with pytest.raises(InvalidWhileSlavedError):
        await call(dome)


async def test_abort_ends_slaving():
    _, dome, _ = await slaved_pair()
    await dome.set_slaved(True)
    await dome.abort_slew()
    assert not (await dome.state()).slaved


async def test_slaving_without_a_mount_is_not_implemented():
    dome, _ = await make_dome()
    assert not (await dome.info()).can_slave
    with pytest.raises(NotImplementedByDeviceError):
        await dome.set_slaved(True)


# --------------------------------------------------------------------- roof
async def test_roof_has_a_shutter_and_no_azimuth():
    roof, clock = await make_dome(is_roof=True, shutter_time_s=60.0)
    info = await roof.info()
    assert info.is_roof and not info.can_set_azimuth and info.can_set_shutter
    await roof.open_shutter()
    clock.advance(60)
    state = await roof.state()
    assert state.azimuth_deg is None and state.shutter_status == ShutterState.OPEN


@pytest.mark.parametrize("call", [
    lambda d: d.slew_to_azimuth(10.0),
    lambda d: d.sync_to_azimuth(10.0),
    lambda d: d.park(),
    lambda d: d.find_home(),
    lambda d: d.set_park(),
    lambda d: d.set_slaved(True),
    lambda d: d.slew_to_altitude(30.0),
], ids=["slew", "sync", "park", "find_home", "set_park", "slave", "altitude"])
async def test_roof_azimuth_members_are_not_implemented(call):
    roof, _ = await make_dome(is_roof=True)
    with pytest.raises(NotImplementedByDeviceError):
        await call(roof)


# ------------------------------------------------------------ connection
@pytest.mark.parametrize("call", [
    lambda d: d.state(),
    lambda d: d.open_shutter(),
    lambda d: d.slew_to_azimuth(10.0),
    lambda d: d.park(),
    lambda d: d.abort_slew(),
], ids=["state", "open", "slew", "park", "abort"])
async def test_members_while_disconnected_raise_not_connected(call):
    dome = SimDome("dome", **device_kwargs(frozen_clock()))
    with pytest.raises(NotConnectedError):
        await call(dome)


async def test_from_config_builds_a_roof_with_its_shutter_time():
    clock = frozen_clock()
    roof = SimDome.from_config(DeviceConfig(name="roof", is_roof=True, shutter_time_s="2 min"),
                               clock=clock)
    await roof.connect()
    await roof.open_shutter()
    clock.advance(119)
    assert (await roof.state()).shutter_status == ShutterState.OPENING
    clock.advance(1)
    assert (await roof.state()).shutter_status == ShutterState.OPEN
