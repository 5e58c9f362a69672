"""The simulated cryostat: cold head, detector, heater and PI loop on the clock."""

from __future__ import annotations

import pytest

from nocturna.azcam.tempcon_sim import CryostatModel, SimTempController
from nocturna.core.clock import SimClock, use_clock
from nocturna.core.errors import InvalidValueError

NIGHT = "2026-12-15T10:00Z"
SETTLE_S = 45 * 60  # from ambient to within ±0.5 K of -100 °C (the defaults)


@pytest.fixture
def clock():
    clock = SimClock(NIGHT, speed=0)
    with use_clock(clock):
        yield clock


def test_it_starts_at_ambient_with_the_heater_off(clock):
    reading = SimTempController().reading()
    assert reading.detector_c == pytest.approx(20.0)
    assert reading.cold_head_c == pytest.approx(20.0)
    assert reading.heater_pct == 0.0
    assert reading.set_point_c == -100.0


def test_from_ambient_the_detector_settles_at_the_set_point_and_stays(clock):
    controller = SimTempController()
    clock.advance(SETTLE_S)
    for _ in range(120):  # the next two hours, minute by minute
        reading = controller.reading()
        assert reading.detector_c == pytest.approx(-100.0, abs=0.5)
        assert reading.cold_head_c < reading.detector_c - 10
        assert 0.0 < reading.heater_pct < 100.0
        clock.advance(60)


def test_the_detector_cools_monotonically_before_the_heater_starts(clock):
    controller = SimTempController()
    previous = controller.reading().detector_c
    for _ in range(10):
        clock.advance(60)
        reading = controller.reading()
        assert reading.detector_c < previous
        assert reading.cold_head_c < reading.detector_c
        previous = reading.detector_c


def test_a_set_point_out_of_the_coolers_reach_leaves_the_heater_off(clock):
    model = CryostatModel()
    controller = SimTempController(model, set_point_c=-180.0)
    clock.advance(4 * 3600)
    reading = controller.reading()
    assert reading.heater_pct == 0.0
    assert reading.detector_c > -180.0 + 5
    # With no heat, the detector sits between the cold head and ambient, near the former.
    expected = (model.coupling_w_per_k * model.base_c + model.parasitic_w_per_k
                * model.ambient_c) / (model.coupling_w_per_k + model.parasitic_w_per_k)
    assert reading.detector_c == pytest.approx(expected, abs=0.05)
    assert reading.cold_head_c == pytest.approx(model.base_c, abs=0.01)


def test_changing_the_set_point_moves_the_detector(clock):
    controller = SimTempController()
    clock.advance(SETTLE_S)
    heater_before = controller.reading().heater_pct
    controller.set_set_point(-90.0)
    assert controller.set_point_c == -90.0
    clock.advance(20 * 60)
    reading = controller.reading()
    assert reading.detector_c == pytest.approx(-90.0, abs=0.5)
    assert reading.heater_pct > heater_before  # warmer takes more heat
    controller.set_set_point(-110.0)
    clock.advance(20 * 60)
    assert controller.reading().detector_c == pytest.approx(-110.0, abs=0.5)


def test_the_heater_saturates_without_winding_up(clock):
    """A set point the heater cannot hold: full power; back in reach, it settles quickly."""
    controller = SimTempController(CryostatModel(heater_power_w=5.0), set_point_c=-50.0)
    clock.advance(3 * 3600)
    reading = controller.reading()
    assert reading.heater_pct == pytest.approx(100.0)
    assert reading.detector_c < -50.0 - 10
    controller.set_set_point(-120.0)  # needs about 4.5 W of the 5
    clock.advance(15 * 60)
    assert controller.reading().detector_c == pytest.approx(-120.0, abs=0.5)


def test_readings_depend_only_on_the_times_asked(clock):
    """Reading often or rarely gives the same values at the same instants."""
    start = clock.now()
    often = SimTempController()
    rarely = SimTempController()
    values = []
    for second in range(1, 1801):
        clock.advance(1.0 if second % 7 else 0.5)
        if second % 7 == 0:
            clock.advance(0.5)
        often.reading()
        if second % 600 == 0:
            values.append((often.reading(), rarely.reading()))
    assert (clock.now() - start).total_seconds() == pytest.approx(1800.0)
    for a, b in values:
        assert a == b


def test_two_controllers_on_the_same_time_sequence_agree(clock):
    first, second = SimTempController(), SimTempController()
    for step in (13.3, 200.0, 0.25, 1234.5, 60.0):
        clock.advance(step)
        assert first.reading() == second.reading()


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -250.0, 60.0, "cold", True])
def test_bad_set_points_are_refused(clock, value):
    controller = SimTempController()
    with pytest.raises(InvalidValueError, match="set point"):
        controller.set_set_point(value)
    assert controller.set_point_c == -100.0


def test_bad_model_parameters_are_refused():
    with pytest.raises(InvalidValueError, match="cold_head_tau_s"):
        CryostatModel(cold_head_tau_s=0)
    with pytest.raises(InvalidValueError, match="base_c"):
        CryostatModel(base_c=30.0)
    with pytest.raises(InvalidValueError, match="kp_w_per_k"):
        CryostatModel(kp_w_per_k=-1.0)
