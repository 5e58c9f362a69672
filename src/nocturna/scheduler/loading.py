"""Fields from YAML: a list of entries (or ``{fields: [...]}``).

Each entry::

    - name: M42                       # required, unique
      ra: 05h35m17.3s                 # degrees as a number, or text astropy's Angle reads
      dec: -05d23m28s                 #   ("83.8 deg", "-5.39", "05:35:17.3" needs units)
      # or: position: "05h35m17.3s -05d23m28s" / "83.82 -5.39" (degrees) / "M42"
      priority: 3                     # > 0, default 1
      exptime: 120 s                  # seconds or a quantity; a list: one per filter
      filter: [Ha, OIII]              # a name or a list; sets rotate through them
      min_nexp: 10                    # at least this many frames...
      exp_set_size: 5                 # ...in whole sets of this many

A name in the offline catalogue (:mod:`nocturna.scheduler.catalog`) resolves without
coordinates: ``position: Orion Nebula``, or just ``name: M42``. Mistakes raise
:class:`~nocturna.core.errors.ConfigError` naming the entry and the key
(``fields.yaml: fields[3].priority: must be > 0, got -1``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nocturna.core.errors import ConfigError, InvalidValueError
from nocturna.core.yamlfile import read_yaml
from nocturna.scheduler import catalog
from nocturna.scheduler.fields import Field, FieldValueError

KEYS = ("name", "ra", "dec", "position", "priority", "exptime", "filter", "min_nexp",
        "exp_set_size")
SYNONYMS = {"exptimes": "exptime", "filters": "filter"}
_ATTRIBUTE_KEYS = {"ra_deg": "ra", "dec_deg": "dec", "exptimes_s": "exptime",
                   "filters": "filter", "name": "name", "priority": "priority",
                   "min_nexp": "min_nexp", "exp_set_size": "exp_set_size"}
_NUMBER = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")


class _Problem(Exception):
    """One bad key of an entry (collected, then raised together)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def load_fields(source: str | Path | list[Any] | dict[str, Any]) -> list[Field]:
    """Fields from a YAML file (a path) or from already parsed data."""
    if isinstance(source, str | Path):
        path = Path(source)
        data = read_yaml(path, "fields file")
        try:
            return fields_from_data(data)
        except ConfigError as exc:
            raise ConfigError([f"{path.name}: {p}" for p in exc.problems]) from None
    return fields_from_data(source)


def fields_from_data(data: Any) -> list[Field]:
    """Fields from parsed YAML data (a list of entries or ``{fields: [...]}``)."""
    if isinstance(data, Mapping):
        extra = set(data) - {"fields"}
        if "fields" not in data or extra:
            raise ConfigError("expected a list of fields or a mapping with only a 'fields' "
                              f"list, got keys {', '.join(map(str, data)) or 'none'}")
        data = data["fields"]
    if data is None:
        return []
    if not isinstance(data, list):
        raise ConfigError(f"fields: expected a list of fields, got {type(data).__name__}")
    problems: list[str] = []
    fields: list[Field] = []
    where_of: dict[str, str] = {}
    for index, entry in enumerate(data):
        where = f"fields[{index}]"
        try:
            field = field_from_entry(entry)
        except _Problem as exc:
            problems.append(f"{where}.{exc.key}: {exc}" if exc.key else f"{where}: {exc}")
            continue
        if field.name in where_of:
            problems.append(f"{where}.name: {field.name!r} is already used by "
                            f"{where_of[field.name]}")
            continue
        where_of[field.name] = where
        fields.append(field)
    if problems:
        raise ConfigError(problems)
    return fields


def field_from_entry(entry: Any) -> Field:
    """One field from one parsed entry (raises _Problem naming the bad key)."""
    if not isinstance(entry, Mapping):
        raise _Problem("", f"expected a mapping such as {{name: M42, position: M42}}, "
                           f"got {entry!r}")
    values = dict(entry)
    for plural, singular in SYNONYMS.items():
        if plural in values:
            if singular in values:
                raise _Problem(plural, f"give {singular!r} or {plural!r}, not both")
            values[singular] = values.pop(plural)
    unknown = [str(k) for k in values if k not in KEYS]
    if unknown:
        raise _Problem(unknown[0], f"unknown key (expected {', '.join(KEYS)})")
    name = values.get("name")
    if not isinstance(name, str | int) or isinstance(name, bool) or not str(name).strip():
        raise _Problem("name", f"required: a non-empty name, got {name!r}")
    name = str(name).strip()
    ra_deg, dec_deg = _position(values, name)
    kwargs: dict[str, Any] = {}
    if "priority" in values:
        kwargs["priority"] = values["priority"]
    if "exptime" in values:
        kwargs["exptimes_s"] = _exptimes(values["exptime"])
    if "filter" in values:
        kwargs["filters"] = _filters(values["filter"])
    for key in ("min_nexp", "exp_set_size"):
        if key in values:
            kwargs[key] = values[key]
    try:
        return Field(name, ra_deg, dec_deg, **kwargs)
    except FieldValueError as exc:
        raise _Problem(_ATTRIBUTE_KEYS.get(exc.attribute, exc.attribute), exc.problem) from None


