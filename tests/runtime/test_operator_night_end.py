"""Ending the night, parking within the safety latency, and commands refused as unsafe,
daylight or out of state (they change nothing, and are recorded as refused)."""

from __future__ import annotations

from typing import Any

import pytest
from control_helpers import ALICE, LATITUDE_DEG, at, next_event, steered_night, zenith_ra_deg

from nocturna.core.errors import CommandRefused
from nocturna.runtime.control import CalibrationRequest, TargetRequest, UnitControl
from nocturna.runtime.plan import MORNING


async def end_at_23h(control: UnitControl, notes: dict[str, Any]) -> None:
    await control.unit.clock.sleep_until(at(9, 0))
    notes["ended_at"] = control.unit.clock.now()
    notes["result"] = await control.end_night(ALICE)


def test_end_night_parks_closes_takes_housekeeping_and_ends_the_run(tmp_path):
    night = steered_night(tmp_path, end_at_23h, start=at(8, 30), until=MORNING)
    summary, ended_at = night.result.summary, night.notes["ended_at"]
    assert night.result.exit_code == 0 and night.result.stopped_by is None
    assert summary.parked and summary.closed and summary.failure is None
    assert summary.calibration_frames["BIAS"] > 0 and summary.calibration_frames["DARK"] > 0
    assert summary.end < at(12, 0)  # after the darks, hours before the morning twilight
    with night.storage:
        steps = sorted(night.storage.list_transitions(since=ended_at),
                       key=lambda t: (t.time, t.id))
        assert [t.to_state for t in steps] == ["parking", "parked", "housekeeping",
                                               "sleeping"]
        assert steps[0].time == ended_at and "night ended by alice" in steps[0].reason
        assert "ended by an operator" in steps[2].reason
        (row,) = night.storage.list_commands()
        assert (row.command, row.operator, row.accepted) == ("end-night", "alice", True)
        assert night.storage.list_exposures(image_type="OBJECT", since=ended_at) == []


async def park_then_refusals(control: UnitControl, notes: dict[str, Any]) -> None:
    unit, clock = control.unit, control.unit.clock
    await clock.sleep_until(at(8, 45))
    await next_event(unit, "instrument.progress",
                     lambda e: e.data.get("phase") == "exposing")
    notes["park_at"] = clock.now()
    await control.park(ALICE)
    closed = await next_event(unit, "unit.closed")
    notes["park_latency_s"] = (closed.time - notes["park_at"]).total_seconds()
    await clock.sleep_until(at(8, 50))
    await control.resume(ALICE)
    await clock.sleep_until(at(9, 5))  # raining since 23:00 HST
    notes["refusals"] = []
    for command in (
        control.observe(ALICE, TargetRequest(name="SN", ra_deg=zenith_ra_deg(at(9, 5)),
                                             dec_deg=LATITUDE_DEG)),
        control.resume(ALICE),
        control.calibrate(ALICE, CalibrationRequest(kind="flat", filter="Z")),
    ):
        with pytest.raises(CommandRefused) as refused:
            await command
        notes["refusals"].append(refused.value)


def test_operator_park_is_as_fast_as_the_rain_and_refusals_say_why(tmp_path):
    night = steered_night(tmp_path, park_then_refusals, start=at(8, 40), until=at(9, 15),
                          weather="rain")
    summary, notes = night.result.summary, night.notes
    weather_latency = summary.worst_safety_latency_s
    assert weather_latency is not None  # the rain at 23:00 closed the unit
    assert notes["park_latency_s"] <= weather_latency
    unsafe, state, flat = notes["refusals"]
    assert unsafe.category == "unsafe" and "rain" in str(unsafe)
    assert state.category == "state" and "nothing is paused" in str(state)
    assert flat.category == "invalid" and "'Z'" in str(flat)
    with night.storage:
        rows = sorted(night.storage.list_commands(), key=lambda r: r.id)
        assert [(r.command, r.accepted) for r in rows] == [
            ("park", True), ("resume", True), ("observe", False), ("resume", False),
            ("calibrate", False)]
        assert rows[2].detail == str(unsafe)
        assert "SN" not in {f.name for f in notes["control"].unit.scheduler.fields}
        reasons = " ".join(t.reason for t in night.storage.list_transitions())
        assert "SN" not in reasons


async def observe_at_dusk(control: UnitControl, notes: dict[str, Any]) -> None:
    with pytest.raises(CommandRefused) as refused:
        await control.observe(ALICE, TargetRequest(name="early", ra_deg=10.0, dec_deg=20.0))
    notes["refusal"] = refused.value


def test_observe_in_daylight_is_refused_daylight(tmp_path):
    night = steered_night(tmp_path, observe_at_dusk, start=at(3, 55), until=at(4, 5))
    refusal = night.notes["refusal"]
    assert refusal.category == "daylight" and "the Sun is at" in str(refusal)
    with night.storage:
        (row,) = night.storage.list_commands()
        assert row.accepted is False and row.args["name"] == "early"
