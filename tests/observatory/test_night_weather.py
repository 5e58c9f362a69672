"""Weather during the night: rain closes the unit quickly and it reopens when it clears;
a night unsafe throughout takes no light frames, does its morning housekeeping closed
and ends by itself, parked and closed, without spinning on refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nocturna.core.errors import ConfigError
from nocturna.core.storage import Storage
from nocturna.runtime.plan import weather_source
from nocturna.runtime.runner import run
from unit_helpers import unit_config

RAIN_START = datetime(2026, 12, 15, 9, 0, tzinfo=UTC)  # 23:00 in Hawaii
RAIN_END = datetime(2026, 12, 15, 11, 0, tzinfo=UTC)  # 01:00


def closed_at(storage: Storage, after: datetime) -> datetime:
    """The first status sample after ``after`` with the mount parked and the dome shut."""
    samples = sorted(storage.list_telemetry("unit.status", since=after), key=lambda t: t.time)
    for sample in samples:
        if sample.data.get("at_park") and sample.data.get("shutter") == "closed":
            return sample.time
    raise AssertionError("never parked and closed")


@pytest.fixture(scope="module")
def rainy(tmp_path_factory):
    root = tmp_path_factory.mktemp("rain")
    config = unit_config(root, observatory={"status_interval": "5 s"})
    summary = run(config, simulate=True, start=datetime(2026, 12, 15, 8, 30, tzinfo=UTC),
                  until=datetime(2026, 12, 15, 12, 0, tzinfo=UTC), weather="rain",
                  signals=False).summary
    storage = Storage.open(data_dir=config.data_dir)
    yield summary, storage
    storage.close()


def test_rain_at_23_closes_within_60_simulated_seconds(rainy):
    summary, storage = rainy
    (interruption,) = summary.interruptions
    assert RAIN_START <= interruption["start"] < RAIN_START + timedelta(seconds=30)
    assert any("rain" in reason for reason in interruption["reasons"])
    assert interruption["closed_after_s"] is not None and interruption["closed_after_s"] < 60
    assert closed_at(storage, RAIN_START) < RAIN_START + timedelta(seconds=60)


def test_no_frame_is_taken_while_it_rains(rainy):
    _, storage = rainy
    lights = [r for r in storage.list_exposures() if r.image_type == "OBJECT"]
    for row in lights:
        end = row.start_time + timedelta(seconds=row.exposure_time_s)
        assert end <= RAIN_START + timedelta(seconds=30) or row.start_time >= RAIN_END


def test_the_unit_reopens_after_the_rain_and_observes_again(rainy):
    summary, storage = rainy
    lights = [r for r in storage.list_exposures() if r.image_type == "OBJECT"]
    assert any(r.start_time < RAIN_START for r in lights)
    assert any(r.start_time > RAIN_END for r in lights)
    reopened = [t for t in storage.list_transitions() if t.to_state == "ready"
                and t.time >= RAIN_END]
    assert reopened and "safe" in reopened[-1].reason
    assert summary.parked and summary.closed


def test_a_night_unsafe_throughout_ends_by_itself_after_housekeeping(tmp_path):
    config = unit_config(tmp_path)
    summary = run(config, simulate=True, start=datetime(2026, 12, 15, 4, 0, tzinfo=UTC),
                  weather="unsafe", signals=False).summary
    assert summary.light_frames == {} and summary.parked and summary.closed
    assert summary.calibration_frames["BIAS"] > 0 and summary.calibration_frames["DARK"] > 0
    assert summary.end < datetime(2026, 12, 16, 0, 0, tzinfo=UTC)  # that morning
    assert any("weather" in line for line in summary.no_light_reasons())
    with Storage.open(data_dir=config.data_dir) as storage:
        assert not [r for r in storage.list_exposures() if r.image_type in ("OBJECT", "FLAT")
                    and r.header.get("REASON") != "dome flat"]
        opened = [t for t in storage.list_transitions() if t.to_state == "ready"]
        assert opened == []
        transitions = storage.list_transitions()
        refused = [t for t in transitions if "not safe to enter ready" in t.reason]
        assert refused
        assert len(transitions) < 100


def test_an_unknown_weather_scenario_names_the_built_in_ones():
    with pytest.raises(ConfigError, match="built-in: clear, rain, random, unsafe"):
        weather_source("drizzle")
