"""The central (fleet) tables, PostgreSQL only.

Every message is one row of ``fleet_messages`` keyed by its envelope id: a duplicate
(a unit resending after a lost acknowledgement, the broker redelivering to the ingest)
finds its id there and changes nothing. The other tables hold what each kind of message
says, keyed by the same id:

* ``fleet_units``: one row per unit, the newest of each: online flag, status (state),
  weather verdict, and the last event and receive times (the heartbeat);
* ``fleet_transitions``: the unit's state transitions and its components' (``component``
  set);
* ``fleet_telemetry``: status snapshots, weather readings and notifications (``kind``);
* ``fleet_exposures``: frames written (metadata only);
* ``fleet_nights``: night summaries;
* ``fleet_commands``: operator commands seen on the broker and the units' acknowledgements;
* ``fleet_ingest``: each ingest's own figures (rates, lag, backlog), for ``fleet status``.

``time`` columns are the unit's event time (virtual time in a simulated night);
``received_at`` is the ingest's clock when the message arrived and
``fleet_messages.committed_at`` the database's clock when its row was inserted (in the
transaction that commits it, a few milliseconds before the commit).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()
Time = DateTime(timezone=True)

fleet_schema_version = Table(
    "fleet_schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", Text, nullable=False),
    Column("applied_at", Time, nullable=False),
)

fleet_messages = Table(
    "fleet_messages",
    metadata,
    Column("id", Text, primary_key=True),
    Column("unit", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("time", Time, nullable=False),
    Column("received_at", Time, nullable=False),
    Column("committed_at", Time, nullable=False, server_default=func.clock_timestamp()),
)

fleet_units = Table(
    "fleet_units",
    metadata,
    Column("unit", Text, primary_key=True),
    Column("first_seen_at", Time, nullable=False),
    Column("last_time", Time, nullable=False),
    Column("last_received_at", Time, nullable=False),
    Column("online", Boolean),
    Column("online_time", Time),
    Column("state", Text),
    Column("state_reason", Text),
    Column("state_time", Time),
    Column("status", JSONB),
    Column("status_time", Time),
    Column("weather_safe", Boolean),
    Column("weather_reasons", JSONB),
    Column("weather_time", Time),
)

fleet_transitions = Table(
    "fleet_transitions",
    metadata,
    Column("message_id", Text, primary_key=True),
    Column("unit", Text, nullable=False),
    Column("time", Time, nullable=False),
    Column("component", Text),
    Column("from_state", Text),  # none for a night's first transition
    Column("to_state", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Index("ix_fleet_transitions_unit_time", "unit", "time"),
)

fleet_telemetry = Table(
    "fleet_telemetry",
    metadata,
    Column("message_id", Text, primary_key=True),
    Column("unit", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("time", Time, nullable=False),
    Column("data", JSONB, nullable=False),
    Index("ix_fleet_telemetry_unit_kind_time", "unit", "kind", "time"),
)

fleet_exposures = Table(
    "fleet_exposures",
    metadata,
    Column("message_id", Text, primary_key=True),
    Column("unit", Text, nullable=False),
    Column("time", Time, nullable=False),
    Column("night", Text),
    Column("image_id", Text),
    Column("exposure_id", Text),
    Column("camera", Text),
    Column("path", Text),
    Column("sha256", Text),
    Column("image_type", Text),
    Column("object", Text),
    Column("exposure_s", Float),
    Column("start_time", Time),
    Column("observation_id", Text),
    Column("data", JSONB, nullable=False),
    Index("ix_fleet_exposures_unit_night", "unit", "night"),
)

fleet_nights = Table(
    "fleet_nights",
    metadata,
    Column("message_id", Text, primary_key=True),
    Column("unit", Text, nullable=False),
    Column("night", Text),
    Column("time", Time, nullable=False),
    Column("data", JSONB, nullable=False),
    Index("ix_fleet_nights_unit_night", "unit", "night"),
)

fleet_commands = Table(
    "fleet_commands",
    metadata,
    Column("command_id", Text, primary_key=True),
    Column("unit", Text, nullable=False),
    Column("command", Text),
    Column("by", Text),
    Column("sent_time", Time),
    Column("accepted", Boolean),
    Column("category", Text),
    Column("message", Text),
    Column("ack_time", Time),
)

fleet_ingest = Table(
    "fleet_ingest",
    metadata,
    Column("client_id", Text, primary_key=True),
    Column("started_at", Time, nullable=False),
    Column("updated_at", Time, nullable=False),
    Column("connected", Boolean, nullable=False),
    Column("received", BigInteger, nullable=False),
    Column("written", BigInteger, nullable=False),
    Column("duplicates", BigInteger, nullable=False),
    Column("rejected", BigInteger, nullable=False),
    Column("backlog", Integer, nullable=False),
    Column("rate_per_s", Float, nullable=False),
    Column("event_lag_p50_s", Float),
    Column("event_lag_max_s", Float),
    Column("write_lag_p50_s", Float),
    Column("write_lag_p99_s", Float),
)

VERSION_1_TABLES = (fleet_messages, fleet_units, fleet_transitions, fleet_telemetry,
                    fleet_exposures, fleet_nights, fleet_commands, fleet_ingest)
"""Every table but ``fleet_schema_version``, in creation order."""
