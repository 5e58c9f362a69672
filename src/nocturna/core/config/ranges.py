"""Allowed ranges of configuration values: ``Annotated[int, within(ge=0, le=1000)]``.

One validator for plain numbers and quantities alike, so every out-of-range value
is refused with the same kind of message: the allowed range, in the unit the key
is documented in (or ``unit``, when the bounds read better in another one). Also
:func:`repeated`, for lists whose entries must have different names.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from pydantic import AfterValidator


def repeated(names: Iterable[str]) -> list[str]:
    """The names that occur more than once, sorted (empty: all differ)."""
    seen: set[str] = set()
    twice: set[str] = set()
    for name in names:
        (twice if name in seen else seen).add(name)
    return sorted(twice)


def _number(value: float) -> str:
    return f"{value:g}"


def describe_range(ge: float | None = None, le: float | None = None, *, gt: float | None = None,
                   lt: float | None = None, unit: str = "") -> str:
    """``from 1 to 16``, ``above 0 s and at most 3600 s``, ``at least 0`` ..."""
    suffix = f" {unit}" if unit else ""
    if ge is not None and le is not None:
        return f"from {_number(ge)} to {_number(le)}{suffix}"
    parts = []
    if ge is not None:
        parts.append(f"at least {_number(ge)}{suffix}")
    if gt is not None:
        parts.append(f"above {_number(gt)}{suffix}")
    if le is not None:
        parts.append(f"at most {_number(le)}{suffix}")
    if lt is not None:
        parts.append(f"below {_number(lt)}{suffix}")
    return " and ".join(parts)


def within(ge: float | None = None, le: float | None = None, *, gt: float | None = None,
           lt: float | None = None, unit: str | None = None) -> AfterValidator:
    """A validator refusing numbers (or Quantities) outside the given bounds.

    Quantities are compared in ``unit`` if given, else in their own (the field's
    documented) unit. NaN is never within range.
    """

    def check(value: Any) -> Any:
        quantity = hasattr(value, "unit") and hasattr(value, "to_value")
        number = float((value.to_value(unit) if unit else value.value) if quantity else value)
        inside = (
            not math.isnan(number)
            and (ge is None or number >= ge) and (gt is None or number > gt)
            and (le is None or number <= le) and (lt is None or number < lt)
        )
        if not inside:
            shown = unit or (value.unit.to_string() if quantity else "")
            raise ValueError("expected a value " + describe_range(ge, le, gt=gt, lt=lt,
                                                                  unit=shown))
        return value

    return AfterValidator(check)
