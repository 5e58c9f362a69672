"""Paused: an operator's pause holds the unit, tracking off, the dome as it is.

No new work starts; the safety checks still hold (an unsafe verdict parks the unit as
usual). The unit leaves when the pause is resumed (``ready``: it opens up again
through the usual checks), when it must close (an operator park, the end of the night,
calibrations asked for, which run parked) and at morning twilight (the night is over:
it parks and does its housekeeping).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nocturna.observatory.unit import Observatory

log = logging.getLogger(__name__)


async def stop_tracking(unit: Observatory) -> None:
    """Tracking off (a parked mount is left as it is)."""
    mount = unit.mount
    if mount is None:
        return
    status = await mount.state()
    if status.tracking and not status.at_park:
        await mount.set_tracking(False)


async def on_enter(unit: Observatory) -> tuple[str, str]:
    requests = unit.operator
    unit.on_target = None
    unit.status.field = "paused"
    unit.status.frame = None
    await stop_tracking(unit)
    interval = float(unit.settings.safety.check_interval.to_value("s"))
    while True:
        if requests.holds_closed:
            return "parking", "parking asked while paused"
        if requests.hold is None:
            return "ready", "resumed"
        if requests.calibrations:
            return "parking", "calibrations asked for: closing to take them"
        if unit.is_morning() and not unit.is_dark("observe"):
            return "parking", "morning twilight while paused: night over"
        await requests.wait(unit.clock, interval)
