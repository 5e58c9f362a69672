"""JSON answers: times as ISO 8601 UTC with ``Z``, quantities as text, NaN as null."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from nocturna.core.serialize import to_plain

if TYPE_CHECKING:
    from fastapi.responses import Response


def iso(value: datetime) -> str:
    """``2026-12-15T21:03:00Z`` (microseconds kept when there are any)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def plain(value: Any) -> Any:
    """``value`` as JSON builtins (dataclass records too)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    converted = to_plain(value, quantity_text=True)
    return converted if isinstance(converted, str | int | bool) else plain(converted)


def json_bytes(value: Any) -> bytes:
    return json.dumps(plain(value), separators=(",", ":"), allow_nan=False).encode()


def json_response(value: Any, status: int = 200) -> Response:
    from fastapi.responses import Response

    return Response(json_bytes(value), status, media_type="application/json")
