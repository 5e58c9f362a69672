"""Overheads come from the configuration the night runs on, through the night's code."""

from __future__ import annotations

import pytest

from nocturna.observatory.overheads import TYPICAL_POINTING_FRAMES, unit_overheads


def test_pointing_costs_its_frames_and_solves(make_config):
    base = unit_overheads(make_config())
    slower = unit_overheads(make_config({"observatory.pointing.solve_time": "20 s",
                                       "observatory.pointing.exposure": "8 s"}))
    assert slower.pointing_s - base.pointing_s == pytest.approx(
        TYPICAL_POINTING_FRAMES * (15 + 3))


def test_each_frame_costs_the_simulated_cameras_readout(make_config):
    base = unit_overheads(make_config())
    slow = unit_overheads(make_config({"cameras[0].readout_s": 7,
                                     "scheduler.overhead": "1.5 s"}))
    assert slow.frame_s - base.frame_s == pytest.approx(7 - 2 + 1.5)
    real = unit_overheads(make_config({"cameras[0].driver": "alpaca",
                                     "scheduler.overhead": "4 s"}))
    assert real.frame_s == 4  # a real camera's readout is in scheduler.overhead


def test_autofocus_runs_cost_their_sweeps(make_config):
    base = unit_overheads(make_config())
    wider = unit_overheads(make_config({"observatory.autofocus.fine_range": 2000}))
    # 20 more fine positions, each a 2 s exposure of the cutout and its readout
    assert wider.focus_s - base.focus_s == pytest.approx(wider.focus_start_s
                                                         - base.focus_start_s)
    assert wider.focus_s - base.focus_s > 20 * 2
    assert base.focus_interval_s == 7200


def test_closed_loops_off_cost_nothing(make_config):
    off = unit_overheads(make_config({"observatory.pointing.enabled": False,
                                    "observatory.autofocus.enabled": False}))
    assert off.pointing_s == 0 and off.focus_start_s == off.focus_s == 0
    assert off.frame_s == unit_overheads(make_config()).frame_s

