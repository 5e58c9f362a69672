"""Column types that behave the same on SQLite and PostgreSQL.

* :class:`UTCDateTime`: aware UTC datetimes in and out. PostgreSQL stores
  ``timestamptz``; SQLite stores naive UTC text (sortable), made aware again on read.
* :class:`PlainJSON`: any value :func:`nocturna.core.serialize.to_plain` accepts
  (Quantities, Times, datetimes, numpy...), rebuilt by ``from_plain`` on read.
  Stored as JSON (not JSONB) on PostgreSQL too: JSON keeps key order, which FITS
  headers need, and the text exactly as written.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from nocturna.core.serialize import from_plain, to_plain


def as_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (naive means UTC, as everywhere in nocturna)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always an aware UTC datetime in Python."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}: {value!r}")
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


class PlainJSON(TypeDecorator[Any]):
    """JSON that round-trips nocturna values through ``to_plain``/``from_plain``."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return to_plain(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return from_plain(value)
