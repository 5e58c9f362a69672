"""The tables, as of the latest schema version (see :mod:`.migrations`).

``schema_version`` is the bookkeeping table the migration runner creates first; its
shape never changes. The other tables are what queries use; migrations bring every
database to exactly these definitions.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from nocturna.core.storage.types import PlainJSON, UTCDateTime

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
BigId = BigInteger().with_variant(Integer(), "sqlite")

NAME_LENGTH = 200
"""Longest name, kind, status, camera, image type, state or image id stored."""

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", Text, nullable=False),
    Column("applied_at", UTCDateTime, nullable=False),
)

observations = Table(
    "observations",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("status", String(NAME_LENGTH), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime),
    Column("finished_at", UTCDateTime),
    Column("data", PlainJSON, nullable=False),
    Index("ix_observations_created_at", "created_at"),
    Index("ix_observations_status", "status"),
)

exposures = Table(
    "exposures",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("image_id", String(NAME_LENGTH), nullable=False, unique=True),
    Column("observation_id", BigId, ForeignKey("observations.id", ondelete="SET NULL")),
    Column("camera", String(NAME_LENGTH), nullable=False),
    Column("image_type", String(NAME_LENGTH), nullable=False),
    Column("exposure_time_s", Float, nullable=False),
    Column("start_time", UTCDateTime, nullable=False),
    Column("path", Text, nullable=False),
    Column("size_bytes", BigInteger),
    Column("checksum", String(NAME_LENGTH)),
    Column("header", PlainJSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_exposures_observation_id", "observation_id"),
    Index("ix_exposures_start_time", "start_time"),
)

telemetry = Table(
    "telemetry",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("time", UTCDateTime, nullable=False),
    Column("kind", String(NAME_LENGTH), nullable=False),
    Column("source", String(NAME_LENGTH)),
    Column("data", PlainJSON, nullable=False),
    Index("ix_telemetry_kind_time", "kind", "time"),
    Index("ix_telemetry_time", "time"),
)

transitions = Table(
    "transitions",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("time", UTCDateTime, nullable=False),
    Column("from_state", String(NAME_LENGTH)),
    Column("to_state", String(NAME_LENGTH), nullable=False),
    Column("reason", Text, nullable=False),
    Index("ix_transitions_time", "time"),
)

current = Table(
    "current_records",
    metadata,
    Column("kind", String(NAME_LENGTH), primary_key=True),
    Column("time", UTCDateTime, nullable=False),
    Column("source", String(NAME_LENGTH)),
    Column("data", PlainJSON, nullable=False),
)

exposure_sequences = Table(
    "exposure_sequences",
    metadata,
    Column("stream", String(NAME_LENGTH), primary_key=True),
    Column("day_obs", Integer, primary_key=True, autoincrement=False),
    Column("last_number", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

commands = Table(
    "commands",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("time", UTCDateTime, nullable=False),
    Column("operator", String(NAME_LENGTH), nullable=False),
    Column("role", String(NAME_LENGTH), nullable=False),
    Column("address", String(NAME_LENGTH)),
    Column("command", String(NAME_LENGTH), nullable=False),
    Column("args", PlainJSON, nullable=False),
    Column("accepted", Boolean, nullable=False),
    Column("detail", Text, nullable=False),
    Index("ix_commands_time", "time"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("message_id", String(NAME_LENGTH), nullable=False, unique=True),
    Column("topic", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("retain", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Index("ix_outbox_sent_at", "sent_at"),
)

VERSION_1_TABLES: tuple[Table, ...] = (observations, exposures, telemetry, transitions, current)
"""The tables migration 1 creates."""

DATA_TABLES: tuple[Table, ...] = (*VERSION_1_TABLES, exposure_sequences, commands, outbox)
"""Every table except ``schema_version``, in creation order."""
