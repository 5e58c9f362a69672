"""Pydantic field types for physical quantities in configuration.

``Angle``, ``Length``, ``Duration``, ``Temperature``... accept an astropy Quantity
in a compatible unit, a ``"30 deg"`` string, ``{"value": 30, "unit": "deg"}``, or a
plain number taken in the documented unit. They hold an astropy Quantity and
serialise (JSON mode) back to ``"30 deg"`` text.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

from nocturna.core.config.ranges import describe_range
from nocturna.core.units import format_quantity, is_quantity, parse_unit, parse_value


def _make_validator(unit: str, kind: str, ge: float | None, le: float | None):  # type: ignore[no-untyped-def]
    example = f"'{ge if ge is not None and ge > 0 else 30:g} {unit}'"
    expected = f"expected {kind} (a number in {unit} or text such as {example})"

    def validate(value: Any) -> Any:
        import astropy.units as u

        target = parse_unit(unit)
        if isinstance(value, bool):
            raise ValueError(expected)
        if isinstance(value, int | float):
            quantity = float(value) * target
        else:
            parsed = parse_value(value) if not is_quantity(value) else value
            if not is_quantity(parsed):
                raise ValueError(expected)
            try:
                quantity = parsed if parsed.unit is target else parsed.to(target)
            except u.UnitConversionError:
                raise ValueError(f"{expected}; {parsed.unit} is not a unit of {kind}") from None
            if not quantity.isscalar:
                raise ValueError(f"{expected}; got an array")
        number = float(quantity.value)
        if (ge is not None and not number >= ge) or (le is not None and not number <= le):
            raise ValueError(f"expected {kind} {describe_range(ge, le, unit=unit)}")
        return quantity

    return validate


def quantity_type(unit: str, kind: str, ge: float | None = None, le: float | None = None):  # type: ignore[no-untyped-def]
    """An annotated pydantic type for a scalar quantity in ``unit``."""
    return Annotated[
        Any,
        PlainValidator(_make_validator(unit, kind, ge, le)),
        PlainSerializer(format_quantity, when_used="json"),
        WithJsonSchema({"type": "string", "description": f"{kind} in {unit}, e.g. '30 {unit}'"}),
    ]


Angle = quantity_type("deg", "an angle")
Latitude = quantity_type("deg", "a latitude", -90, 90)
Longitude = quantity_type("deg", "a longitude", -180, 360)
Altitude = quantity_type("deg", "an altitude", -90, 90)
Length = quantity_type("m", "a length")
Duration = quantity_type("s", "a duration", 0)
