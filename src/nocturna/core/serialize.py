"""JSON and YAML that round-trip Quantities, datetimes and astropy Times.

Encoding (the same plain form in both formats):

* Quantity → ``{"value": 30.0, "unit": "deg"}`` (arrays: a list of values); in YAML a
  scalar Quantity is written as the string people type, ``"30 deg"``.
* datetime → ``{"$datetime": "2026-12-15T04:00:00+00:00"}``
* date → ``{"$date": "2026-12-15"}``
* astropy Time → ``{"$time": "2026-12-15T04:00:00.000", "scale": "utc"}``
  (arrays: a list of ISO strings).
* numpy scalars and arrays → numbers and lists; Paths → strings.

Decoding JSON rebuilds exactly those forms; strings always stay strings. YAML is
read like configuration: ``"<number> <unit>"`` text also becomes a Quantity (see
:mod:`nocturna.core.units`), other text stays text.
"""

from __future__ import annotations

import io
import json
import sys
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import PurePath
from typing import Any

from nocturna.core.units import format_quantity, is_quantity, parse_value

_DATETIME = "$datetime"
_DATE = "$date"
_TIME = "$time"


@lru_cache(maxsize=512)
def _unit_text(unit: Any) -> str:
    return str(unit.to_string())


def is_time(value: Any) -> bool:
    """True if ``value`` is an astropy Time (without importing astropy.time if unused)."""
    module = sys.modules.get("astropy.time")
    return module is not None and isinstance(value, module.Time)


def to_plain(value: Any, *, quantity_text: bool = False) -> Any:
    """Convert ``value`` into JSON/YAML-safe builtins using the forms above."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(k): to_plain(v, quantity_text=quantity_text) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_plain(v, quantity_text=quantity_text) for v in value]
    if is_quantity(value):
        if quantity_text and value.isscalar:
            return format_quantity(value)
        return {"value": value.value.tolist(), "unit": _unit_text(value.unit)}
    if is_time(value):
        iso = value.isot
        return {_TIME: str(iso) if value.isscalar else iso.tolist(), "scale": value.scale}
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return {_DATETIME: value.isoformat()}
    if isinstance(value, date):
        return {_DATE: value.isoformat()}
    if isinstance(value, PurePath):
        return str(value)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        if isinstance(value, numpy.ndarray):
            return value.tolist()
        if isinstance(value, numpy.generic):
            return value.item()
    if isinstance(value, BaseException):
        return {"error": type(value).__name__, "message": str(value)}
    raise TypeError(f"cannot serialize {type(value).__name__}: {value!r}")


def from_plain(value: Any, *, parse_text: bool = False) -> Any:
    """Inverse of :func:`to_plain`: rebuild Quantities, datetimes and Times.

    With ``parse_text`` strings like ``"30 deg"`` become Quantities too (YAML, config).
    """
    if isinstance(value, dict):
        keys = set(value)
        if keys == {_DATETIME} and isinstance(value[_DATETIME], str):
            return datetime.fromisoformat(value[_DATETIME])
        if keys == {_DATE} and isinstance(value[_DATE], str):
            return date.fromisoformat(value[_DATE])
        if keys == {_TIME, "scale"}:
            from astropy.time import Time

            return Time(value[_TIME], format="isot", scale=value["scale"])
        parsed = parse_value(value) if keys == {"value", "unit"} else value
        if parsed is not value:
            return parsed
        return {k: from_plain(v, parse_text=parse_text) for k, v in value.items()}
    if isinstance(value, list):
        return [from_plain(v, parse_text=parse_text) for v in value]
    return parse_value(value) if parse_text and isinstance(value, str) else value


def _json_default(value: Any) -> Any:
    return to_plain(value)


def to_json(value: Any, **kwargs: Any) -> str:
    """Serialize ``value`` to a JSON string (Quantities, times, numpy included)."""
    return json.dumps(to_plain(value), default=_json_default, **kwargs)


def from_json(text: str | bytes) -> Any:
    """Parse JSON and rebuild Quantities, datetimes and Times."""
    return from_plain(json.loads(text))


def _yaml():  # type: ignore[no-untyped-def]
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[attr-defined]
    return yaml


def to_yaml_plain(value: Any) -> Any:
    """Like to_plain, but keep datetimes native (YAML has timestamps)."""
    if isinstance(value, dict):
        return {str(k): to_yaml_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_yaml_plain(v) for v in value]
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return value
    return to_plain(value, quantity_text=True)


def to_yaml(value: Any) -> str:
    """Serialize ``value`` to YAML text (scalar Quantities as ``"30 deg"``)."""
    stream = io.StringIO()
    _yaml().dump(to_yaml_plain(value), stream)
    return stream.getvalue()


def _aware(value: Any) -> Any:
    """YAML timestamps load as naive UTC datetimes: make them aware."""
    if isinstance(value, dict):
        return {k: _aware(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_aware(v) for v in value]
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def from_yaml(text: str) -> Any:
    """Parse YAML and rebuild Quantities, datetimes (aware, UTC) and Times."""
    return from_plain(_aware(_yaml().load(text)), parse_text=True)
