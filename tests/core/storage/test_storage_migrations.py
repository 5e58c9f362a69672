"""Schema versions: creation, re-opening, migrating older databases, refusing newer."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, inspect, text

from nocturna.core.clock import SimClock
from nocturna.core.errors import InvalidValueError, StorageError
from nocturna.core.storage import MIGRATIONS, Migration, Storage, latest_version
from nocturna.core.storage.schema import DATA_TABLES


def _add_note_column(connection: Connection) -> None:
    connection.execute(text("ALTER TABLE observations ADD COLUMN note TEXT"))


LATEST = len(MIGRATIONS)
NEXT = LATEST + 1

# A made-up next version, to exercise the runner with a real schema change.
WITH_NEXT = (*MIGRATIONS, Migration(NEXT, "observations get a note", _add_note_column))

# What migration 1 creates, frozen: if a later migration changes one of these tables,
# migration 1 must keep creating this (freeze its table definitions first).
VERSION_1_COLUMNS = {
    "observations": {"id", "name", "status", "created_at", "started_at", "finished_at", "data"},
    "exposures": {
        "id",
        "image_id",
        "observation_id",
        "camera",
        "image_type",
        "exposure_time_s",
        "start_time",
        "path",
        "size_bytes",
        "checksum",
        "header",
        "created_at",
    },
    "telemetry": {"id", "time", "kind", "source", "data"},
    "transitions": {"id", "time", "from_state", "to_state", "reason"},
    "current_records": {"kind", "time", "source", "data"},
}


def _columns(storage: Storage, table: str) -> set[str]:
    return {column["name"] for column in inspect(storage.engine).get_columns(table)}


def test_new_database_is_at_the_latest_version(storage: Storage) -> None:
    assert storage.schema_version == latest_version() == len(MIGRATIONS)


def test_version_table_lists_each_applied_migration(storage: Storage) -> None:
    history = storage.schema_history()
    assert [(row.version, row.description) for row in history] == [
        (step.version, step.description) for step in MIGRATIONS
    ]


def test_version_rows_are_stamped_by_the_nocturna_clock(sim_clock: SimClock, place) -> None:
    with place.open() as storage:
        assert storage.schema_history()[0].applied_at == sim_clock.now()


def test_reopened_database_keeps_its_data(place) -> None:
    with place.open() as storage:
        storage.add_observation("M42")
    with place.open() as storage:
        assert [row.name for row in storage.list_observations()] == ["M42"]
        assert storage.schema_version == latest_version()


def test_reopening_applies_no_migration_twice(place) -> None:
    place.open().close()
    with place.open() as storage:
        assert [row.version for row in storage.schema_history()] == list(range(1, NEXT))


def test_new_database_goes_through_every_migration(place) -> None:
    with place.open(WITH_NEXT) as storage:
        assert storage.schema_version == NEXT
        assert "note" in _columns(storage, "observations")


def test_older_database_is_migrated_on_open(place) -> None:
    place.open(MIGRATIONS[:1]).close()
    with place.open(WITH_NEXT) as storage:
        assert storage.schema_version == NEXT
        assert [row.version for row in storage.schema_history()] == list(range(1, NEXT + 1))
        assert "note" in _columns(storage, "observations")


def test_migration_keeps_existing_rows(place) -> None:
    with place.open(MIGRATIONS[:1]) as storage:
        storage.add_observation("M31", data={"priority": 3})
    with place.open(WITH_NEXT) as storage:
        (observation,) = storage.list_observations()
        assert (observation.name, observation.data) == ("M31", {"priority": 3})


def test_failed_migration_leaves_the_database_at_its_old_version(place) -> None:
    def half_done(connection: Connection) -> None:
        connection.execute(text("CREATE TABLE half_done (id INTEGER)"))
        raise RuntimeError("the next migration broke")

    place.open(MIGRATIONS).close()
    with pytest.raises(StorageError,
                       match=rf"migration {NEXT} \(breaks halfway\).*version {LATEST}.*broke"):
        place.open((*MIGRATIONS, Migration(NEXT, "breaks halfway", half_done)))
    with place.open(MIGRATIONS) as storage:
        assert storage.schema_version == LATEST
        assert not inspect(storage.engine).has_table("half_done")


def test_newer_database_is_refused_with_both_versions_named(place) -> None:
    place.open(WITH_NEXT).close()
    with pytest.raises(StorageError, match=rf"schema version {NEXT}.*up to {LATEST}"):
        place.open(MIGRATIONS)


def test_migrations_must_be_numbered_from_1_in_order() -> None:
    steps = (MIGRATIONS[0], Migration(3, "skips 2", _add_note_column))
    with pytest.raises(InvalidValueError, match=r"1, 2, 3.*\[1, 3\]"):
        latest_version(steps)


def test_migrated_schema_matches_the_table_definitions(storage: Storage) -> None:
    inspector = inspect(storage.engine)
    for table in DATA_TABLES:
        reflected = {c["name"]: c["nullable"] for c in inspector.get_columns(table.name)}
        assert reflected == {c.name: c.nullable for c in table.columns}, table.name
        indexes = {i["name"] for i in inspector.get_indexes(table.name)}
        assert {i.name for i in table.indexes} <= indexes, table.name


def test_migration_1_creates_the_version_1_columns(place) -> None:
    with place.open(MIGRATIONS[:1]) as storage:
        assert {name: _columns(storage, name) for name in VERSION_1_COLUMNS} == VERSION_1_COLUMNS
