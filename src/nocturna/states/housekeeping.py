"""Housekeeping: closed, morning. Bias, darks and dome flats, then sleep."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nocturna.observatory.unit import Observatory


async def on_enter(unit: Observatory) -> tuple[str, str]:
    from nocturna.observatory.observe import close_open_observations

    close_open_observations(unit)  # the night is over
    if unit.housekeeping_done:
        return "sleeping", "calibrations already taken"
    unit.status.field = "calibrations"
    try:
        taken = await unit.housekeeping()
    finally:
        unit.housekeeping_done = True
        unit.status.field = None
    return "sleeping", f"{taken} calibration frames"
