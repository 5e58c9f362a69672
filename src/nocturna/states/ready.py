"""Ready: open up (unpark, open the dome, open the cover), then flats or scheduling."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nocturna.observatory.unit import Observatory


def flats_due(unit: Observatory) -> bool:
    """Whether this twilight's sky flats are still to take and their window is open
    (or, in the evening, still to come)."""
    if not unit.settings.calibrations.twilight_flats.enabled:
        return False
    sun = unit.sun_altitude()
    if unit.is_morning():
        return not unit.morning_flats_done and unit.twilight("observe") <= sun \
            < unit.twilight("flat")
    return not unit.evening_flats_done and sun >= unit.twilight("observe")


async def on_enter(unit: Observatory) -> tuple[str, str]:
    await unit.open_up()
    if flats_due(unit):
        return "flats", "twilight: time for sky flats"
    return "scheduling", "open"
