"""Checking and normalising what callers pass to the storage API.

Each function returns the value in the form it is stored in, or raises
:class:`~nocturna.core.errors.InvalidValueError` naming the argument and the value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from numbers import Integral, Real
from os import PathLike
from typing import Any

from nocturna.core.clock import get_clock
from nocturna.core.errors import InvalidValueError
from nocturna.core.serialize import is_time, to_plain
from nocturna.core.storage.schema import NAME_LENGTH
from nocturna.core.storage.types import as_utc
from nocturna.core.units import is_quantity


def name(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValueError(f"{what} must be a non-empty string, got {value!r}")
    if len(value) > NAME_LENGTH:
        raise InvalidValueError(f"{what} is longer than {NAME_LENGTH} characters: {value!r}")
    return value


def optional_name(value: object, what: str) -> str | None:
    return None if value is None else name(value, what)


def identifier(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise InvalidValueError(f"{what} must be an integer, got {value!r}")
    return int(value)


def optional_identifier(value: object, what: str) -> int | None:
    return None if value is None else identifier(value, what)


def mapping(value: object, what: str) -> dict[str, Any]:
    """``value`` in the plain form it is stored in; refuses what JSON cannot hold."""
    if not isinstance(value, Mapping):
        raise InvalidValueError(f"{what} must be a mapping, got {type(value).__name__}")
    try:
        plain = to_plain(value)
        json.dumps(plain, allow_nan=False)  # PostgreSQL refuses NaN: so do we, everywhere
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"{what} cannot be stored as JSON: {exc}") from exc
    return plain


def path(value: object) -> str:
    if isinstance(value, PathLike):
        value = value.__fspath__()
    if not isinstance(value, str) or not value:
        raise InvalidValueError(f"path must be a non-empty string or path, got {value!r}")
    return value


def size(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
        raise InvalidValueError(f"size_bytes must be an integer >= 0 or None, got {value!r}")
    return int(value)


def seconds(value: object, what: str) -> float:
    """A duration in seconds from a number or a Quantity of time."""
    if is_quantity(value):
        try:
            value = value.to_value("s")  # type: ignore[attr-defined]
        except ValueError as exc:
            raise InvalidValueError(f"{what} {value} is not a time: {exc}") from exc
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 <= value < float("inf"):
        raise InvalidValueError(f"{what} must be a number of seconds >= 0, got {value!r}")
    return float(value)


def instant(value: object, what: str) -> datetime:
    """An aware UTC datetime from a datetime (naive means UTC) or an astropy Time."""
    if isinstance(value, datetime):
        return as_utc(value)
    if is_time(value) and value.isscalar:  # type: ignore[attr-defined]
        return value.utc.to_datetime(timezone=UTC)  # type: ignore[attr-defined]
    raise InvalidValueError(f"{what} must be a datetime or an astropy Time, got {value!r}")


def optional_instant(value: object, what: str) -> datetime | None:
    return None if value is None else instant(value, what)


def when(value: object, what: str) -> datetime:
    """``value`` as an instant, or now on the nocturna clock if it is None."""
    return get_clock().now() if value is None else instant(value, what)
