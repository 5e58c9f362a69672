"""Observations: add, get, update, list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nocturna.core.clock import SimClock
from nocturna.core.errors import InvalidValueError
from nocturna.core.storage import ObservationRecord, Storage

T0 = datetime(2026, 12, 15, 4, 0, tzinfo=UTC)


def test_observation_round_trips(storage: Storage) -> None:
    added = storage.add_observation(
        "M42",
        status="running",
        data={"priority": 2, "filters": ["R", "V"]},
        created_at=T0,
        started_at=T0 + timedelta(minutes=1),
    )
    assert (
        storage.get_observation(added.id)
        == added
        == ObservationRecord(
            id=added.id,
            name="M42",
            status="running",
            created_at=T0,
            started_at=T0 + timedelta(minutes=1),
            finished_at=None,
            data={"priority": 2, "filters": ["R", "V"]},
        )
    )


def test_new_observation_is_pending_with_empty_data(storage: Storage) -> None:
    added = storage.add_observation("M31")
    assert (added.status, added.data, added.started_at) == ("pending", {}, None)


def test_unknown_observation_id_gets_none(storage: Storage) -> None:
    assert storage.get_observation(12345) is None


def test_update_changes_only_the_given_fields(storage: Storage) -> None:
    added = storage.add_observation("M42", data={"priority": 2}, created_at=T0)
    updated = storage.update_observation(added.id, status="done", finished_at=T0)
    assert updated.status == "done"
    assert updated.finished_at == T0
    assert (updated.name, updated.data, updated.created_at) == ("M42", {"priority": 2}, T0)


def test_update_can_clear_a_time(storage: Storage) -> None:
    added = storage.add_observation("M42", started_at=T0)
    assert storage.update_observation(added.id, started_at=None).started_at is None


def test_update_replaces_the_data(storage: Storage) -> None:
    added = storage.add_observation("M42", data={"a": 1})
    updated = storage.update_observation(added.id, data={"b": 2})
    assert storage.get_observation(added.id) == updated
    assert updated.data == {"b": 2}


def test_update_of_an_unknown_observation_is_refused(storage: Storage) -> None:
    with pytest.raises(InvalidValueError, match="unknown observation id 999"):
        storage.update_observation(999, status="done")


def test_list_observations_is_newest_first(storage: Storage, sim_clock: SimClock) -> None:
    for name in ("first", "second", "third"):
        storage.add_observation(name)
        sim_clock.advance(60)
    assert [row.name for row in storage.list_observations()] == ["third", "second", "first"]


def test_list_observations_filters_by_status(storage: Storage) -> None:
    storage.add_observation("M42", status="done")
    storage.add_observation("M31", status="pending")
    assert [row.name for row in storage.list_observations(status="done")] == ["M42"]


def test_observation_without_a_name_is_refused(storage: Storage) -> None:
    with pytest.raises(InvalidValueError, match="observation name must be a non-empty string"):
        storage.add_observation("  ")


def test_observation_data_must_be_a_mapping(storage: Storage) -> None:
    with pytest.raises(InvalidValueError, match="observation data must be a mapping, got list"):
        storage.add_observation("M42", data=[1, 2])  # type: ignore[arg-type]
