"""The horizon: a default altitude raised by obstruction lines (wrap-around, edges, steps)."""

from __future__ import annotations

import numpy as np
import pytest

from nocturna.core.errors import InvalidValueError
from nocturna.scheduler import Horizon, Scheduler


def test_without_obstructions_the_horizon_is_the_default_everywhere():
    horizon = Horizon(30)
    assert np.all(horizon.min_altitude([0, 90, 180, 359.9, 720]) == 30)
    assert list(horizon.is_above([29.99, 30.0, 45], [10, 10, 10])) == [False, True, True]


def test_a_flat_obstruction_covers_its_closed_azimuth_interval():
    horizon = Horizon(30, [[[40, 30], [40, 75]]])
    assert list(horizon.min_altitude([29.999, 30, 50, 75, 75.001])) == [30, 40, 40, 40, 30]


def test_a_sloping_obstruction_is_interpolated_linearly():
    horizon = Horizon(30, [[[50, 180], [40, 200]]])
    assert horizon.min_altitude([180, 185, 190, 200]) == pytest.approx([50, 47.5, 45, 40])


def test_an_obstruction_below_the_default_does_not_lower_it():
    horizon = Horizon(30, [[[20, 100], [20, 120]]])
    assert horizon.min_altitude(110.0) == 30


def test_an_obstruction_can_wrap_through_north():
    horizon = Horizon(30, [[[40, 350], [60, 10]]])
    assert horizon.min_altitude([350, 355, 0, 360, 5, 10]) == pytest.approx(
        [40, 45, 50, 50, 55, 60])
    assert horizon.min_altitude([349.9, 10.1, 180]) == pytest.approx([30, 30, 30])


def test_an_obstruction_may_go_exactly_once_round():
    horizon = Horizon(10, [[[25, 0], [25, 360]]])
    assert np.all(horizon.min_altitude(np.linspace(0, 360, 37)) == 25)


def test_overlapping_obstructions_take_the_highest():
    horizon = Horizon(30, [[[40, 0], [40, 90]], [[60, 45], [20, 135]]])
    # the second line falls 40° over 90° of azimuth: 53.3° at 60°, 35.6° at 100°
    expected = [60 - 40 * 15 / 90, 60 - 40 * 55 / 90, 60]
    assert horizon.min_altitude([60, 100, 45]) == pytest.approx(expected)


def test_a_vertical_step_takes_the_higher_end_at_the_step():
    horizon = Horizon(30, [[[40, 100], [70, 100], [70, 110]]])
    assert horizon.min_altitude([99.99, 100, 105, 110]) == pytest.approx([30, 70, 70, 70])


def test_points_exactly_on_the_line_are_above():
    horizon = Horizon(30, [[[50, 180], [40, 200]]])
    assert bool(horizon.is_above(45.0, 190.0))
    assert not bool(horizon.is_above(44.999, 190.0))
    assert bool(horizon.is_above(50.0, 180.0)) and bool(horizon.is_above(40.0, 200.0))


def test_queries_keep_their_shape():
    horizon = Horizon(30, [[[40, 30], [40, 75]]])
    assert horizon.min_altitude(np.zeros((3, 4))).shape == (3, 4)
    assert horizon.min_altitude(50.0).shape == ()


def test_a_line_that_goes_round_twice_is_refused():
    with pytest.raises(InvalidValueError, match="more than once"):
        Horizon(30, [[[40, 0], [40, 300], [40, 200], [40, 100]]])


def test_a_line_needs_two_points():
    with pytest.raises(InvalidValueError, match="two"):
        Horizon(30, [[[40, 0]]])


def test_the_scheduler_uses_the_site_horizon(make_config):
    config = make_config({"site.horizon.obstructions": [[[45, 60], [45, 90]]]})
    scheduler = Scheduler(config.site, [], config=config.scheduler)
    assert scheduler.is_above_horizon(44.0, 45.0)
    assert not scheduler.is_above_horizon(44.0, 75.0)
    assert scheduler.is_above_horizon(45.0, 60.0)
    assert not scheduler.is_above_horizon(29.0, 200.0)
