"""SimMount: slews on the clock, tracking, park/home, guiding, syncs, limits, errors."""

from __future__ import annotations

import math

import astropy.units as u
import pytest
from astropy.coordinates import AltAz, EarthLocation, SkyCoord
from astropy.time import Time
from sim_device_helpers import device_kwargs, frozen_clock, run_advancing

from nocturna.core.config.models import DeviceConfig
from nocturna.core.errors import (
    ConfigError,
    InvalidOperationError,
    InvalidValueError,
    InvalidWhileParkedError,
    NotConnectedError,
    NotImplementedByDeviceError,
)
from nocturna.devices.sim.equatorial import SIDEREAL_DEG_PER_S
from nocturna.devices.sim.mount import SimMount
from nocturna.devices.types import (
    AlignmentMode,
    DriveRate,
    EquatorialSystem,
    GuideDirection,
    PierSide,
    TelescopeAxis,
)
from unit_helpers import PERFECT_MOUNT

LAT, LON, ELEV = 19.54, -155.58, 3400.0


async def make_mount(**options):
    clock = frozen_clock()
    mount = SimMount("mount", **(PERFECT_MOUNT | options), **device_kwargs(clock))
    await mount.connect()
    return mount, clock


async def ready_mount(**options):
    """Unparked, tracking."""
    mount, clock = await make_mount(**options)
    await mount.unpark()
    await mount.set_tracking(True)
    return mount, clock


async def ra_near_meridian(mount, offset_hours: float = 0.0) -> float:
    """An RA whose hour angle is about ``-offset_hours`` now."""
    lst = (await mount.state()).sidereal_time_hours
    return (lst + offset_hours) % 24.0


async def slewed(mount, clock, ra_hours: float, dec_deg: float):
    await mount.slew_to_coordinates(ra_hours, dec_deg)
    clock.advance(200)
    return await mount.state()


def ra_diff_hours(a: float, b: float) -> float:
    return (a - b + 12.0) % 24.0 - 12.0


# ------------------------------------------------------------- capabilities
async def test_info_reports_german_mount_j2000_and_site():
    mount, _ = await make_mount()
    info = await mount.info()
    assert info.alignment_mode == AlignmentMode.GERMAN_POLAR
    assert info.equatorial_system == EquatorialSystem.J2000
    assert (info.site_latitude_deg, info.site_longitude_deg, info.site_elevation_m) == (
        LAT, LON, ELEV)
    assert info.min_altitude_deg == 10.0
    assert info.axis_rates[0][0].maximum_deg_s == 4.0
    assert info.can_move_axis == [True, True, False]


async def test_starts_parked_at_the_pole_without_tracking():
    mount, _ = await make_mount()
    state = await mount.state()
    assert state.at_park and not state.tracking and not state.slewing
    assert state.alt_deg == pytest.approx(LAT, abs=1e-6)
    assert state.az_deg == pytest.approx(0.0, abs=1e-6)


# -------------------------------------------------------------------- slews
async def test_slew_in_declination_takes_delta_over_rate_plus_settle():
    mount, clock = await ready_mount()
    ra = await ra_near_meridian(mount)
    await slewed(mount, clock, ra, 0.0)
    await mount.slew_to_coordinates(ra, 20.0)  # 20° at 4°/s: 5 s, then 2 s settling
    clock.advance(2.5)
    middle = await mount.state()
    assert middle.slewing
    assert middle.dec_deg == pytest.approx(10.0, abs=0.01)
    clock.advance(3.0)
    settling = await mount.state()
    assert settling.slewing and settling.dec_deg == pytest.approx(20.0, abs=1e-6)
    clock.advance(1.49)
    assert (await mount.state()).slewing
    clock.advance(0.02)
    assert not (await mount.state()).slewing


