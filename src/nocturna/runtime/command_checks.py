"""Why an operator's command cannot be done now: each check raises
:class:`~nocturna.core.errors.CommandRefused` with its category, or returns.

``daylight``: the Sun is above the observing twilight. ``unsafe``: the weather (the same
reading the safety supervisor uses). ``fault``: a component in FAULT. ``invalid``: a
target below the horizon, a filter the wheel does not have, no flat panel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nocturna.components import SummaryState
from nocturna.core.errors import CommandRefused
from nocturna.observatory.observe import target_altaz
from nocturna.observatory.weather import read_weather

if TYPE_CHECKING:
    from nocturna.observatory.unit import Observatory


def dark_enough(unit: Observatory) -> None:
    """Refused ``daylight`` unless the Sun is below the observing twilight now."""
    if not unit.is_dark("observe"):
        raise CommandRefused("daylight", f"the Sun is at {unit.sun_altitude():+.1f}°, above "
                                         f"the observing limit {unit.twilight('observe'):+.1f}°")


async def weather_safe(unit: Observatory) -> None:
    """Refused ``unsafe`` while the weather is not safe."""
    reasons = (await read_weather(unit)).reasons
    if reasons:
        raise CommandRefused("unsafe", "; ".join(reasons))


def no_fault(unit: Observatory) -> None:
    """Refused ``fault`` while a component is in FAULT."""
    faults = [f"{c.name} is in FAULT" + (f" ({c.fault_reason})" if c.fault_reason else "")
              for c in unit.components if c.state is SummaryState.FAULT]
    if faults:
        raise CommandRefused("fault", "; ".join(faults))


def above_horizon_now(unit: Observatory, name: str, ra_deg: float, dec_deg: float) -> None:
    """Refused ``invalid`` when the position is below the site's horizon now."""
    alt, az = target_altaz(unit, ra_deg, dec_deg, unit.clock.now())
    if not unit.scheduler.is_above_horizon(alt, az):
        raise CommandRefused("invalid", f"{name} is below the horizon now (alt {alt:.1f}°, "
                                        f"az {az:.1f}°)")


async def known_filter(unit: Observatory, name: str | None) -> None:
    """Refused ``invalid`` for a filter the primary instrument's wheel does not have."""
    if name is None:
        return
    filters = (await unit.instrument.get_available_setup())[0]
    if name not in filters:
        have = ", ".join(filters) if filters else "none: there is no filter wheel"
        raise CommandRefused("invalid", f"no filter {name!r} (filters: {have})")


def has_flat_panel(unit: Observatory) -> None:
    """Refused ``invalid`` for dome flats without a flat panel (cover calibrator)."""
    if not unit.devices.cover_calibrators:
        raise CommandRefused("invalid", "dome flats need a flat panel (a cover calibrator); "
                                        "this unit has none")
