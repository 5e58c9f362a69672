"""One JSON object per line, as the PANOPTES boards print them: decoding and its errors."""

from __future__ import annotations

import json
import math
from typing import Any

from nocturna.devices.serial.line import SerialProtocolError

MAX_LINE = 4096
"""Longest line a board sends (longer is garbage)."""


def decode_line(raw: bytes, board: str) -> dict[str, Any]:
    """The JSON object on ``raw`` (one line, without its newline), checked to come from a
    board named ``board``; :class:`SerialProtocolError` quoting the line otherwise."""
    if len(raw) > MAX_LINE:
        raise SerialProtocolError(f"{board}: a line of {len(raw)} bytes is too long to be "
                                  f"a reading (began {raw[:60]!r})")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise SerialProtocolError(f"{board}: not a JSON line: {raw!r} ({exc})") from None
    if not isinstance(data, dict):
        raise SerialProtocolError(f"{board}: expected a JSON object, got {raw!r}")
    if data.get("name") != board:
        raise SerialProtocolError(f"{board}: a line from {data.get('name')!r}, not from "
                                  f"{board!r}: {raw!r}")
    return data


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a reading")


def number_field(data: dict[str, Any], key: str, raw: bytes, board: str, *,
                 required: bool = False) -> float | None:
    """Field ``key`` as a finite float (None when absent and not ``required``)."""
    value = data.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value):
        raise SerialProtocolError(f"{board}: {key} is {value!r}, not a number, in {raw!r}")
    return float(value)


def bool_field(data: dict[str, Any], key: str, raw: bytes, board: str) -> bool:
    """Field ``key`` as a bool (0/1 accepted: ArduinoJson may print either)."""
    value = data.get(key)
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise SerialProtocolError(f"{board}: {key} is {value!r}, not true/false, in {raw!r}")