async def test_slew_moves_both_axes_at_once_for_the_longer_time():
    mount, clock = await ready_mount()
    ra = await ra_near_meridian(mount)
    await slewed(mount, clock, ra, 0.0)
    await mount.slew_to_coordinates((ra + 2.0) % 24, 10.0)  # ΔHA 30°, ΔDec 10° → 7.5 s + 2
    clock.advance(2.5)
    state = await mount.state()
    # Dec has arrived (to within the J2000/of-date mixing), RA is a third of the way
    assert state.dec_deg == pytest.approx(10.0, abs=0.1)
    assert ra_diff_hours(state.ra_hours, ra) == pytest.approx(10.0 / 15.0, abs=0.01)
    clock.advance(6.9)
    assert (await mount.state()).slewing
    clock.advance(0.2)
    state = await mount.state()
    assert not state.slewing
    assert ra_diff_hours(state.ra_hours, (ra + 2.0) % 24) == pytest.approx(0.0, abs=1e-9)


async def test_slew_ends_on_the_target_and_sets_it():
    mount, clock = await ready_mount()
    ra = await ra_near_meridian(mount, -1.0)
    state = await slewed(mount, clock, ra, 25.0)
    assert ra_diff_hours(state.ra_hours, ra) == pytest.approx(0.0, abs=1e-9)
    assert state.dec_deg == pytest.approx(25.0, abs=1e-9)
    assert (state.target_ra_hours, state.target_dec_deg) == (ra, 25.0)


async def test_slew_to_target_uses_the_target_set():
    mount, clock = await ready_mount()
    ra = await ra_near_meridian(mount, 0.5)
    await mount.set_target(ra, -5.0)
    await mount.slew_to_target()
    clock.advance(200)
    state = await mount.state()
    assert state.dec_deg == pytest.approx(-5.0, abs=1e-9)


async def test_abort_slew_stops_where_the_mount_is():
    mount, clock = await ready_mount()
    ra = await ra_near_meridian(mount)
    await slewed(mount, clock, ra, 0.0)
    await mount.slew_to_coordinates(ra, 40.0)
    clock.advance(5.0)
    await mount.abort_slew()
    state = await mount.state()
    assert not state.slewing
    assert state.dec_deg == pytest.approx(20.0, abs=0.01)
    clock.advance(60)
    assert (await mount.state()).dec_deg == pytest.approx(20.0, abs=0.01)


async def test_slew_publishes_started_and_finished_events():
    mount, clock = await ready_mount()
    subscription = mount.events.subscribe("telescope.slew.*")
    ra = await ra_near_meridian(mount)
    await mount.slew_to_coordinates(ra, 0.0)
    clock.advance(200)
    await mount.state()
    events = subscription.drain()
    assert [e.topic for e in events] == ["telescope.slew.started", "telescope.slew.finished"]
    started, finished = events
    assert started.data["duration_s"] > 2.0
    assert (finished.data["at"] - started.data["at"]).total_seconds() == pytest.approx(
        started.data["duration_s"], abs=1e-3)


# ----------------------------------------------------------------- tracking
async def test_tracking_keeps_ra_and_dec_fixed_while_alt_az_change():
    mount, clock = await ready_mount()
    ra = await ra_near_meridian(mount, 2.0)
    before = await slewed(mount, clock, ra, 30.0)
    clock.advance(3600)
    after = await mount.state()
    assert after.ra_hours == pytest.approx(before.ra_hours, abs=1e-9)
    assert after.dec_deg == pytest.approx(before.dec_deg, abs=1e-9)
    assert abs(after.alt_deg - before.alt_deg) > 5


