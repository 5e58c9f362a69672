"""What the fleet page shows, read from the central tables (:mod:`nocturna.fleet.schema`).

:func:`overview`: every unit at a glance (online, state, weather verdict, the frames of
its newest night, when it was last heard) and each ingest's figures (lag, backlog).
:func:`unit_detail`: one unit's row with its recent transitions and frames.

Reads only: the ingest is the one writer. Times come back as aware UTC datetimes;
:func:`nocturna.api.encoding.plain` turns them into JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine, and_, func, select

from nocturna.fleet.schema import fleet_exposures, fleet_ingest, fleet_transitions, fleet_units

RECENT = 50
"""How many transitions and frames the detail view lists (newest first)."""
DASHBOARD_KEY = "api_url"
"""The status key that, if a unit publishes it, holds the address of its own dashboard."""


def dashboard_url(status: Any) -> str | None:
    """The unit's own dashboard address, when its status carries an http(s) one."""
    if not isinstance(status, dict):
        return None
    url = status.get(DASHBOARD_KEY)
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        return None
    return url


def _newest_night_frames(connection: Any) -> dict[str, tuple[str, int]]:
    """unit -> (its newest night, the frames it wrote that night)."""
    newest = (select(fleet_exposures.c.unit, func.max(fleet_exposures.c.night).label("night"))
              .group_by(fleet_exposures.c.unit).subquery())
    query = (select(newest.c.unit, newest.c.night, func.count())
             .join(fleet_exposures, and_(fleet_exposures.c.unit == newest.c.unit,
                                         fleet_exposures.c.night == newest.c.night))
             .group_by(newest.c.unit, newest.c.night))
    return {unit: (night, count) for unit, night, count in connection.execute(query)}


def _unit_row(row: Any, frames: tuple[str, int] | None, now: datetime) -> dict[str, Any]:
    night, count = frames if frames is not None else (None, 0)
    return {
        "unit": row.unit, "online": row.online,
        "state": row.state, "reason": row.state_reason, "state_time": row.state_time,
        "weather_safe": row.weather_safe, "weather_reasons": row.weather_reasons or [],
        "night": night, "frames": count,
        "last_time": row.last_time, "last_received_at": row.last_received_at,
        "heard_s_ago": max(0.0, (now - row.last_received_at).total_seconds()),
        "dashboard": dashboard_url(row.status),
    }


def _ingest_row(row: Any, now: datetime) -> dict[str, Any]:
    return {
        "client_id": row.client_id, "connected": row.connected, "updated_at": row.updated_at,
        "updated_s_ago": max(0.0, (now - row.updated_at).total_seconds()),
        "backlog": row.backlog, "rate_per_s": row.rate_per_s,
        "event_lag_p50_s": row.event_lag_p50_s, "event_lag_max_s": row.event_lag_max_s,
        "write_lag_p50_s": row.write_lag_p50_s, "write_lag_p99_s": row.write_lag_p99_s,
    }


def overview(engine: Engine, now: datetime) -> dict[str, Any]:
    """Every unit (by name) and every ingest, as the fleet page's table shows them."""
    with engine.connect() as connection:
        frames = _newest_night_frames(connection)
        units = connection.execute(select(fleet_units).order_by(fleet_units.c.unit)).all()
        ingests = connection.execute(
            select(fleet_ingest).order_by(fleet_ingest.c.updated_at.desc())).all()
    return {"time": now, "units": [_unit_row(row, frames.get(row.unit), now) for row in units],
            "ingests": [_ingest_row(row, now) for row in ingests]}


def unit_detail(engine: Engine, unit: str, now: datetime,
                limit: int = RECENT) -> dict[str, Any] | None:
    """One unit's row, its newest ``limit`` transitions and frames (None: unknown unit)."""
    with engine.connect() as connection:
        row = connection.execute(select(fleet_units).where(fleet_units.c.unit == unit)).first()
        if row is None:
            return None
        frames = _newest_night_frames(connection)
        transitions = connection.execute(
            select(fleet_transitions.c.time, fleet_transitions.c.component,
                   fleet_transitions.c.from_state, fleet_transitions.c.to_state,
                   fleet_transitions.c.reason)
            .where(fleet_transitions.c.unit == unit)
            .order_by(fleet_transitions.c.time.desc()).limit(limit)).all()
        exposures = connection.execute(
            select(fleet_exposures.c.time, fleet_exposures.c.night, fleet_exposures.c.image_id,
                   fleet_exposures.c.exposure_id, fleet_exposures.c.camera,
                   fleet_exposures.c.object, fleet_exposures.c.image_type,
                   fleet_exposures.c.exposure_s, fleet_exposures.c.path)
            .where(fleet_exposures.c.unit == unit)
            .order_by(fleet_exposures.c.time.desc()).limit(limit)).all()
    return {**_unit_row(row, frames.get(unit), now),
            "transitions": [dict(r._mapping) for r in transitions],
            "exposures": [dict(r._mapping) for r in exposures]}
