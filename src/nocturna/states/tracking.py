"""Tracking: make sure the mount tracks the field, then observe."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nocturna.observatory.unit import Observatory


async def on_enter(unit: Observatory) -> tuple[str, str]:
    mount = unit.mount
    if mount is not None and not (await mount.state()).tracking:
        await mount.set_tracking(True)
    if unit.current is not None:
        unit.on_target = unit.current.field.name
    return "observing", "tracking"
