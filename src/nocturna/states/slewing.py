"""Slewing: point at the current observation's field (the dome follows)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nocturna.observatory.observe import ObservationStopped

if TYPE_CHECKING:
    from nocturna.observatory.unit import Observatory


async def on_enter(unit: Observatory) -> tuple[str, str]:
    try:
        await unit.slew_to_current()
    except ObservationStopped as exc:
        return "scheduling", str(exc)
    if unit.settings.pointing.enabled and unit.pointing_hook is not None:
        return "pointing", "on target: correct the pointing"
    if await unit.autofocus_due() is not None:
        return "focusing", "on target: focus due"
    return "tracking", "on target"
