"""``nocturna run`` as a real process: a signal parks and closes, one controller per data
directory, and a run killed at any moment resumes without replaying the night."""

from __future__ import annotations

import signal

from process_helpers import (
    NIGHT_START,
    count,
    light_frames,
    site_file,
    start_run,
    wait_for,
)
from ruamel.yaml import YAML

from nocturna.core.storage import Storage
from nocturna.images.fits import verify_fits
from nocturna.runtime.reconcile import reconcile_images

UNTIL = "2026-12-15T12:00:00Z"


def test_sigterm_mid_observation_parks_closes_prints_the_summary_and_exits_0(tmp_path):
    site, log = site_file(tmp_path), tmp_path / "run.log"
    process = start_run(site, "--start", NIGHT_START, "--until", UNTIL, "--speed", "200",
                        log=log)
    data = tmp_path / "data"
    wait_for(lambda: light_frames(data) >= 1, process, 120, "a light frame")
    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0, log.read_text()
    output = log.read_text()
    assert "SIGTERM" in output and "Night summary" in output
    assert "ended parked and closed" in output
    with Storage.open(data_dir=data) as storage:
        transitions = storage.list_transitions()
        assert transitions[0].to_state == "parked"
        assert any("SIGTERM" in t.reason for t in transitions)


def test_ctrl_c_parks_closes_and_exits_130(tmp_path):
    site, log = site_file(tmp_path), tmp_path / "run.log"
    process = start_run(site, "--start", NIGHT_START, "--until", UNTIL, "--speed", "200",
                        log=log)
    wait_for(lambda: light_frames(tmp_path / "data") >= 1, process, 120, "a light frame")
    process.send_signal(signal.SIGINT)
    assert process.wait(60) == 130, log.read_text()
    assert "ended parked and closed" in log.read_text()


def test_a_second_run_on_the_same_data_directory_exits_2_naming_the_pid(tmp_path):
    site = site_file(tmp_path)
    first = start_run(site, "--start", NIGHT_START, "--until", UNTIL, "--speed", "50",
                      log=tmp_path / "first.log")
    try:
        wait_for(lambda: count(tmp_path / "data", "select count(*) from transitions") > 0,
                 first, 120, "the first run under way")
        second_log = tmp_path / "second.log"
        second = start_run(site, "--start", NIGHT_START, "--until", UNTIL, log=second_log)
        assert second.wait(60) == 2
        lines = second_log.read_text().strip().splitlines()
        assert len(lines) == 1, lines
        assert f"PID {first.pid}" in lines[0] and "in use" in lines[0]
    finally:
        first.send_signal(signal.SIGTERM)
        assert first.wait(60) == 0


FIELDS = {"fields": [
    {"name": "Pleiades", "position": "M45", "exptime": "60 s", "filter": "R", "min_nexp": 6,
     "exp_set_size": 2},
    {"name": "M42", "exptime": "60 s", "filter": "R", "min_nexp": 6, "exp_set_size": 2},
    {"name": "M1", "exptime": "60 s", "filter": "R", "min_nexp": 6, "exp_set_size": 2},
]}
PLANNED = {field["name"]: field["min_nexp"] for field in FIELDS["fields"]}


def test_a_run_killed_at_any_moment_resumes_without_replaying_the_night(tmp_path):
    fields = tmp_path / "fields.yaml"
    YAML(typ="safe", pure=True).dump(FIELDS, fields)
    site, log = site_file(tmp_path), tmp_path / "run.log"
    data = tmp_path / "data"
    common = ("--until", "2026-12-15T09:45:00Z", "--fields", str(fields), "--speed", "700")
    process = start_run(site, "--start", NIGHT_START, *common, log=log)
    for kill_after in (2, 7, 12):  # light frames: early, mid-field, late
        wait_for(lambda n=kill_after: light_frames(data) >= n, process, 120,
                 f"{kill_after} light frames")
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        process = start_run(site, "--start", "continue", *common, log=log)
    assert process.wait(180) == 0, log.read_text()[-3000:]
    with Storage.open(data_dir=data) as storage:
        rows = storage.list_exposures()
        lights = [r for r in rows if r.image_type == "OBJECT"]
        taken = {name: sum(1 for r in lights if r.header.get("OBJECT") == name)
                 for name in PLANNED}
        assert taken == PLANNED  # every field to its plan, none beyond
        assert not storage.list_observations(status="observing")
        assert {o.status for o in storage.list_observations()} <= {"finished", "interrupted"}
        assert len({r.image_id for r in rows}) == len(rows)
        assert len({r.header.get("EXPID") for r in rows}) == len(rows)
        for row in rows:
            verify_fits(row.path, require_checksum=True)
        assert reconcile_images(storage, data, repair=False, verify_all=True).clean
