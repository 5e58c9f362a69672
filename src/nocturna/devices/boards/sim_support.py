"""What the boards' and the dome's protocol simulators share: options, which arrive as
URL text (``?travel_s=20``) or as numbers (from code), and garbling a line."""

from __future__ import annotations

import math
from typing import Any

from nocturna.core.errors import ConfigError


def number_option(kind: str, key: str, value: Any, *, zero_ok: bool = False) -> float:
    """``value`` as a finite float > 0 (>= 0 if ``zero_ok``); ConfigError naming it."""
    number = value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    if isinstance(number, bool) or not isinstance(number, int | float) \
            or not math.isfinite(number) or number < 0 or (number == 0 and not zero_ok):
        bound = ">= 0" if zero_ok else "> 0"
        raise ConfigError(f"nocturna-sim://{kind}: {key} must be a number {bound}, "
                          f"got {value!r}")
    return float(number)


def garble_line(data: bytes) -> bytes:
    """A line corrupted but still one line: its second half behind a stray control byte
    (so the next line arrives intact)."""
    body = data.rstrip(b"\r\n")
    return b"\x15" + body[len(body) // 2:] + b"\n"
