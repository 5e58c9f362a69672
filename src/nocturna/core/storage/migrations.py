"""Schema versions and the migrations between them.

A database at version *N* is one that migrations 1…N have been applied to, in order;
``schema_version`` holds one row per applied migration. :func:`migrate` brings a
database up to the last migration it is given: a new database goes through every
migration, an older one through those it lacks, and a database newer than the code
is refused (:class:`~nocturna.core.errors.StorageError`), never touched.

To change the schema, append ``Migration(N + 1, "what it does", function)`` to
:data:`MIGRATIONS` and edit :mod:`.schema` to match the result. A migration must keep
doing what it did when it was released: when a later migration changes a table that
migration 1 creates, freeze the old definition into migration 1 first (the test
``test_migration_1_creates_the_version_1_columns`` guards this).

Each migration runs in its own transaction together with its ``schema_version`` row
(PostgreSQL and SQLite both have transactional DDL), under a lock, so concurrent
openers cannot apply a step twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, Table, func, insert, inspect, select, text

from nocturna.core.clock import get_clock
from nocturna.core.errors import InvalidValueError, StorageError
from nocturna.core.storage import schema
from nocturna.core.storage.engine import mask_url, write_transaction

# Any constant will do: it only has to be the same for every nocturna process.
_PG_MIGRATION_LOCK = 0x6E6F6374


@dataclass(frozen=True, slots=True)
class Migration:
    """One step of the schema: ``apply(connection)`` takes version - 1 to ``version``."""

    version: int
    description: str
    apply: Callable[[Connection], None]


def _create_tables(connection: Connection) -> None:
    schema.metadata.create_all(connection, tables=list(schema.VERSION_1_TABLES))


def _create_exposure_sequences(connection: Connection) -> None:
    schema.exposure_sequences.create(connection)


def _create_commands(connection: Connection) -> None:
    schema.commands.create(connection)


def _create_outbox(connection: Connection) -> None:
    schema.outbox.create(connection)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "observations, exposures, telemetry, transitions and current records",
        _create_tables,
    ),
    Migration(
        2,
        "exposure number sequences per stream and observing day",
        _create_exposure_sequences,
    ),
    Migration(
        3,
        "operator commands: who sent what, accepted or refused",
        _create_commands,
    ),
    Migration(
        4,
        "the outbox: messages for the network, kept until the broker acknowledges them",
        _create_outbox,
    ),
)
"""Every migration, in order: version i + 1 at index i."""


def latest_version(migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """The version a database has after ``migrations``; checks they count 1, 2, 3…"""
    versions = [step.version for step in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise InvalidValueError(f"migrations must be numbered 1, 2, 3… in order, got {versions}")
    return len(versions)


def database_version(connection: Connection, versions: Table = schema.schema_version) -> int:
    """The schema version of the database (0 if it has no ``versions`` table)."""
    if not inspect(connection).has_table(versions.name):
        return 0
    version = connection.scalar(select(func.max(versions.c.version)))
    return version or 0


def migrate(engine: Engine, migrations: Sequence[Migration] = MIGRATIONS, *,
            versions: Table = schema.schema_version) -> int:
    """Apply the ``migrations`` the database lacks; returns its version afterwards.

    ``versions`` is the bookkeeping table (a copy of ``schema_version``'s columns): another
    chain of migrations in the same database (the fleet's) keeps its own.
    """
    latest = latest_version(migrations)
    while True:
        with write_transaction(engine) as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                )
            versions.create(connection, checkfirst=True)
            version = database_version(connection, versions)
            if version > latest:
                raise StorageError(
                    f"the database {mask_url(engine.url)} has schema version {version}, newer "
                    f"than this nocturna knows (up to {latest}): upgrade nocturna to open it"
                )
            if version == latest:
                return version
            step = migrations[version]
            try:
                step.apply(connection)
            except Exception as exc:
                raise StorageError(
                    f"migration {step.version} ({step.description}) of {mask_url(engine.url)} "
                    f"failed, the database stays at version {version}: {exc}"
                ) from exc
            connection.execute(
                insert(versions).values(
                    version=step.version,
                    description=step.description,
                    applied_at=get_clock().now(),
                )
            )