def _position(values: Mapping[str, Any], name: str) -> tuple[float, float]:
    has_ra, has_dec, has_pos = ("ra" in values), ("dec" in values), ("position" in values)
    if has_pos and (has_ra or has_dec):
        raise _Problem("position", "give either position or ra and dec, not both")
    if has_ra != has_dec:
        raise _Problem("dec" if has_ra else "ra", "ra and dec go together: give both")
    if has_ra:
        return _angle(values["ra"], "ra", hours_in_text=True), _angle(values["dec"], "dec")
    if has_pos:
        return _parse_position(values["position"])
    entry = catalog.lookup(name)
    if entry is None:
        raise _Problem("position", f"no position: give ra and dec, or a position (the name "
                                   f"{name!r} is not in the offline catalogue)")
    return entry.ra_deg, entry.dec_deg


def _angle(value: Any, key: str, *, hours_in_text: bool = False) -> float:
    """Degrees from a number or from text astropy's Angle parses."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        if not math.isfinite(number):
            raise _Problem(key, f"expected a finite angle, got {value!r}")
        return number
    if not isinstance(value, str) or not value.strip():
        raise _Problem(key, f"expected degrees or an angle such as '05h35m17.3s', "
                            f"got {value!r}")
    text = value.strip()
    if _NUMBER.match(text):
        return float(text)
    import astropy.units as u
    from astropy.coordinates import Angle

    example = "'05h35m17.3s' or '83.82 deg'" if hours_in_text else "'-05d23m28s' or '-5.39 deg'"
    try:
        return float(Angle(text).to_value(u.deg))
    except (ValueError, TypeError, u.UnitsError):
        raise _Problem(key, f"{value!r} is not an angle: write degrees or {example}") from None


def _parse_position(value: Any) -> tuple[float, float]:
    if not isinstance(value, str) or not value.strip():
        raise _Problem("position", f"expected text such as '05h35m17.3s -05d23m28s', "
                                   f"'83.82 -5.39' or a catalogue name, got {value!r}")
    text = value.strip()
    entry = catalog.lookup(text)
    if entry is not None:
        return entry.ra_deg, entry.dec_deg
    tokens = text.replace(",", " ").split()
    if len(tokens) == 2 and all(_NUMBER.match(t) for t in tokens):
        return float(tokens[0]), float(tokens[1])
    if any(ch.isdigit() for ch in text):
        import astropy.units as u
        from astropy.coordinates import SkyCoord

        try:
            coord = SkyCoord(text, unit=(u.hourangle, u.deg), frame="icrs")
            return float(coord.ra.deg), float(coord.dec.deg)
        except (ValueError, TypeError, u.UnitsError):
            pass
    known = ", ".join(catalog.known_names())
    raise _Problem("position", f"{text!r} is neither coordinates ('05h35m17.3s -05d23m28s', "
                               f"'83.82 -5.39') nor a known name. Positions are resolved "
                               f"offline: give ra and dec, or one of {known}")


def _seconds(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    from nocturna.core.units import is_quantity, parse_value

    parsed = parse_value(value) if isinstance(value, str | dict) else value
    if is_quantity(parsed):
        import astropy.units as u

        try:
            return float(parsed.to_value(u.s))
        except u.UnitConversionError:
            raise _Problem("exptime", f"{value!r} is not a duration") from None
    raise _Problem("exptime", f"expected seconds or a duration such as '120 s', got {value!r}")


def _exptimes(value: Any) -> tuple[float, ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise _Problem("exptime", "expected seconds or a non-empty list")
    return tuple(_seconds(item) for item in items)


def _filters(value: Any) -> tuple[str | None, ...]:
    items = value if isinstance(value, list) else [value]
    result: list[str | None] = []
    for item in items:
        if item is None or isinstance(item, str):
            result.append(item)
        else:
            raise _Problem("filter", f"expected filter names, got {item!r}")
    return tuple(result)


def validate_unique(fields: list[Field]) -> None:
    """Raise InvalidValueError if two fields share a name."""
    seen: set[str] = set()
    for field in fields:
        if field.name in seen:
            raise InvalidValueError(f"two fields are named {field.name!r}")
        seen.add(field.name)
