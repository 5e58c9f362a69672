"""azcam argument values: flags, integers, numbers and text, checked once for every tool.

The command server converts a request's text tokens by the method's type hints
(:mod:`nocturna.azcam.dispatch`); the same values also arrive as text through
``set_par`` and from Python callers. These functions accept both, and refuse anything
else with an :class:`InvalidValueError` naming what was wrong.
"""

from __future__ import annotations

import math
from typing import Any

from nocturna.core.errors import InvalidValueError

TRUE = frozenset({"1", "true", "yes", "on", "t", "y"})
FALSE = frozenset({"0", "false", "no", "off", "f", "n"})
"""The texts of an azcam flag (any case)."""


def flag(value: Any, what: str) -> bool:
    """A flag given as a bool, 0/1 or its text (:data:`TRUE`, :data:`FALSE`)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in TRUE or text in FALSE:
            return text in TRUE
    raise InvalidValueError(f"{what} must be a flag (0/1, true/false), got {value!r}")


def integer(value: Any, what: str, low: int, high: int | None = None) -> int:
    """An integer in ``low..high`` (``high`` None: no upper bound), or its text."""
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise InvalidValueError(f"{what} must be an integer, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int) or value < low or \
            (high is not None and value > high):
        bound = f"{low}..{high}" if high is not None else f">= {low}"
        raise InvalidValueError(f"{what} must be an integer {bound}, got {value!r}")
    return value


def number(value: Any, what: str) -> float:
    """A finite number, or its text."""
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise InvalidValueError(f"{what} must be a number, got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(result):
        raise InvalidValueError(f"{what} must be a finite number, got {value!r}")
    return result


def text(value: Any, what: str) -> str:
    """Text without surrounding blanks or quotes (azcam clients quote titles)."""
    if not isinstance(value, str):
        raise InvalidValueError(f"{what} must be text, got {value!r}")
    return value.strip().strip('"').strip("'")
