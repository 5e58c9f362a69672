"""Telemetry readings and the current record of each kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from nocturna.core.errors import InvalidValueError
from nocturna.core.storage import CurrentRecord, Storage, TelemetryRecord

T0 = datetime(2026, 12, 15, 4, 0, tzinfo=UTC)


def _minutes(storage: Storage, kind: str, count: int) -> None:
    for minute in range(count):
        storage.add_telemetry(kind, {"minute": minute}, time=T0 + timedelta(minutes=minute))


def test_telemetry_round_trips(storage: Storage) -> None:
    added = storage.add_telemetry(
        "weather", {"wind_speed": 4.2, "safe": True}, source="aag", time=T0
    )
    assert storage.list_telemetry("weather") == [added]
    assert added == TelemetryRecord(
        id=added.id,
        time=T0,
        kind="weather",
        source="aag",
        data={"wind_speed": 4.2, "safe": True},
    )


def test_telemetry_query_by_kind_is_newest_first(storage: Storage) -> None:
    _minutes(storage, "weather", 3)
    _minutes(storage, "power", 2)
    readings = storage.list_telemetry("weather")
    assert [row.data["minute"] for row in readings] == [2, 1, 0]


def test_telemetry_query_without_kind_gets_every_kind(storage: Storage) -> None:
    _minutes(storage, "weather", 2)
    _minutes(storage, "power", 2)
    assert len(storage.list_telemetry()) == 4


def test_telemetry_query_by_source(storage: Storage) -> None:
    storage.add_telemetry("device", {"connected": True}, source="mount")
    storage.add_telemetry("device", {"connected": False}, source="dome")
    assert [row.source for row in storage.list_telemetry("device", source="dome")] == ["dome"]


def test_telemetry_range_includes_since_and_excludes_until(storage: Storage) -> None:
    _minutes(storage, "weather", 6)
    readings = storage.list_telemetry(
        "weather", since=T0 + timedelta(minutes=1), until=T0 + timedelta(minutes=4)
    )
    assert [row.data["minute"] for row in readings] == [3, 2, 1]


def test_telemetry_range_accepts_other_time_zones(storage: Storage) -> None:
    _minutes(storage, "weather", 3)
    hawaii = timezone(timedelta(hours=-10))
    readings = storage.list_telemetry(
        "weather", since=(T0 + timedelta(minutes=2)).astimezone(hawaii)
    )
    assert [row.data["minute"] for row in readings] == [2]


def test_telemetry_limit_keeps_the_newest(storage: Storage) -> None:
    _minutes(storage, "weather", 5)
    assert [row.data["minute"] for row in storage.list_telemetry("weather", limit=2)] == [4, 3]


def test_telemetry_limit_must_be_positive(storage: Storage) -> None:
    with pytest.raises(InvalidValueError, match="limit must be a positive integer"):
        storage.list_telemetry(limit=0)


def test_telemetry_kind_must_be_a_string(storage: Storage) -> None:
    with pytest.raises(InvalidValueError, match="kind must be a non-empty string, got 3"):
        storage.add_telemetry(3, {"a": 1})  # type: ignore[arg-type]


def test_telemetry_data_must_be_a_mapping(storage: Storage) -> None:
    with pytest.raises(InvalidValueError, match="weather data must be a mapping, got float"):
        storage.add_telemetry("weather", 4.2)  # type: ignore[arg-type]


def test_telemetry_time_must_be_a_time(storage: Storage) -> None:
    with pytest.raises(InvalidValueError, match="time must be a datetime or an astropy Time"):
        storage.add_telemetry("weather", {}, time="yesterday")  # type: ignore[arg-type]


def test_set_current_then_get_it(storage: Storage) -> None:
    added = storage.set_current("weather", {"safe": True}, source="aag", time=T0)
    assert (
        storage.get_current("weather")
        == added
        == CurrentRecord(kind="weather", time=T0, source="aag", data={"safe": True})
    )


def test_set_current_replaces_the_previous_record(storage: Storage) -> None:
    storage.set_current("weather", {"safe": True}, source="aag", time=T0)
    storage.set_current("weather", {"safe": False}, time=T0 + timedelta(minutes=1))
    assert storage.get_current("weather") == CurrentRecord(
        kind="weather", time=T0 + timedelta(minutes=1), source=None, data={"safe": False}
    )


def test_current_of_an_unknown_kind_is_none(storage: Storage) -> None:
    assert storage.get_current("weather") is None


def test_all_current_has_one_record_per_kind(storage: Storage) -> None:
    storage.set_current("weather", {"safe": True}, time=T0)
    storage.set_current("power", {"mains": True}, time=T0)
    storage.set_current("weather", {"safe": False}, time=T0)
    everything = storage.get_all_current()
    assert sorted(everything) == ["power", "weather"]
    assert everything["weather"].data == {"safe": False}


def test_telemetry_marked_current_becomes_the_current_record(storage: Storage) -> None:
    storage.add_telemetry("weather", {"safe": True}, source="aag", time=T0, current=True)
    assert storage.get_current("weather") == CurrentRecord(
        kind="weather", time=T0, source="aag", data={"safe": True}
    )


def test_telemetry_not_marked_current_leaves_the_current_record(storage: Storage) -> None:
    storage.add_telemetry("weather", {"safe": True}, time=T0)
    assert storage.get_current("weather") is None
