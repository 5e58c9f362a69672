"""Parked: closed. Reopen when it is safe and still dark; housekeeping when the night
is over.

Safe means what opening needs: the weather, every component ENABLED and alive, and
free disk space; until then it waits here, checking every safety interval."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nocturna.states.safety import SafetySupervisor

if TYPE_CHECKING:
    from nocturna.observatory.unit import Observatory


def night_over(unit: Observatory) -> bool:
    """Morning, and nothing more can be done before daylight."""
    if not unit.is_morning():
        return False
    sun = unit.sun_altitude()
    if sun >= unit.twilight("flat"):
        return True
    return sun >= unit.twilight("observe") and (
        unit.morning_flats_done or not unit.settings.calibrations.twilight_flats.enabled)


async def on_enter(unit: Observatory) -> tuple[str, str]:
    safety = SafetySupervisor(unit)
    interval = unit.settings.safety.check_interval.to_value("s")
    while True:
        if night_over(unit):
            if unit.nightlog.interrupted is not None:
                unit.nightlog.safe_again(unit.clock.now())
            if unit.housekeeping_done:
                return "housekeeping", "day: housekeeping already done"
            return "housekeeping", "night over"
        weather = await safety.weather()
        if weather:
            unit.nightlog.unsafe(unit.clock.now(), weather)
        reasons = weather + safety.components(None) + safety.disk()
        unit.status.safe, unit.status.reasons = not reasons, reasons
        if not reasons and unit.is_dark("flat"):
            if unit.nightlog.interrupted is not None:
                unit.nightlog.safe_again(unit.clock.now())
            return "ready", "safe and dark: reopening"
        await unit.clock.sleep(interval)
