"""Opening, closing and the SQLite set-up of Storage."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from nocturna.core.errors import InvalidValueError, StorageError
from nocturna.core.storage import Storage
from nocturna.core.storage.schema import DATA_TABLES


def test_default_database_is_sqlite_in_a_new_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "not" / "yet"
    with Storage.open(data_dir=data_dir) as storage:
        assert storage.url == f"sqlite:///{data_dir.resolve() / 'nocturna.sqlite'}"
    assert (data_dir / "nocturna.sqlite").is_file()


def test_tables_are_created_on_first_use(storage: Storage) -> None:
    tables = set(inspect(storage.engine).get_table_names())
    assert {table.name for table in DATA_TABLES} | {"schema_version"} <= tables


def test_sqlite_database_is_in_wal_mode(tmp_path: Path) -> None:
    with Storage.open(data_dir=tmp_path) as storage, storage.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_sqlite_enforces_foreign_keys(tmp_path: Path) -> None:
    with Storage.open(data_dir=tmp_path) as storage, storage.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_in_memory_sqlite_url_works_across_threads() -> None:
    import threading

    with Storage.open("sqlite://") as storage:
        thread = threading.Thread(target=storage.add_telemetry, args=("weather", {"t": 1}))
        thread.start()
        thread.join()
        assert len(storage.list_telemetry("weather")) == 1


def test_open_without_url_or_data_dir_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="URL or a data directory"):
        Storage.open()


def test_unknown_database_url_names_the_url_with_the_password_masked() -> None:
    with pytest.raises(StorageError, match="unsupported database URL") as caught:
        Storage.open("mysql://admin:s3cret@db.example/nocturna")
    assert "admin:***@db.example" in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_unparsable_url_names_the_url_with_the_password_masked() -> None:
    with pytest.raises(StorageError, match="invalid database URL") as caught:
        Storage.open("not a url://admin:s3cret@host")
    assert "s3cret" not in str(caught.value)


def test_unreachable_database_names_the_url_with_the_password_masked() -> None:
    url = "postgresql+psycopg://nocturna:s3cret@127.0.0.1:1/nocturna?connect_timeout=2"
    with pytest.raises(StorageError, match="cannot open the database") as caught:
        Storage.open(url)
    assert "nocturna:***@127.0.0.1:1" in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_schema_is_refused_for_sqlite(tmp_path: Path) -> None:
    with pytest.raises(InvalidValueError, match="needs PostgreSQL"):
        Storage.open(data_dir=tmp_path, schema="unit1")


def test_context_manager_closes_the_storage(tmp_path: Path) -> None:
    with Storage.open(data_dir=tmp_path) as storage:
        pass
    assert storage.closed


def test_closed_storage_refuses_calls(tmp_path: Path) -> None:
    storage = Storage.open(data_dir=tmp_path)
    storage.close()
    with pytest.raises(StorageError, match="closed"):
        storage.list_telemetry()


def test_close_twice_is_harmless(tmp_path: Path) -> None:
    storage = Storage.open(data_dir=tmp_path)
    storage.close()
    storage.close()
    assert storage.closed
