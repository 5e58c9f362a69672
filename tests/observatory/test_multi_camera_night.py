"""Two simulated cameras on one mount, through a simulated night on virtual time.

One run (module fixture): the primary camera ``cam0`` with the unit's focuser and
filter wheel, a second camera ``cam1`` with a focuser of its own (``foc1``, started
out of focus) and no filter wheel. Autofocus is on; at 23:15 the second camera's link
goes down for the rest of the night (an injected ``disconnect`` fault).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from astropy.io import fits
from ruamel.yaml import YAML

from nocturna.core.storage import Storage
from nocturna.runtime.runner import run
from unit_helpers import FOCUSED, SMALL_CAMERA, unit_config

START = datetime(2026, 12, 15, 8, 30, tzinfo=UTC)  # 22:30 in Hawaii
FAULT = datetime(2026, 12, 15, 9, 15, tzinfo=UTC)  # 23:15: cam1's link goes down
UNTIL = datetime(2026, 12, 15, 10, 0, tzinfo=UTC)

SECOND_CAMERA = {**{k: v for k, v in SMALL_CAMERA.items() if k != "filterwheel"},
                 "name": "cam1", "primary": False, "focuser": "foc1"}
SECOND_FOCUSER = {"name": "foc1", "driver": "sim", "position": 28500}


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    root = tmp_path_factory.mktemp("two-cameras")
    config = unit_config(root, cameras=[SMALL_CAMERA, SECOND_CAMERA],
                         focusers=[FOCUSED, SECOND_FOCUSER],
                         observatory={"autofocus": {"enabled": True}})
    scenario = root / "scenario.yaml"
    YAML(typ="safe", pure=True).dump(
        {"timezone": "US/Hawaii", "night": "2026-12-14",
         "faults": [{"kind": "disconnect", "device": "cam1", "from": "23:15"}]}, scenario)
    summary = run(config, simulate=True, start=START, until=UNTIL, weather=str(scenario),
                  signals=False).summary
    storage = Storage.open(data_dir=config.data_dir)
    yield summary, storage
    storage.close()


def lights(storage, camera):
    return sorted(storage.list_exposures(image_type="OBJECT", camera=camera),
                  key=lambda r: r.start_time)


def test_both_cameras_write_every_frame_with_its_row(night):
    summary, storage = night
    assert summary.parked and summary.closed and summary.failure is None
    first, second = lights(storage, "cam0"), lights(storage, "cam1")
    assert len(first) >= 10 and len(second) >= 5
    for row in first + second:
        path = Path(row.path)
        assert path.is_file() and path.name.startswith(f"{row.camera}_"), row.path
        with fits.open(path) as hdul:
            assert hdul[0].header["CAMERA"] == row.camera
            assert hdul[0].header["IMAGEID"] == row.image_id


def test_frames_taken_together_share_observation_group_and_visit(night):
    _, storage = night
    first = {(r.header["GROUPID"], r.header["VISIT"]): r for r in lights(storage, "cam0")}
    second = lights(storage, "cam1")
    for row in second:
        partner = first[(row.header["GROUPID"], row.header["VISIT"])]
        assert partner.observation_id == row.observation_id is not None
        assert partner.header["OBJECT"] == row.header["OBJECT"]
        assert abs((partner.start_time - row.start_time).total_seconds()) < 5.0
        assert partner.header["EXPID"] != row.header["EXPID"]
    ids = [r.header["EXPID"] for r in storage.list_exposures()]
    assert len(ids) == len(set(ids))  # one exposure id per frame, whichever camera


def test_the_primary_goes_on_after_the_second_camera_fails(night):
    summary, storage = night
    first, second = lights(storage, "cam0"), lights(storage, "cam1")
    assert max(r.start_time for r in second) < FAULT
    late = [r for r in first if r.start_time > FAULT]
    assert len(late) >= 5
    assert not any("cam1" in p["reason"] for p in summary.parks)  # it never parked for it


def test_summary_and_database_count_frames_per_camera(night):
    summary, storage = night
    assert summary.camera_frames["cam0"]["light"] == len(lights(storage, "cam0"))
    assert summary.camera_frames["cam1"]["light"] == len(lights(storage, "cam1"))
    assert summary.as_dict()["camera_frames"]["cam1"]["light"] == \
        len(lights(storage, "cam1"))
    per_observation: dict[int, Counter[str]] = defaultdict(Counter)
    for row in storage.list_exposures(image_type="OBJECT"):
        per_observation[row.observation_id][row.camera] += 1
    for observation_id, counts in per_observation.items():
        assert storage.exposure_counts(observation_id=observation_id) == dict(counts)
        record = storage.get_observation(observation_id)
        assert record.data["camera_frames"] == dict(counts)
    # the primary camera's frames alone make the plan's progress
    first = lights(storage, "cam0")
    assert summary.exposing_s == pytest.approx(sum(r.exposure_time_s for r in first))


def test_the_second_camera_focuses_with_its_own_focuser(night):
    _, storage = night
    runs: dict[str, dict] = {}
    for row in reversed(storage.list_telemetry("focus")):  # the first run of each camera
        runs.setdefault(row.data["camera"], row.data)
    assert runs["cam1"]["focuser"] == "foc1" and runs["cam0"]["focuser"] == "foc0"
    assert runs["cam1"]["success"] and abs(runs["cam1"]["best_position"] - 30000) <= 50
    focused = [r for r in lights(storage, "cam1")
               if r.start_time.isoformat() > runs["cam1"]["started"]]
    assert focused and all(abs(r.header["FOCPOS"] - 30000) <= 50 for r in focused)
