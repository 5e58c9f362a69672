"""Parked: closed. Reopen when it is safe and still dark (and no operator holds the
unit); housekeeping when the night is over or an operator ended it. Calibrations
operators ask for are taken here.

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
    from nocturna.observatory.calibrations import operator_calibrations

    safety = SafetySupervisor(unit)
    requests = unit.operator
    interval = unit.settings.safety.check_interval.to_value("s")
    while True:
        if requests.end_night:
            return "housekeeping", "the night was ended by an operator"
        if night_over(unit):
            if unit.nightlog.interrupted is not None:
                unit.nightlog.safe_again(unit.clock.now())
            if unit.housekeeping_done:
                return "housekeeping", "day: housekeeping already done"
            return "housekeeping", "night over"
        if requests.calibrations:
            await operator_calibrations(unit)
            continue
        weather = await safety.weather()
        if weather:
            unit.nightlog.unsafe(unit.clock.now(), weather)
        components, disk = safety.components(None), safety.disk()
        reasons = weather + components + disk
        unit.note_safety(not reasons, reasons,
                         {"weather": weather, "components": components, "disk": disk})
        if not reasons and unit.is_dark("flat"):
            if unit.nightlog.interrupted is not None:
                unit.nightlog.safe_again(unit.clock.now())
            if requests.hold is None:
                return "ready", "safe and dark: reopening"
            unit.status.field = f"held ({requests.hold}) by {requests.held_by or 'an operator'}"
        await requests.wait(unit.clock, interval)