async def test_without_tracking_the_hour_angle_stays_and_ra_drifts():
    mount, clock = await ready_mount()
    ra = await ra_near_meridian(mount, 1.0)
    await slewed(mount, clock, ra, 30.0)
    await mount.set_tracking(False)
    before = await mount.state()
    clock.advance(3600)
    after = await mount.state()
    drift_h = ra_diff_hours(after.ra_hours, before.ra_hours)
    # J2000 RA differences differ from those of date by a few 1e-4 (precession)
    assert drift_h == pytest.approx(3600 * SIDEREAL_DEG_PER_S / 15.0, rel=2e-3)
    assert after.alt_deg == pytest.approx(before.alt_deg, abs=1e-3)
    assert after.az_deg == pytest.approx(before.az_deg, abs=1e-3)


async def test_solar_tracking_rate_lets_ra_drift_slowly():
    mount, clock = await ready_mount()
    ra = await ra_near_meridian(mount)
    before = await slewed(mount, clock, ra, 0.0)
    await mount.set_tracking_rate(DriveRate.SOLAR)
    clock.advance(1000)
    after = await mount.state()
    drift_arcsec = ra_diff_hours(after.ra_hours, before.ra_hours) * 15 * 3600
    assert drift_arcsec == pytest.approx((15.041067 - 15.0) * 1000, rel=2e-3)


async def test_dec_rate_offset_moves_the_declination():
    mount, clock = await ready_mount()
    ra = await ra_near_meridian(mount)
    before = await slewed(mount, clock, ra, 0.0)
    await mount.set_dec_rate(10.0)
    clock.advance(60)
    after = await mount.state()
    assert (after.dec_deg - before.dec_deg) * 3600 == pytest.approx(600.0, abs=0.01)


async def test_ra_rate_offset_is_in_seconds_of_ra_per_sidereal_second():
    mount, clock = await ready_mount()
    ra = await ra_near_meridian(mount)
    before = await slewed(mount, clock, ra, 0.0)
    await mount.set_ra_rate(1.0)
    clock.advance(100)
    after = await mount.state()
    seconds_of_ra = ra_diff_hours(after.ra_hours, before.ra_hours) * 3600
    assert seconds_of_ra == pytest.approx(100 / 0.9972695663, rel=2e-3)


# ---------------------------------------------------------------- alt / az
@pytest.mark.parametrize(("ha_hours", "dec_deg"), [(-3.0, 40.0), (0.5, -20.0), (4.0, 70.0)])
async def test_alt_az_agree_with_astropy(ha_hours, dec_deg):
    mount, clock = await ready_mount()
    ra = await ra_near_meridian(mount, -ha_hours)
    state = await slewed(mount, clock, ra, dec_deg)
    location = EarthLocation.from_geodetic(LON * u.deg, LAT * u.deg, ELEV * u.m)
    frame = AltAz(obstime=Time(clock.now()), location=location, pressure=0 * u.hPa)
    expected = SkyCoord(ra=state.ra_hours * 15 * u.deg, dec=state.dec_deg * u.deg,
                        frame="icrs").transform_to(frame)
    assert abs(state.alt_deg - expected.alt.deg) * 3600 < 60
    d_az = (state.az_deg - expected.az.deg + 180) % 360 - 180
    assert abs(d_az) * math.cos(math.radians(state.alt_deg)) * 3600 < 60


async def test_slew_to_alt_az_needs_tracking_off_and_arrives():
    mount, clock = await make_mount()
    await mount.unpark()
    await mount.slew_to_alt_az(45.0, 120.0)
    clock.advance(200)
    state = await mount.state()
    assert state.alt_deg == pytest.approx(45.0, abs=1e-6)
    assert state.az_deg == pytest.approx(120.0, abs=1e-6)
    await mount.set_tracking(True)
    with pytest.raises(InvalidOperationError):
        await mount.slew_to_alt_az(45.0, 100.0)


