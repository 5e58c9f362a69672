"""SQLAlchemy engines for SQLite and PostgreSQL, set up the way storage needs them.

SQLite: WAL journal, ``foreign_keys=ON``, a busy timeout, shareable between threads,
and transactions opened by us (the ``sqlite3`` module's own handling would commit
DDL implicitly): reads ``BEGIN``, writes ``BEGIN IMMEDIATE`` so that concurrent
writers queue on the busy timeout instead of failing on a lock upgrade.

PostgreSQL: psycopg 3, pre-ping, optionally a ``search_path`` schema.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from nocturna.core.errors import InvalidValueError, StorageError
from nocturna.core.redact import mask_password

DATABASE_FILE = "nocturna.sqlite"
"""File name of the default SQLite database inside the data directory."""

_WRITE = "nocturna_write"
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def mask_url(url: str | URL) -> str:
    """``url`` as text with any password replaced by ``***``."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    return mask_password(url)


def sqlite_url(data_dir: str | Path) -> str:
    """The URL of the default database in ``data_dir``."""
    return f"sqlite:///{Path(data_dir).expanduser().resolve() / DATABASE_FILE}"


def create_storage_engine(
    url: str, *, schema: str | None = None, busy_timeout_s: float = 30.0
) -> Engine:
    """An engine for ``url`` (``sqlite:///…`` or ``postgresql+psycopg://…``).

    ``schema`` (PostgreSQL only) puts every table in that schema via ``search_path``.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageError(f"invalid database URL {mask_url(url)}: {exc}") from exc
    if parsed.drivername == "postgresql":  # plain postgresql:// would mean psycopg2
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise StorageError(
            f"unsupported database URL {mask_url(parsed)}: use sqlite:///PATH or "
            "postgresql+psycopg://USER:PASSWORD@HOST/DATABASE"
        )
    if schema is not None and (backend != "postgresql" or not _SCHEMA_NAME.match(schema)):
        raise InvalidValueError(
            f"schema {schema!r} is not usable with {mask_url(parsed)}: a schema needs "
            "PostgreSQL and a plain name (letters, digits, underscores)"
        )
    try:
        if backend == "sqlite":
            return _sqlite_engine(parsed, busy_timeout_s)
        options = {"options": f"-csearch_path={schema}"} if schema else {}
        return create_engine(parsed, pool_pre_ping=True, connect_args=options)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise StorageError(f"cannot use database URL {mask_url(parsed)}: {exc}") from exc


def _sqlite_engine(url: URL, busy_timeout_s: float) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or url.query.get("mode") == "memory"
    if not in_memory and "uri" not in url.query:
        directory = Path(database).expanduser().parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(
                f"cannot create the database directory {directory} for {mask_url(url)}: {exc}"
            ) from exc
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": busy_timeout_s},
        # One shared connection, else each connection would see its own empty database.
        **({"poolclass": StaticPool} if in_memory else {}),
    )
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _on_sqlite_begin)
    return engine


def _on_sqlite_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    dbapi_connection.isolation_level = None  # transactions are begun by _on_sqlite_begin
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _on_sqlite_begin(connection: Connection) -> None:
    write = connection.get_execution_options().get(_WRITE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that will write (committed on success)."""
    with engine.connect() as connection:
        connection.execution_options(**{_WRITE: True})
        with connection.begin():
            yield connection
