"""Idempotent batch writes into the central database.

:meth:`FleetStore.write` takes a batch of checked messages and writes them in **one**
transaction: their ids go into ``fleet_messages`` first (``ON CONFLICT DO NOTHING
RETURNING``), and only the ids that were new there are written to the other tables, so a
duplicate, in the same batch or long after, changes nothing. ``fleet_units`` keeps the
newest of each thing per unit whatever order messages arrive in: the online flag by
receive time (a last will carries the time it was set, before the birth message), state,
status and weather by event time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, case, func, or_, select
from sqlalchemy.dialects.postgresql import insert

from nocturna.core.errors import StorageError
from nocturna.core.storage.engine import create_storage_engine, mask_url, write_transaction
from nocturna.fleet import schema
from nocturna.fleet.envelope import Envelope, parse_time


@dataclass(frozen=True, slots=True)
class Received:
    """A checked message and when the ingest received it."""

    envelope: Envelope
    received_at: datetime


@dataclass(slots=True)
class WriteResult:
    written: int = 0
    duplicates: int = 0
    new_ids: set[str] = field(default_factory=set)


def open_fleet_engine(url: str) -> Engine:
    """An engine on the central database (PostgreSQL only)."""
    engine = create_storage_engine(url)
    if engine.dialect.name != "postgresql":
        engine.dispose()
        raise StorageError(f"the fleet database must be PostgreSQL, not {mask_url(url)}")
    return engine


class FleetStore:
    """Writes batches of messages (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def write(self, batch: Sequence[Received]) -> WriteResult:
        """Write ``batch`` in one transaction; returns how many were new and duplicates."""
        unique: dict[str, Received] = {}
        for item in batch:
            unique.setdefault(item.envelope.id, item)
        result = WriteResult()
        if not unique:
            return result
        with write_transaction(self.engine) as connection:
            rows = [{"id": r.envelope.id, "unit": r.envelope.unit, "kind": r.envelope.kind,
                     "time": r.envelope.time, "received_at": r.received_at}
                    for r in unique.values()]
            statement = insert(schema.fleet_messages).on_conflict_do_nothing(
                index_elements=["id"]).returning(schema.fleet_messages.c.id)
            result.new_ids = set(connection.scalars(statement, rows))
            new = [r for r in unique.values() if r.envelope.id in result.new_ids]
            for table, table_rows, upsert in _rows(new):
                if table_rows:
                    connection.execute(insert(table) if upsert is None else upsert, table_rows)
            if new:
                connection.execute(_units_upsert(), _unit_rows(new))
        result.written = len(result.new_ids)
        result.duplicates = len(batch) - result.written
        return result

    def report(self, figures: dict[str, Any]) -> None:
        """Replace this ingest's row of ``fleet_ingest`` (``figures`` has every column)."""
        statement = insert(schema.fleet_ingest).values(**figures)
        statement = statement.on_conflict_do_update(
            index_elements=["client_id"],
            set_={key: statement.excluded[key] for key in figures
                  if key not in ("client_id", "started_at")})
        with write_transaction(self.engine) as connection:
            connection.execute(statement)


# ------------------------------------------------------------------ rows per kind
def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else None


def _maybe_time(value: Any) -> datetime | None:
    try:
        return parse_time(value)
    except ValueError:
        return None


def _exposure(r: Received) -> dict[str, Any]:
    e, d = r.envelope, r.envelope.data
    return {"message_id": e.id, "unit": e.unit, "time": e.time, "night": _text(d.get("night")),
            "image_id": _text(d.get("image_id")), "exposure_id": _text(d.get("exposure_id")),
            "camera": _text(d.get("camera")), "path": _text(d.get("path")),
            "sha256": _text(d.get("sha256")), "image_type": _text(d.get("image_type")),
            "object": _text(d.get("object")), "exposure_s": _number(d.get("exposure_s")),
            "start_time": _maybe_time(d.get("start_time")),
            "observation_id": _text(d.get("observation_id")), "data": d}


def _night_of_summary(data: dict[str, Any]) -> str | None:
    if data.get("night") is not None:
        return str(data["night"])
    start = data.get("start")
    return start[:10] if isinstance(start, str) else None


def _commands_upsert() -> Any:
    statement = insert(schema.fleet_commands)
    columns = ("unit", "command", "by", "sent_time", "accepted", "category", "message",
               "ack_time")
    return statement.on_conflict_do_update(
        index_elements=["command_id"],
        set_={c: func.coalesce(statement.excluded[c], schema.fleet_commands.c[c])
              for c in columns})


def _command_rows(new: Sequence[Received]) -> list[dict[str, Any]]:
    empty = dict.fromkeys(("unit", "command", "by", "sent_time", "accepted", "category",
                           "message", "ack_time"))
    merged: dict[str, dict[str, Any]] = {}
    for r in new:
        e, d = r.envelope, r.envelope.data
        if e.kind == "command":
            key, values = e.id, {"unit": e.unit, "command": d.get("command"),
                                 "by": _text(d.get("by")), "sent_time": e.time}
        elif e.kind == "ack":
            key, values = d["command_id"], {"unit": e.unit, "accepted": d["accepted"],
                                            "category": _text(d.get("category")),
                                            "message": _text(d.get("message")),
                                            "ack_time": e.time}
        else:
            continue
        row = merged.setdefault(key, {"command_id": key, **empty})
        row.update({k: v for k, v in values.items() if v is not None})
    return list(merged.values())


def _rows(new: Sequence[Received]) -> list[tuple[Any, list[dict[str, Any]], Any]]:
    """``(table, rows, statement or None for a plain insert)`` for every derived table."""
    transitions, telemetry, exposures, nights = [], [], [], []
    for r in new:
        e, d = r.envelope, r.envelope.data
        if e.kind in ("transition", "component"):
            transitions.append({"message_id": e.id, "unit": e.unit, "time": e.time,
                                "component": d.get("component"), "from_state": d["from"],
                                "to_state": d["to"], "reason": d["reason"]})
        elif e.kind in ("status", "weather", "notification"):
            telemetry.append({"message_id": e.id, "unit": e.unit, "kind": e.kind,
                              "time": e.time, "data": d})
        elif e.kind == "frame":
            exposures.append(_exposure(r))
        elif e.kind == "summary":
            nights.append({"message_id": e.id, "unit": e.unit, "time": e.time,
                           "night": _night_of_summary(d), "data": d})
    return [(schema.fleet_transitions, transitions, None),
            (schema.fleet_telemetry, telemetry, None),
            (schema.fleet_exposures, exposures, None),
            (schema.fleet_nights, nights, None),
            (schema.fleet_commands, _command_rows(new), _commands_upsert())]


# ------------------------------------------------------------------ the units' newest
_ASPECTS: dict[str, tuple[str, ...]] = {
    "online_time": ("online",),
    "state_time": ("state", "state_reason"),
    "status_time": ("status",),
    "weather_time": ("weather_safe", "weather_reasons"),
}
"""Each ``*_time`` column and the columns it dates: they are replaced together."""


def _unit_rows(new: Sequence[Received]) -> list[dict[str, Any]]:
    units: dict[str, dict[str, Any]] = {}
    for r in new:
        e, d = r.envelope, r.envelope.data
        row = units.setdefault(e.unit, {
            "unit": e.unit, "first_seen_at": r.received_at, "last_time": e.time,
            "last_received_at": r.received_at,
            **{c: None for when, columns in _ASPECTS.items() for c in (when, *columns)}})
        row["last_time"] = max(row["last_time"], e.time)
        row["last_received_at"] = max(row["last_received_at"], r.received_at)
        row["first_seen_at"] = min(row["first_seen_at"], r.received_at)
        if e.kind == "online":
            _newer(row, "online_time", r.received_at, online=d["online"])
        elif e.kind == "status":
            _newer(row, "status_time", e.time, status=d)
            if isinstance(d.get("state"), str):
                _newer(row, "state_time", e.time, state=d["state"],
                       state_reason=_text(d.get("reason")))
        elif e.kind == "transition":
            _newer(row, "state_time", e.time, state=d["to"], state_reason=d["reason"])
        elif e.kind == "weather":
            reasons = d.get("reasons") if isinstance(d.get("reasons"), list) else []
            _newer(row, "weather_time", e.time, weather_safe=d["safe"],
                   weather_reasons=reasons)
    return list(units.values())


def _newer(row: dict[str, Any], when_column: str, when: datetime, **values: Any) -> None:
    if row[when_column] is None or when >= row[when_column]:
        row[when_column] = when
        row.update(values)


def _units_upsert() -> Any:
    table = schema.fleet_units
    statement = insert(table)
    new = statement.excluded
    updates: dict[str, Any] = {
        "first_seen_at": func.least(table.c.first_seen_at, new.first_seen_at),
        "last_time": func.greatest(table.c.last_time, new.last_time),
        "last_received_at": func.greatest(table.c.last_received_at, new.last_received_at),
    }
    for when, columns in _ASPECTS.items():
        take = (new[when].is_not(None)) & or_(table.c[when].is_(None),
                                              new[when] >= table.c[when])
        for column in (when, *columns):
            updates[column] = case((take, new[column]), else_=table.c[column])
    return statement.on_conflict_do_update(index_elements=["unit"], set_=updates)


def count(engine: Engine, table: Any, **where: Any) -> int:
    """Rows of ``table`` matching ``column=value`` pairs (for tools and tests)."""
    query = select(func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    with engine.connect() as connection:
        return int(connection.scalar(query) or 0)
