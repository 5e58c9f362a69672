"""SimMount's pointing-error model: a fixed offset plus seeded scatter per goto, and
drift while tracking that guide pulses take out."""

from __future__ import annotations

import math

import pytest
from sim_device_helpers import device_kwargs, frozen_clock

from nocturna.core.config.models import DeviceConfig
from nocturna.core.errors import ConfigError, InvalidValueError
from nocturna.core.skyoffsets import sky_offset_arcsec
from nocturna.devices.sim.mount import SimMount
from nocturna.devices.types import GuideDirection
from unit_helpers import PERFECT_MOUNT


async def ready(**options):
    clock = frozen_clock()
    mount = SimMount("mount", **(PERFECT_MOUNT | options), **device_kwargs(clock))
    await mount.connect()
    await mount.unpark()
    await mount.set_tracking(True)
    return mount, clock


async def goto(mount, clock, dec_deg: float = 30.0) -> tuple[float, float]:
    """Slew to a field near the meridian; the (ra_deg, dec_deg) asked for."""
    ra_hours = (await mount.state()).sidereal_time_hours
    await mount.slew_to_coordinates(ra_hours, dec_deg)
    clock.advance(200)
    return ra_hours * 15.0, dec_deg


def true_offset(mount, target) -> tuple[float, float]:
    ra, dec = mount.true_pointing()
    return sky_offset_arcsec(*target, ra, dec)


async def test_no_error_model_points_where_it_reports():
    mount, clock = await ready()
    target = await goto(mount, clock)
    east, north = true_offset(mount, target)
    assert math.hypot(east, north) < 0.5
    clock.advance(3600)
    assert math.hypot(*true_offset(mount, target)) < 0.5


async def test_fixed_offset_lands_off_target_but_reports_the_target():
    mount, clock = await ready(pointing_error_ra_arcsec=1080, pointing_error_dec_arcsec=1440)
    target = await goto(mount, clock, dec_deg=50.0)
    east, north = true_offset(mount, target)
    # The error is applied in the frame of date: precession since J2000 turns it by ~0.3°.
    assert east == pytest.approx(1080, abs=10)
    assert north == pytest.approx(1440, abs=10)
    status = await mount.state()
    reported = sky_offset_arcsec(*target, status.ra_hours * 15.0, status.dec_deg)
    assert math.hypot(*reported) < 0.5


async def test_sync_then_reslew_removes_the_fixed_offset():
    mount, clock = await ready(pointing_error_ra_arcsec=-900, pointing_error_dec_arcsec=600)
    target = await goto(mount, clock)
    ra, dec = mount.true_pointing()
    await mount.sync_to_coordinates(ra / 15.0, dec)  # what a plate solve would say
    await mount.slew_to_coordinates(target[0] / 15.0, target[1])
    clock.advance(200)
    assert math.hypot(*true_offset(mount, target)) < 3.0


async def test_scatter_is_seeded_and_redrawn_per_goto():
    errors = []
    for _ in range(2):
        mount, clock = await ready(pointing_scatter_arcsec=60, pointing_seed=7)
        first = true_offset(mount, await goto(mount, clock))
        second = true_offset(mount, await goto(mount, clock, dec_deg=20.0))
        errors.append((first, second))
    assert errors[0][0] == pytest.approx(errors[1][0], abs=0.1)  # same seed, same errors
    assert errors[0][0] != pytest.approx(errors[0][1], abs=1.0)  # a new draw per goto
    assert 1.0 < math.hypot(*errors[0][0]) < 400


async def test_drift_grows_while_tracking_and_pulses_take_it_out():
    mount, clock = await ready(drift_ra_arcsec_per_min=2.0, drift_dec_arcsec_per_min=-1.0)
    target = await goto(mount, clock)
    east0, north0 = true_offset(mount, target)  # drift since the slew settled
    clock.advance(1800)
    east, north = true_offset(mount, target)
    assert east - east0 == pytest.approx(60.0, abs=1.0)
    assert north - north0 == pytest.approx(-30.0, abs=1.0)
    # Guide back: west for the RA drift (rate in RA degrees/s), north for Dec.
    rate = mount._guide_rates[0]
    cos_dec = math.cos(math.radians(target[1]))
    await mount.pulse_guide(GuideDirection.WEST, round(east / 3600 / cos_dec / rate * 1000))
    await mount.pulse_guide(GuideDirection.NORTH, round(-north / 3600 / rate * 1000))
    clock.advance(60)
    east, north = true_offset(mount, target)
    assert abs(east - 2.0) < 1.5 and abs(north + 1.0) < 1.5  # one more minute of drift


async def test_drift_stops_when_tracking_stops():
    mount, clock = await ready(drift_dec_arcsec_per_min=1.0)
    await goto(mount, clock)
    before = mount.pointing_error_at(clock.timestamp())[1]
    clock.advance(600)
    assert mount.pointing_error_at(clock.timestamp())[1] - before == pytest.approx(10.0)
    await mount.set_tracking(False)
    clock.advance(600)
    assert mount.pointing_error_at(clock.timestamp())[1] - before == pytest.approx(10.0)


def test_error_model_options_from_config_and_bad_values():
    cfg = DeviceConfig(name="m", driver="sim", pointing_error_ra_arcsec="0.5 deg",
                       pointing_error_dec_arcsec=0, pointing_scatter_arcsec=20,
                       pointing_seed=3)
    mount = SimMount.from_config(cfg, clock=frozen_clock())
    assert mount._error_fixed == (pytest.approx(1800.0), 0.0)
    assert mount._scatter == 20.0
    with pytest.raises(ConfigError, match="pointing_scatter_arcsec"):
        SimMount.from_config(DeviceConfig(name="m", driver="sim", pointing_scatter_arcsec=-1),
                             clock=frozen_clock())
    with pytest.raises(InvalidValueError, match="pointing error"):
        SimMount("m", drift_ra_arcsec_per_min=float("nan"), clock=frozen_clock())


async def test_short_corrective_gotos_scatter_less():
    mount, clock = await ready(pointing_scatter_arcsec=60, pointing_seed=5)
    target = await goto(mount, clock)
    far = true_offset(mount, target)
    # A 0.05° touch-up: 1/200 of the full scatter (0.3″ sigma).
    await mount.slew_to_coordinates(target[0] / 15.0, target[1] + 0.05)
    clock.advance(60)
    near = true_offset(mount, (target[0], target[1] + 0.05))
    assert math.hypot(*far) > 5.0
    assert math.hypot(*near) < 2.0
