"""The fleet database's migration chain (its own ``fleet_schema_version`` table, run by
:func:`nocturna.core.storage.migrations.migrate`, so a central database can also hold a
unit's tables without the two chains mixing)."""

from __future__ import annotations

from sqlalchemy import Connection, Engine

from nocturna.core.storage.migrations import Migration, migrate
from nocturna.fleet import schema


def _create_tables(connection: Connection) -> None:
    schema.metadata.create_all(connection, tables=list(schema.VERSION_1_TABLES))


FLEET_MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "units, messages, transitions, telemetry, exposures, nights, commands, "
                 "ingest figures", _create_tables),
)


def migrate_fleet(engine: Engine) -> int:
    """Bring the central database up to the newest fleet schema; returns its version."""
    return migrate(engine, FLEET_MIGRATIONS, versions=schema.fleet_schema_version)
