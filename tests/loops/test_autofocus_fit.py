"""The focus-curve fit: a parabola around the best point, refused when it cannot be trusted."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nocturna.core.errors import InvalidValueError
from nocturna.loops.focus_fit import MIN_POINTS, OUTSIDE_SWEEP, PEAK_SIGNIFICANCE, fit_focus

POSITIONS = np.arange(29_000, 31_001, 100, dtype=float)  # 21 points


def test_an_exact_parabola_gives_its_vertex():
    values = 5.0 - ((POSITIONS - 30_130.0) / 400.0) ** 2
    fit = fit_focus(POSITIONS, values)
    assert fit.ok and fit.reason == ""
    assert fit.best_position == pytest.approx(30_130.0, abs=1e-6)
    assert fit.sampled_best == 30_100.0 and not fit.at_edge
    assert fit.points == 7 and fit.window == (29_800.0, 30_400.0)
    assert np.allclose(fit.curve(POSITIONS), values)


def test_a_noisy_gaussian_peak_is_found_within_a_fraction_of_a_step():
    rng = np.random.default_rng(3)
    errors = []
    for _ in range(20):
        truth = rng.uniform(29_800, 30_200)
        values = np.exp(-0.5 * ((POSITIONS - truth) / 300.0) ** 2)
        values += rng.normal(0.0, 0.01, POSITIONS.size)
        fit = fit_focus(POSITIONS, values)
        assert fit.ok, fit.reason
        errors.append(fit.best_position - truth)
    assert max(abs(e) for e in errors) < 40.0  # under half the 100-step spacing


def test_unsorted_input_is_sorted_first():
    order = np.random.default_rng(1).permutation(POSITIONS.size)
    values = -((POSITIONS - 30_050.0) ** 2)
    fit = fit_focus(POSITIONS[order], values[order])
    assert fit.ok and fit.best_position == pytest.approx(30_050.0)


@pytest.mark.parametrize("truth", [28_500.0, 31_700.0])
def test_a_peak_beyond_the_edge_is_refused_with_the_best_sampled_position(truth):
    values = -((POSITIONS - truth) ** 2)
    fit = fit_focus(POSITIONS, values)
    assert not fit.ok and fit.at_edge and not fit.interior
    assert OUTSIDE_SWEEP in fit.reason
    expected = POSITIONS[0] if truth < POSITIONS[0] else POSITIONS[-1]
    assert fit.best_position == fit.sampled_best == expected


def test_a_window_at_the_end_keeps_its_size():
    values = -((POSITIONS - 29_150.0) ** 2)  # best sampled point second from the left
    fit = fit_focus(POSITIONS, values)
    assert fit.ok and fit.points == 7 and fit.window == (29_000.0, 29_600.0)
    assert fit.best_position == pytest.approx(29_150.0)


def test_a_flat_line_is_refused():
    fit = fit_focus(POSITIONS, np.full(POSITIONS.size, 0.3))
    assert not fit.ok and "flat" in fit.reason
    assert fit.best_position == fit.sampled_best


def test_a_curve_that_opens_upward_is_refused():
    values = ((POSITIONS - 30_000.0) / 500.0) ** 2
    values[10] = values.max() + 1.0  # a lone spike in a valley: the best sampled point
    fit = fit_focus(POSITIONS, values)
    assert not fit.ok and fit.interior
    assert fit.best_position == 30_000.0


def test_noise_without_a_peak_is_refused():
    rng = np.random.default_rng(5)
    values = rng.normal(0.0, 1.0, POSITIONS.size)
    values[10] = 3.0  # the best point in the middle, but no curve around it
    fit = fit_focus(POSITIONS, values)
    assert not fit.ok and fit.interior
    assert fit.best_position == 30_000.0
    assert not fit.peak_sampled  # it does not stand out of the noise: no usable answer


def test_a_peak_one_point_wide_is_refused_but_its_sampled_position_is_usable():
    x = np.arange(26_000.0, 34_001.0, 500.0)  # a coarse sweep: the peak is one step wide
    rng = np.random.default_rng(2)
    values = rng.normal(0.0, 0.002, x.size)
    values[x == 30_000.0] += 0.47
    values[(x == 29_500.0) | (x == 30_500.0)] += 0.04
    fit = fit_focus(x, values)
    assert not fit.ok and fit.peak_sampled and min(fit.contrast) > 50
    assert fit.best_position == 30_000.0


def test_a_vertex_outside_the_window_is_refused():
    # A significant best point with a plateau on one side and a cliff on the other:
    # the parabola through the window peaks beyond its left end.
    x = np.arange(0.0, 2100.0, 100.0)
    y = np.zeros(x.size)
    y[7:14] = [8.0, 8.0, 8.0, 9.0, 0.5, 0.0, 0.0]
    y += np.random.default_rng(4).normal(0.0, 0.01, x.size)
    fit = fit_focus(x, y)
    assert fit.bracketed and not fit.ok and "outside the fitted points" in fit.reason
    assert fit.peak_sampled and fit.best_position == 1000.0


def test_nans_are_rejected_from_the_fit():
    values = 5.0 - ((POSITIONS - 30_000.0) / 400.0) ** 2
    values[[0, 3, 11, 20]] = np.nan
    values[5] = np.inf
    fit = fit_focus(POSITIONS, values)
    assert fit.ok and fit.best_position == pytest.approx(30_000.0)
    assert 31_000.0 not in np.linspace(*fit.window, 2)  # fitted on finite points only


@pytest.mark.parametrize("count", [0, 1, 2])
def test_fewer_than_three_points_are_refused(count):
    values = np.full(POSITIONS.size, np.nan)
    values[:count] = [1.0, 2.0][:count]
    fit = fit_focus(POSITIONS, values)
    assert not fit.ok and ("valid" in fit.reason)
    if count == 0:
        assert math.isnan(fit.best_position) and fit.sampled_best is None
    else:
        assert fit.best_position == POSITIONS[count - 1]


def test_too_few_points_to_judge_the_scatter_are_refused():
    x = np.arange(MIN_POINTS) * 100.0
    values = -((x - 500.0) ** 2)
    fit = fit_focus(x[1:], values[1:])
    assert not fit.ok and f"{MIN_POINTS} needed" in fit.reason
    assert fit_focus(x, values).ok


def test_a_peak_is_accepted_only_when_it_stands_out_of_the_scatter():
    rng = np.random.default_rng(7)
    shape = np.exp(-0.5 * ((POSITIONS - 30_000.0) / 300.0) ** 2)
    noise = rng.normal(0.0, 1.0, POSITIONS.size)
    strong = fit_focus(POSITIONS, 20.0 * shape + noise)
    weak = fit_focus(POSITIONS, 2.0 * shape + noise)
    assert strong.ok and strong.bracketed and min(strong.contrast) >= PEAK_SIGNIFICANCE
    assert 0.5 < strong.noise < 2.0  # the scatter, estimated from the sweep itself
    assert not weak.ok and not weak.peak_sampled and "no significant peak" in weak.reason


@pytest.mark.parametrize(("truth", "direction"), [(28_000.0, -1), (32_500.0, 1)])
def test_a_metric_rising_toward_an_end_points_beyond_it(truth, direction):
    rng = np.random.default_rng(8)
    values = np.exp(-0.5 * ((POSITIONS - truth) / 1000.0) ** 2)
    values += rng.normal(0.0, 0.005, POSITIONS.size)
    fit = fit_focus(POSITIONS, values)
    assert not fit.ok and fit.beyond == direction and OUTSIDE_SWEEP in fit.reason
    assert ("high" if direction > 0 else "low") in fit.reason


def test_pure_noise_never_passes_for_a_peak_nor_for_a_trend():
    rng = np.random.default_rng(12)
    fits = [fit_focus(POSITIONS, rng.normal(0.0, 1.0, POSITIONS.size)) for _ in range(2000)]
    assert not any(f.ok or f.peak_sampled for f in fits)
    assert sum(f.beyond != 0 for f in fits) <= 10  # an extension now and then, no more


def test_bad_input_is_an_invalid_value():
    with pytest.raises(InvalidValueError, match="same length"):
        fit_focus([1, 2, 3], [1.0, 2.0])
    with pytest.raises(InvalidValueError, match="half_window"):
        fit_focus([1, 2, 3], [1.0, 2.0, 1.0], half_window=1)
