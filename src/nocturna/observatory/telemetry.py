"""The unit's status as telemetry: where the mount points, the Sun, the state, safety;
and the weather.

Recorded every ``observatory.status_interval`` clock seconds as ``unit.status``
telemetry (and as the current ``unit.status`` record), so a night can be checked
afterwards (the mount never pointed below the horizon, when it closed, …), and as
``weather`` telemetry (the readings and whether they are safe, plotted over the night).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nocturna.observatory.unit import Observatory

log = logging.getLogger(__name__)


async def unit_status(unit: Observatory) -> dict[str, Any]:
    """One status sample."""
    status = unit.status
    data: dict[str, Any] = {"state": status.state, "field": status.field,
                            "sun_alt_deg": round(unit.sun_altitude(), 3), "safe": status.safe}
    if unit.mount is not None:
        mount = await unit.mount.state()
        data.update(mount_alt_deg=round(mount.alt_deg, 4), mount_az_deg=round(mount.az_deg, 4),
                    tracking=mount.tracking, slewing=mount.slewing, at_park=mount.at_park)
    if unit.dome is not None:
        dome = await unit.dome.state()
        data.update(shutter=dome.shutter_status.name.lower(), dome_az_deg=dome.azimuth_deg)
    return data


async def record_unit_status(unit: Observatory) -> None:
    """Record a status sample and a weather sample every status interval, forever
    (cancel to stop)."""
    from nocturna.observatory.weather import read_weather

    interval = unit.settings.status_interval.to_value("s")
    while True:
        try:
            data = await unit_status(unit)
            unit.storage.add_telemetry("unit.status", data, source=unit.name,
                                       time=unit.clock.now(), current=True)
        except Exception as exc:  # telemetry must never stop the night
            log.warning("could not record the unit status: %s", exc)
        if unit.devices.weather or unit.devices.safety_monitors:
            try:
                weather = await read_weather(unit)
                unit.storage.add_telemetry("weather", weather.as_dict(), source=unit.name,
                                           time=unit.clock.now(), current=True)
            except Exception as exc:
                log.warning("could not record the weather: %s", exc)
        await unit.clock.sleep(interval)
