"""What the fleet table shows, read from the central database's rows (``fleet status``
prints it; the fleet page can read the same rows).

* online: the newest ``online`` message (the unit's birth, or its last will);
* state: the newest of its status snapshots and transitions;
* weather: the newest ``weather`` verdict, else the status snapshot's;
* tonight's frames: the frames of the unit's latest night (the ``night`` its frames
  carry, so a simulated night on virtual time counts the same way);
* last heartbeat: when the ingest last received anything from the unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError

from nocturna.core.errors import StorageError
from nocturna.core.storage.engine import mask_url
from nocturna.core.storage.migrations import database_version
from nocturna.fleet import schema


@dataclass(frozen=True, slots=True)
class UnitRow:
    unit: str
    online: bool | None
    state: str | None
    state_reason: str | None
    weather_safe: bool | None
    weather_reasons: list[str]
    night: str | None
    frames_tonight: int
    last_heartbeat: datetime
    last_event_time: datetime


def _weather(row: Any) -> tuple[bool | None, list[str]]:
    if row.weather_safe is not None:
        return row.weather_safe, list(row.weather_reasons or [])
    status = row.status or {}
    for key in ("weather", "safety"):
        part = status.get(key)
        if isinstance(part, dict) and isinstance(part.get("safe"), bool):
            return part["safe"], [str(r) for r in part.get("reasons") or []]
    return None, []


def read_fleet(engine: Engine) -> tuple[list[UnitRow], list[dict[str, Any]]]:
    """Every unit (by id) and every ingest's figures; StorageError if unreadable."""
    try:
        with engine.connect() as connection:
            if database_version(connection, schema.fleet_schema_version) == 0:
                raise StorageError(f"{mask_url(engine.url)} has no fleet tables: run "
                                   "`nocturna fleet ingest` on it first")
            exposures = schema.fleet_exposures
            latest = (select(exposures.c.unit, func.max(exposures.c.night).label("night"))
                      .group_by(exposures.c.unit).subquery())
            tonight = (select(latest.c.unit, latest.c.night, func.count().label("frames"))
                       .join(exposures, (exposures.c.unit == latest.c.unit)
                             & (exposures.c.night == latest.c.night))
                       .group_by(latest.c.unit, latest.c.night).subquery())
            units = schema.fleet_units
            rows = connection.execute(
                select(units, tonight.c.night, tonight.c.frames)
                .outerjoin(tonight, tonight.c.unit == units.c.unit)
                .order_by(units.c.unit)).all()
            ingests = [dict(r) for r in connection.execute(
                select(schema.fleet_ingest).order_by(schema.fleet_ingest.c.client_id)
            ).mappings()]
    except DBAPIError as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0]
        raise StorageError(f"cannot read the fleet database {mask_url(engine.url)}: "
                           f"{reason}") from exc
    result = []
    for row in rows:
        safe, reasons = _weather(row)
        result.append(UnitRow(row.unit, row.online, row.state, row.state_reason, safe,
                              reasons, row.night, row.frames or 0, row.last_received_at,
                              row.last_time))
    return result, ingests
