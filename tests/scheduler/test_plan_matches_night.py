"""The plan counts what the night spends: on a clear simulated night (virtual time,
every closed loop on, the default fields), the light frames planned and taken agree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nocturna.core.storage import Storage
from nocturna.observatory.overheads import unit_overheads
from nocturna.runtime.runner import run
from nocturna.scheduler import Scheduler
from unit_helpers import unit_config

NIGHT = datetime(2026, 12, 14).date()  # local evening at the demo site
START = datetime(2026, 12, 15, 4, 40, tzinfo=UTC)  # after the evening flats' start
DEMO_VIEW_CAMERA = {"name": "cam0", "driver": "sim", "primary": True, "filterwheel": "fw0",
                    "focuser": "foc0", "focal_length_mm": 85, "aperture_mm": 60,
                    "width": 1024, "height": 1024, "pixel_size_um": 8.6}
"""The demo camera's field of view on a quarter of its pixels: frames render, and
solve, faster; the plate solver's index files cover the field."""
LOOPS_ON = {"pointing": {"enabled": True}, "autofocus": {"enabled": True},
            "tracking": {"enabled": True},
            "calibrations": {"twilight_flats": {"enabled": False}}}


def test_planned_and_taken_light_frames_agree_within_ten_percent(tmp_path):
    config = unit_config(tmp_path, cameras=[DEMO_VIEW_CAMERA],
                         focusers=[{"name": "foc0", "driver": "sim"}], observatory=LOOPS_ON)
    scheduler = Scheduler.from_config(config.model, overheads=unit_overheads(config.model))
    window = scheduler.night_of(NIGHT)
    blocks = scheduler.plan(NIGHT)
    planned = sum(b.frames for b in blocks)
    assert any(b.pointing_s > 0 for b in blocks) and blocks[0].focus_s > 0

    summary = run(config, simulate=True, start=START,
                  until=window.end + timedelta(minutes=5), signals=False).summary
    assert summary.parked and summary.closed
    with Storage.open(data_dir=config.data_dir) as storage:
        taken = sum(1 for r in storage.list_exposures() if r.image_type == "OBJECT")
        pointing = storage.list_telemetry(kind="pointing")
        focus = storage.list_telemetry(kind="focus")
    assert pointing and focus  # the night did correct its pointing and focus
    assert planned > 60
    assert abs(taken - planned) <= 0.1 * planned, (planned, taken)
