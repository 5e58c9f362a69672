"""Quantities with units, as people write them in configuration and on the wire.

``"30 deg"``, ``"1000 m"``, ``"10 s"`` and ``{"value": 42, "unit": "deg"}`` become
astropy Quantities. A string that is not exactly ``<number> <unit>`` with a unit
astropy knows stays a string: we never guess (``"Mauna Loa"``, ``"US/Hawaii"``,
``"5 stars"`` are left alone).

astropy.units is imported on first use, not when this module is imported.
"""

from __future__ import annotations

import re
import sys
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from astropy.units import Quantity, UnitBase

# A plain decimal number, whitespace, then something that starts like a unit.
_QUANTITY_TEXT = re.compile(
    r"^\s*(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s+(?P<unit>[A-Za-z%°µ].*?)\s*$"
)


@lru_cache(maxsize=512)
def parse_unit(text: str) -> UnitBase | None:
    """The astropy unit named by ``text`` or None if astropy does not know it."""
    import astropy.units as u

    try:
        unit = u.Unit(text, parse_strict="raise")
    except (ValueError, TypeError):
        return None
    if isinstance(unit, u.UnrecognizedUnit):
        return None
    return unit


_NUMBER_START = frozenset("0123456789+-. \t")


def parse_quantity_text(text: str) -> Quantity | None:
    """``"30 deg"`` → Quantity; anything else → None."""
    if not text or text[0] not in _NUMBER_START:
        return None
    match = _QUANTITY_TEXT.match(text)
    if match is None:
        return None
    unit = parse_unit(match["unit"])
    if unit is None:
        return None
    return float(match["value"]) * unit


def is_quantity_mapping(value: Any) -> bool:
    """True for ``{"value": <number or list>, "unit": <str>}`` (exactly those keys)."""
    return (
        isinstance(value, dict)
        and set(value) == {"value", "unit"}
        and isinstance(value["unit"], str)
        and isinstance(value["value"], int | float | list)
        and not isinstance(value["value"], bool)
    )


def parse_value(value: Any) -> Any:
    """Turn quantity-like values into Quantities; leave everything else unchanged."""
    if isinstance(value, str):
        quantity = parse_quantity_text(value)
        return value if quantity is None else quantity
    if is_quantity_mapping(value):
        unit = parse_unit(value["unit"])
        if unit is None:
            return value
        import astropy.units as u

        return u.Quantity(value["value"], unit)
    return value


def parse_tree(value: Any) -> Any:
    """:func:`parse_value` applied through nested dicts and lists."""
    if isinstance(value, dict):
        parsed = parse_value(value)
        if parsed is not value:
            return parsed
        return {key: parse_tree(item) for key, item in value.items()}
    if isinstance(value, list):
        return [parse_tree(item) for item in value]
    return parse_value(value)


def format_quantity(quantity: Quantity) -> str:
    """A scalar Quantity as the text people write: ``"30 deg"``."""
    value = quantity.value
    if float(value).is_integer() and abs(value) < 1e15:
        number = str(int(value))
    else:
        number = repr(float(value))
    unit = quantity.unit.to_string()
    return f"{number} {unit}" if unit else number


def is_quantity(value: Any) -> bool:
    """True if ``value`` is an astropy Quantity (without importing astropy if unused)."""
    units = sys.modules.get("astropy.units")
    return units is not None and isinstance(value, units.Quantity)