# ------------------------------------------------------------- side of pier
async def test_side_of_pier_follows_the_target_hour_angle():
    mount, clock = await ready_mount()
    east_ra = await ra_near_meridian(mount, 2.0)  # hour angle -2 h: rising, in the east
    assert await mount.destination_side_of_pier(east_ra, 20.0) == PierSide.WEST
    state = await slewed(mount, clock, east_ra, 20.0)
    assert state.side_of_pier == PierSide.WEST
    west_ra = await ra_near_meridian(mount, -2.0)
    assert await mount.destination_side_of_pier(west_ra, 20.0) == PierSide.EAST
    assert (await slewed(mount, clock, west_ra, 20.0)).side_of_pier == PierSide.EAST


async def test_side_of_pier_is_unknown_for_a_fork_mount():
    mount, clock = await ready_mount(alignment_mode=AlignmentMode.POLAR)
    ra = await ra_near_meridian(mount, 2.0)
    assert (await slewed(mount, clock, ra, 20.0)).side_of_pier == PierSide.UNKNOWN


# -------------------------------------------------------------- park / home
async def test_park_slews_to_the_park_position_stops_tracking_and_returns_parked():
    mount, clock = await ready_mount()
    ra = await ra_near_meridian(mount, 3.0)
    await slewed(mount, clock, ra, 10.0)
    start = clock.timestamp()
    await run_advancing(clock, mount.park(), step_s=0.25)
    state = await mount.state()
    assert state.at_park and not state.tracking and not state.slewing
    assert state.alt_deg == pytest.approx(LAT, abs=1e-6)
    assert state.az_deg == pytest.approx(0.0, abs=1e-6)
    assert clock.timestamp() - start > 20.0  # 80° of declination at 4°/s


async def test_set_park_makes_the_current_position_the_park_position():
    mount, clock = await make_mount()
    await mount.unpark()
    await mount.slew_to_alt_az(30.0, 200.0)
    clock.advance(200)
    await mount.set_park()
    await mount.slew_to_alt_az(60.0, 90.0)
    clock.advance(200)
    await run_advancing(clock, mount.park())
    state = await mount.state()
    assert state.alt_deg == pytest.approx(30.0, abs=1e-6)
    assert state.az_deg == pytest.approx(200.0, abs=1e-6)


async def test_unpark_clears_at_park_and_leaves_tracking_off():
    mount, _ = await make_mount()
    await mount.unpark()
    state = await mount.state()
    assert not state.at_park and not state.tracking


async def test_find_home_sets_at_home_and_a_slew_clears_it():
    mount, clock = await make_mount(home_alt_deg=45.0, home_az_deg=180.0)
    await mount.unpark()
    await run_advancing(clock, mount.find_home())
    state = await mount.state()
    assert state.at_home
    assert state.alt_deg == pytest.approx(45.0, abs=1e-6)
    await mount.slew_to_alt_az(50.0, 180.0)
    assert not (await mount.state()).at_home


@pytest.mark.parametrize("call", [
    lambda m: m.slew_to_coordinates(5.0, 20.0),
    lambda m: m.slew_to_alt_az(45.0, 90.0),
    lambda m: m.slew_to_target(),
    lambda m: m.sync_to_coordinates(5.0, 20.0),
    lambda m: m.sync_to_alt_az(45.0, 90.0),
    lambda m: m.move_axis(TelescopeAxis.PRIMARY, 1.0),
    lambda m: m.pulse_guide(GuideDirection.NORTH, 100),
    lambda m: m.set_tracking(True),
    lambda m: m.find_home(),
    lambda m: m.abort_slew(),
], ids=["slew", "slew_alt_az", "slew_to_target", "sync", "sync_alt_az", "move_axis",
        "pulse_guide", "tracking_on", "find_home", "abort_slew"])
async def test_motion_while_parked_is_refused(call):
    mount, _ = await make_mount()
    await mount.set_target(5.0, 20.0)
    with pytest.raises(InvalidWhileParkedError):
        await call(mount)


