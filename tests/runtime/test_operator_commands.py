"""Operators steer a simulated night: a target of opportunity, pause with calibrations,
park, abort, each checked in storage; every command recorded with who sent it."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from control_helpers import ALICE, LATITUDE_DEG, at, next_event, steered_night, zenith_ra_deg

from nocturna.core.errors import CommandRefused
from nocturna.runtime.control import CalibrationRequest, TargetRequest, UnitControl
from nocturna.runtime.status_board import KEYS


def exposing(event: Any) -> bool:
    return event.data.get("phase") == "exposing" and event.data.get("image_type") == "OBJECT"


async def script(control: UnitControl, notes: dict[str, Any]) -> None:
    unit, clock = control.unit, control.unit.clock
    snapshots = notes["snapshots"] = []

    async def snapshot() -> None:
        await control.board.refresh()
        snapshots.append(control.board.snapshot)

    await clock.sleep_until(at(8, 50))
    await snapshot()
    notes["too"] = await control.observe(ALICE, TargetRequest(
        name="TOO-1", ra_deg=zenith_ra_deg(at(8, 50)), dec_deg=LATITUDE_DEG, count=3,
        exposure_s=20.0, filter="R"))
    notes["too_at"] = clock.now()

    await clock.sleep_until(at(9, 5))
    frame = await next_event(unit, "instrument.progress", exposing)
    notes["paused_frame"] = frame.data["exposure_id"]
    notes["pause_at"] = clock.now()
    notes["pause"] = await control.pause(ALICE, "thin clouds")
    await next_event(unit, "unit.state", lambda e: e.data["to_state"] == "paused")
    await snapshot()
    notes["bias"] = await control.calibrate(ALICE, CalibrationRequest(kind="bias", count=3))
    notes["dark"] = await control.calibrate(ALICE, CalibrationRequest(kind="dark", count=2,
                                                                      exposure_s=5.0))
    await next_event(unit, "unit.progress", lambda e: e.data["what"].startswith("dark"))
    await snapshot()
    await clock.sleep_until(at(9, 45))
    notes["resume_at"] = clock.now()
    await control.resume(ALICE)

    await clock.sleep_until(at(9, 55))
    await next_event(unit, "instrument.progress", exposing)
    notes["park_at"] = clock.now()
    await control.park(ALICE)
    await clock.sleep_until(at(10, 10))
    await snapshot()
    notes["unpark_at"] = clock.now()
    await control.resume(ALICE)

    await clock.sleep_until(at(10, 20))
    frame = await next_event(unit, "instrument.progress", exposing)
    await clock.sleep(5.0)
    notes["aborted_frame"] = frame.data["exposure_id"]
    notes["abort_at"] = clock.now()
    await control.abort_exposure(ALICE)

    await clock.sleep_until(at(10, 25))
    with pytest.raises(CommandRefused) as refused:
        await control.resume(ALICE)
    notes["refused_resume"] = refused.value


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    steered = steered_night(tmp_path_factory.mktemp("steered"), script, start=at(8, 30),
                            until=at(10, 40))
    yield steered
    steered.storage.close()


def lights(night, since=None, until=None):
    rows = night.storage.list_exposures(image_type="OBJECT", since=since, until=until)
    return sorted(rows, key=lambda r: r.start_time)


def transitions(night, since=None):
    return sorted(night.storage.list_transitions(since=since), key=lambda t: (t.time, t.id))


def test_a_target_of_opportunity_is_the_very_next_field_observed(night):
    notes = night.notes
    after = lights(night, since=notes["too_at"])
    taken = [r for r in after if r.header["OBJECT"] == "TOO-1"]
    assert len(taken) == 3
    assert [r.header["OBJECT"] for r in after[:3]] == ["TOO-1"] * 3
    assert all(r.header["FILTER"] == "R" and r.exposure_time_s == 20.0 for r in taken)
    assert "next field" in notes["too"].detail
    frames = [e.data for e in night.events if e.topic == "unit.frame"
              and e.data["field"] == "TOO-1"]
    assert [(f["frame"], f["of"]) for f in frames] == [(1, 3), (2, 3), (3, 3)]
    assert {f["image_id"] for f in frames} == {r.image_id for r in taken}


def test_pause_finishes_the_frame_in_progress_then_holds_until_resumed(night):
    notes = night.notes
    frame = [r for r in night.storage.list_exposures() if r.header.get("EXPID")
             == notes["paused_frame"]]
    assert frame and frame[0].start_time <= notes["pause_at"]  # it was written
    started_after = frame[0].start_time + timedelta(seconds=1)
    assert lights(night, since=started_after, until=notes["resume_at"]) == []  # none new
    held = transitions(night, since=notes["pause_at"])
    paused = next(t for t in held if t.to_state == "paused")
    assert paused.from_state == "observing" and "paused by alice" in paused.reason
    assert paused.time >= frame[0].start_time + timedelta(seconds=frame[0].exposure_time_s)
    reopened = next(t for t in held if t.to_state == "ready")
    assert reopened.time >= notes["resume_at"]
    assert lights(night, since=notes["resume_at"], until=notes["park_at"])


def test_calibrations_asked_while_paused_are_taken_closed(night):
    notes = night.notes
    rows = [r for r in night.storage.list_exposures(since=notes["pause_at"],
                                                    until=notes["resume_at"])
            if r.header.get("REASON") == "operator calibration"]
    kinds = sorted(r.image_type for r in rows)
    assert kinds == ["BIAS", "BIAS", "BIAS", "DARK", "DARK"]
    closed = next(t for t in transitions(night, since=notes["pause_at"])
                  if t.to_state == "parked")
    assert closed.time <= min(r.start_time for r in rows)
    assert notes["bias"].accepted and "once the unit has closed" in notes["bias"].detail


def test_park_parks_and_closes_and_stays_parked_until_resumed(night):
    notes = night.notes
    park_at, unpark_at = notes["park_at"], notes["unpark_at"]
    after = transitions(night, since=park_at)
    assert after[0].to_state == "parking" and "park asked by alice" in after[0].reason
    assert after[0].time == park_at
    assert after[1].to_state == "parked"
    assert after[2].to_state == "ready" and after[2].time >= unpark_at
    assert lights(night, since=park_at, until=unpark_at) == []
    assert lights(night, since=unpark_at)
    (closing,) = [e for e in night.events if e.topic == "unit.closed"
                  and park_at <= e.time < unpark_at]
    assert (closing.time - park_at).total_seconds() < 60


def test_abort_discards_the_exposure_in_progress_and_the_night_goes_on(night):
    notes = night.notes
    aborted = [r for r in night.storage.list_exposures() if r.header.get("EXPID")
               == notes["aborted_frame"]]
    assert aborted == []
    step = next(t for t in transitions(night, since=notes["abort_at"]))
    assert step.from_state == "observing" and "exposure aborted by alice" in step.reason
    assert lights(night, since=notes["abort_at"])


def test_resume_with_nothing_paused_is_refused_state(night):
    refusal = night.notes["refused_resume"]
    assert refusal.category == "state" and "nothing is paused" in str(refusal)


def test_every_command_is_recorded_with_who_sent_it(night):
    rows = sorted(night.storage.list_commands(), key=lambda r: r.id)
    assert [(r.command, r.accepted) for r in rows] == [
        ("observe", True), ("pause", True), ("calibrate", True), ("calibrate", True),
        ("resume", True), ("park", True), ("resume", True), ("abort", True),
        ("resume", False)]
    assert {(r.operator, r.role, r.address) for r in rows} == {
        ("alice", "operator", "127.0.0.1")}
    assert rows[0].args["name"] == "TOO-1" and rows[1].args == {"reason": "thin clouds"}
    published = [e.data for e in night.events if e.topic == "unit.command"]
    assert [(p["id"], p["command"], p["accepted"]) for p in published] == [
        (r.id, r.command, r.accepted) for r in rows]


def test_the_status_board_has_every_key_and_follows_the_night(night):
    snapshots = night.notes["snapshots"]
    for snapshot in snapshots:
        assert tuple(snapshot) == KEYS
    observing, paused, calibrating, parked = snapshots
    assert observing["state"] in ("slewing", "tracking", "observing")
    assert observing["observation"]["field"] and observing["next"]["field"]
    assert paused["state"] == "paused" and paused["paused"] and paused["hold"] == "pause"
    assert paused["mount"]["tracking"] is False
    assert calibrating["progress"]["what"].startswith("dark")
    assert parked["state"] == "parked" and parked["hold"] == "park"
    assert parked["dome"]["shutter"] == "closed" and parked["mount"]["at_park"]
    times = [s["time"] for s in snapshots]
    assert times == sorted(times) and len(set(times)) == 4
    for snapshot in snapshots:
        assert snapshot["time"].endswith("Z") and snapshot["time_base"] == "virtual"
        assert set(snapshot["safety"]["checks"]) == {"weather", "sun", "dome", "components",
                                                     "disk"}
        assert snapshot["weather"]["safe"] is True and snapshot["moon"]["alt_deg"] is not None
        assert {c["name"] for c in snapshot["components"]} >= {"mount0", "cam0"}
    board = night.notes["control"].board
    assert json.loads(board.json_bytes) == board.snapshot
    assert board.refreshes > len(snapshots)  # it refreshed by itself too


def test_status_events_and_weather_telemetry_follow_the_night(night):
    assert any(e.topic == "unit.status" for e in night.events)
    weather = night.storage.list_telemetry("weather")
    assert len(weather) > 100
    assert set(weather[0].data) == {"temperature_c", "humidity_pct", "wind_m_s",
                                    "cloud_cover_pct", "rain_rate_mm_h",
                                    "sky_temperature_c", "safe"}
