"""Shared simulator helpers: lazy motions, fast spherical astronomy, driver options."""

from __future__ import annotations

import pytest

from nocturna.core.config.models import DeviceConfig
from nocturna.core.errors import ConfigError
from nocturna.devices.sim import options as opt
from nocturna.devices.sim.equatorial import altaz_to_hadec, hadec_to_altaz
from nocturna.devices.sim.motion import Axis, Motion, short_delta, wrap


def test_wrap_folds_into_the_period():
    assert wrap(-10.0, 360.0) == 350.0 and wrap(720.0, 360.0) == 0.0
    assert str(wrap(-0.0, 360.0)) == "0.0"


def test_short_delta_takes_the_short_way_round():
    assert short_delta(350.0, 10.0, 360.0) == pytest.approx(20.0)
    assert short_delta(10.0, 350.0, 360.0) == pytest.approx(-20.0)


def test_motion_is_linear_and_clamped_at_both_ends():
    motion = Motion(0.0, 10.0, t0=100.0, speed=2.0)
    assert motion.position(90.0) == 0.0
    assert motion.position(102.5) == pytest.approx(5.0)
    assert motion.position(200.0) == 10.0
    assert motion.arrival == 105.0


def test_motion_counts_settling_as_moving():
    motion = Motion(0.0, 10.0, t0=0.0, speed=10.0, settle_s=2.0)
    assert motion.moving(2.9) and not motion.moving(3.0)
    assert motion.position(1.5) == 10.0


def test_circular_motion_goes_the_short_way():
    motion = Motion(350.0, 10.0, t0=0.0, speed=1.0, period=360.0)
    assert motion.travel_s == pytest.approx(20.0)
    assert motion.position(10.0) == pytest.approx(0.0, abs=1e-9)


def test_axis_poll_reports_a_finished_motion_once():
    axis = Axis(0.0, 1.0)
    axis.move_to(5.0, 0.0)
    assert axis.poll(4.0) is None
    assert axis.poll(5.0) is not None
    assert axis.poll(6.0) is None and axis.position(6.0) == 5.0


def test_axis_stop_holds_the_position_reached():
    axis = Axis(0.0, 2.0)
    axis.move_to(10.0, 0.0)
    assert axis.stop(2.0) == 4.0
    assert not axis.moving(3.0) and axis.position(100.0) == 4.0


@pytest.mark.parametrize(("ha", "dec"), [(-45.0, 30.0), (10.0, -20.0), (170.0, 80.0)])
def test_alt_az_conversion_round_trips(ha, dec):
    alt, az = hadec_to_altaz(ha, dec, 19.54)
    assert altaz_to_hadec(alt, az, 19.54) == pytest.approx((ha, dec), abs=1e-9)


def test_meridian_south_of_zenith_is_at_azimuth_180():
    alt, az = hadec_to_altaz(0.0, 0.0, 19.54)
    assert alt == pytest.approx(90 - 19.54) and az == pytest.approx(180.0)


def test_driver_options_convert_quantities_to_the_documented_unit():
    cfg = DeviceConfig(name="d", rate_deg_s="120 arcmin/s")
    assert opt.driver_options(cfg, {"rate_deg_s": opt.number("deg/s")}) == {"rate_deg_s": 2.0}


def test_driver_options_report_every_problem_with_its_key():
    cfg = DeviceConfig(name="d", rate_deg_s="fast", colour="red")
    with pytest.raises(ConfigError) as caught:
        opt.driver_options(cfg, {"rate_deg_s": opt.number("deg/s")})
    assert len(caught.value.problems) == 2
    assert "d.rate_deg_s" in caught.value.problems[0] and "d.colour" in caught.value.problems[1]