# ---------------------------------------------------------- axes, guiding
async def test_move_axis_moves_at_the_given_rate_until_stopped():
    mount, clock = await ready_mount()
    ra = await ra_near_meridian(mount)
    before = await slewed(mount, clock, ra, 0.0)
    await mount.move_axis(TelescopeAxis.SECONDARY, 2.0)
    clock.advance(5)
    moving = await mount.state()
    assert moving.slewing
    assert moving.dec_deg - before.dec_deg == pytest.approx(10.0, rel=1e-4)
    await mount.move_axis(TelescopeAxis.SECONDARY, 0.0)
    clock.advance(5)
    stopped = await mount.state()
    assert not stopped.slewing
    assert stopped.dec_deg == pytest.approx(moving.dec_deg, abs=1e-6)


async def test_move_axis_primary_turns_towards_increasing_ra():
    mount, clock = await ready_mount()
    ra = await ra_near_meridian(mount)
    before = await slewed(mount, clock, ra, 0.0)
    await mount.move_axis(TelescopeAxis.PRIMARY, 1.0)
    clock.advance(10)
    after = await mount.state()
    expected_deg = 10.0 + 10 * SIDEREAL_DEG_PER_S  # tracking is suspended while moving
    assert ra_diff_hours(after.ra_hours, before.ra_hours) * 15 == pytest.approx(
        expected_deg, rel=2e-3)


async def test_move_axis_above_the_maximum_rate_is_refused():
    mount, _ = await ready_mount()
    with pytest.raises(InvalidValueError, match="maximum"):
        await mount.move_axis(TelescopeAxis.PRIMARY, 4.5)


async def test_move_axis_tertiary_is_not_implemented():
    mount, _ = await ready_mount()
    with pytest.raises(NotImplementedByDeviceError):
        await mount.move_axis(TelescopeAxis.TERTIARY, 1.0)


async def test_pulse_guide_moves_by_guide_rate_times_duration():
    mount, clock = await ready_mount()
    ra = await ra_near_meridian(mount)
    before = await slewed(mount, clock, ra, 0.0)
    await mount.pulse_guide(GuideDirection.NORTH, 2000)
    clock.advance(1.0)
    assert (await mount.state()).is_pulse_guiding
    clock.advance(1.5)
    after = await mount.state()
    assert not after.is_pulse_guiding
    assert after.dec_deg - before.dec_deg == pytest.approx(2.0 * before.guide_rate_dec_deg_s,
                                                           rel=1e-4)


async def test_pulse_guide_west_decreases_ra():
    mount, clock = await ready_mount()
    ra = await ra_near_meridian(mount)
    before = await slewed(mount, clock, ra, 0.0)
    await mount.pulse_guide(GuideDirection.WEST, 1000)
    clock.advance(2.0)
    after = await mount.state()
    assert ra_diff_hours(after.ra_hours, before.ra_hours) * 15 == pytest.approx(
        -before.guide_rate_ra_deg_s, rel=1e-4)


async def test_negative_pulse_duration_is_refused():
    mount, _ = await ready_mount()
    with pytest.raises(InvalidValueError):
        await mount.pulse_guide(GuideDirection.NORTH, -5)


# -------------------------------------------------------------------- syncs
async def test_sync_changes_the_reported_position_not_the_true_pointing():
    mount, clock = await ready_mount()
    ra = await ra_near_meridian(mount)
    await slewed(mount, clock, ra, 10.0)
    true_before = mount.true_pointing()
    await mount.sync_to_coordinates(ra, 10.5)
    state = await mount.state()
    assert state.dec_deg == pytest.approx(10.5, abs=1e-9)
    assert mount.true_pointing() == pytest.approx(true_before, abs=1e-9)


async def test_true_pointing_equals_the_reported_pointing_without_sync():
    mount, clock = await ready_mount()
    ra = await ra_near_meridian(mount, 1.0)
    state = await slewed(mount, clock, ra, -10.0)
    ra_deg, dec_deg = mount.true_pointing()
    assert ra_deg == pytest.approx(state.ra_hours * 15, abs=1e-9)
    assert dec_deg == pytest.approx(state.dec_deg, abs=1e-9)


