"""Storage: observations, exposures, telemetry, state transitions, operator commands,
current records and the network outbox.

One API (:class:`Storage`) over SQLAlchemy Core, on SQLite by default (a file in the
data directory, no set-up) or PostgreSQL by URL. Methods are synchronous; async code
calls them via ``asyncio.to_thread``. See :mod:`.repository` for the details and
:mod:`.migrations` for schema versions.
"""

from nocturna.core.storage.migrations import MIGRATIONS, Migration, latest_version
from nocturna.core.storage.records import (
    CommandRecord,
    CurrentRecord,
    ExposureRecord,
    ObservationRecord,
    OutboxRecord,
    SchemaVersionRecord,
    TelemetryRecord,
    TransitionRecord,
)
from nocturna.core.storage.repository import UNSET, Storage

__all__ = [
    "MIGRATIONS",
    "UNSET",
    "CommandRecord",
    "CurrentRecord",
    "ExposureRecord",
    "Migration",
    "ObservationRecord",
    "OutboxRecord",
    "SchemaVersionRecord",
    "Storage",
    "TelemetryRecord",
    "TransitionRecord",
    "latest_version",
]
