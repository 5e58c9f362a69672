"""Sleeping: daytime. Wait for the evening flat twilight, then get ready."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nocturna.observatory.unit import Observatory


CROSSING_MARGIN_S = 30.0
"""Wake this long after the Sun crosses the flat limit, so the check on entering ready
(the Sun below the limit) is past doubt."""


async def on_enter(unit: Observatory) -> tuple[str, str]:
    flat = unit.twilight("flat")
    now = unit.clock.now()
    if unit.sun_altitude(now) >= flat or (unit.housekeeping_done and unit.is_morning(now)):
        evening = unit.sun.crossing(flat, now, rising=False)
        if evening is None:
            raise RuntimeError(f"the Sun does not set below {flat:+.1f}° in the next two days "
                               "at this site")
        unit.status.field = None
        await unit.clock.sleep_until(evening + timedelta(seconds=CROSSING_MARGIN_S))
    if unit.housekeeping_done:
        unit.new_night()
    return "ready", f"the Sun is at {unit.sun_altitude():+.1f}°, below the flat limit"
