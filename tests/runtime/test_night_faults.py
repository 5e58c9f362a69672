"""Whole simulated nights with injected faults: the unit makes itself safe, waits, and
ends the night properly, or says loudly that it cannot."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from ruamel.yaml import YAML

from nocturna.cli.main import main
from nocturna.core.storage import Storage
from nocturna.runtime.runner import run
from unit_helpers import unit_config

START = datetime(2026, 12, 15, 8, 30, tzinfo=UTC)  # 22:30 in Hawaii
RAIN = datetime(2026, 12, 15, 9, 0, tzinfo=UTC)  # 23:00 in Hawaii (the rain scenario)


def scenario(tmp_path, faults: list[dict], timeline: list[dict] | None = None) -> str:
    path = tmp_path / "scenario.yaml"
    data: dict = {"timezone": "US/Hawaii", "night": "2026-12-14", "faults": faults}
    if timeline:
        data["timeline"] = timeline
    YAML(typ="safe", pure=True).dump(data, path)
    return str(path)


def test_rain_mid_exposure_parks_and_closes_within_60_s_at_30x_real_time(tmp_path):
    config = unit_config(tmp_path)
    summary = run(config, simulate=True, start=RAIN - timedelta(minutes=8),
                  until=RAIN + timedelta(minutes=2), speed=30, weather="rain",
                  signals=False).summary
    (interruption,) = summary.interruptions
    assert interruption["closed_after_s"] is not None
    assert interruption["closed_after_s"] <= 60
    assert summary.worst_safety_latency_s == interruption["closed_after_s"]
    with Storage.open(data_dir=config.data_dir) as storage:
        lights = storage.list_exposures(image_type="OBJECT")
    assert lights and min(r.start_time for r in lights) < RAIN  # it was observing
    assert summary.parked and summary.closed


def test_a_full_disk_parks_the_unit_which_waits_and_observes_again_after(tmp_path, caplog):
    config = unit_config(tmp_path)
    weather = scenario(tmp_path, [{"kind": "disk_full", "from": "23:00", "duration": 1800}])
    with caplog.at_level(logging.WARNING):
        summary = run(config, simulate=True, start=START, until=RAIN + timedelta(hours=1),
                      weather=weather, signals=False).summary
    assert summary.parked and summary.closed and summary.failure is None
    parks = [p for p in summary.parks if p["start"] >= RAIN]
    assert parks and any("free" in p["reason"] or "No space" in p["reason"] for p in parks)
    with Storage.open(data_dir=config.data_dir) as storage:
        lights = storage.list_exposures(image_type="OBJECT")
    assert any(r.start_time < RAIN for r in lights)
    assert any(r.start_time > RAIN + timedelta(minutes=30) for r in lights)
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) <= 2, [r.getMessage() for r in tracebacks]


def test_a_mount_that_never_answers_again_ends_the_night_loudly_with_exit_1(tmp_path,
                                                                           capsys):
    config = unit_config(tmp_path)
    weather = scenario(tmp_path, [{"kind": "freeze", "device": "mount0", "from": "23:00"}])
    code = main(["--config", str(tmp_path / "site.yaml"), "run", "--simulate", "--no-api",
                 "--start", START.isoformat(), "--until", (RAIN + timedelta(hours=4)).isoformat(),
                 "--weather", weather])
    out, err = capsys.readouterr()
    assert code == 1
    assert "cannot be parked and closed" in err
    assert "Night summary" in out and "NOT parked" in out
    with Storage.open(data_dir=config.data_dir) as storage:
        last = storage.list_transitions(limit=1)[0]
    assert last.time < RAIN + timedelta(hours=1, minutes=30)  # gave up after an hour
