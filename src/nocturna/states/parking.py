"""Parking: stop, park the mount and close the dome and cover."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nocturna.observatory.unit import Observatory


async def on_enter(unit: Observatory) -> tuple[str, str]:
    unit.status.field = None
    unit.status.frame = None
    await unit.park_and_close()
    return "parked", "parked and closed"