async def test_slew_after_a_sync_reaches_the_target_in_the_synced_frame():
    mount, clock = await ready_mount()
    ra = await ra_near_meridian(mount)
    await slewed(mount, clock, ra, 10.0)
    await mount.sync_to_coordinates(ra, 11.0)  # the mount was really 1° lower
    state = await slewed(mount, clock, ra, 30.0)
    assert state.dec_deg == pytest.approx(30.0, abs=1e-9)
    assert mount.true_pointing()[1] == pytest.approx(29.0, abs=1e-6)


async def test_sync_to_coordinates_needs_tracking():
    mount, _ = await make_mount()
    await mount.unpark()
    with pytest.raises(InvalidOperationError):
        await mount.sync_to_coordinates(5.0, 20.0)


# ---------------------------------------------------------------- refusals
@pytest.mark.parametrize(("ra", "dec"), [(24.0, 0.0), (-0.1, 0.0), (5.0, 90.5), (5.0, -91.0)])
async def test_coordinates_out_of_range_are_refused(ra, dec):
    mount, _ = await ready_mount()
    with pytest.raises(InvalidValueError):
        await mount.slew_to_coordinates(ra, dec)
    with pytest.raises(InvalidValueError):
        await mount.set_target(ra, dec)


async def test_slew_below_the_altitude_limit_is_refused_naming_the_altitude():
    mount, _ = await ready_mount()
    ra = await ra_near_meridian(mount, -6.0)  # hour angle +6 h at Dec 0: on the horizon
    with pytest.raises(InvalidValueError, match="altitude"):
        await mount.slew_to_coordinates(ra, 0.0)
    assert not (await mount.state()).slewing


async def test_slew_to_alt_az_below_the_limit_is_refused():
    mount, _ = await make_mount()
    await mount.unpark()
    with pytest.raises(InvalidValueError, match="altitude"):
        await mount.slew_to_alt_az(5.0, 90.0)


async def test_slew_to_target_without_a_target_is_refused():
    mount, _ = await ready_mount()
    with pytest.raises(InvalidOperationError):
        await mount.slew_to_target()


async def test_slew_to_coordinates_without_tracking_is_refused():
    mount, _ = await make_mount()
    await mount.unpark()
    with pytest.raises(InvalidOperationError, match="tracking"):
        await mount.slew_to_coordinates(5.0, 20.0)


@pytest.mark.parametrize("call", [
    lambda m: m.state(),
    lambda m: m.info(),
    lambda m: m.slew_to_coordinates(5.0, 20.0),
    lambda m: m.park(),
    lambda m: m.set_tracking(True),
    lambda m: m.move_axis(TelescopeAxis.PRIMARY, 1.0),
    lambda m: m.pulse_guide(GuideDirection.EAST, 100),
], ids=["state", "info", "slew", "park", "tracking", "move_axis", "pulse_guide"])
async def test_members_while_disconnected_raise_not_connected(call):
    mount = SimMount("mount", **device_kwargs(frozen_clock()))
    with pytest.raises(NotConnectedError):
        await call(mount)


# ------------------------------------------------------------------ config
async def test_from_config_reads_driver_options_with_units():
    cfg = DeviceConfig(name="m1", slew_rate_deg_s="2 deg/s", min_altitude_deg=20,
                       alignment_mode="alt_az")
    mount = SimMount.from_config(cfg, clock=frozen_clock())
    assert mount.slew_rate_deg_s == 2.0
    assert mount.min_altitude_deg == 20.0
    assert mount.alignment_mode == AlignmentMode.ALT_AZ


async def test_from_config_refuses_an_unknown_option_naming_it():
    cfg = DeviceConfig(name="m1", slew_rate="2 deg/s")
    with pytest.raises(ConfigError, match=r"m1\.slew_rate"):
        SimMount.from_config(cfg)
