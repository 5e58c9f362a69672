"""INDI weather station client (an INDI device with the weather interface).

Properties: ``WEATHER_PARAMETERS`` (the readings; which elements exist says which
sensors the station has), ``WEATHER_REFRESH`` (``REFRESH``: read the sensors now).
INDI weather drivers name their elements by convention, with the units below; the
elements nocturna reads are the keys of :data:`ELEMENTS` (the simulator has
``WEATHER_TEMPERATURE``, ``WEATHER_WIND_SPEED``, ``WEATHER_WIND_GUST`` and
``WEATHER_RAIN_HOUR``; its ``WEATHER_FORECAST`` has no ASCOM reading). Wind speeds are
in km/h in INDI and m/s in nocturna. ``time_since_last_update_s`` is the age of the
``WEATHER_PARAMETERS`` timestamp the server sent (UTC). The average period is 0 (INDI
stations report instantaneous readings).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from nocturna.devices.conditions import ConditionsInfo, ConditionsStatus, ObservingConditions
from nocturna.devices.indi.device import IndiDevice
from nocturna.devices.indi.properties import Vector

PARAMETERS = "WEATHER_PARAMETERS"
REFRESH = "WEATHER_REFRESH"
KM_H = 1 / 3.6
"""m/s per km/h."""

ELEMENTS: dict[str, tuple[str, float]] = {
    "WEATHER_TEMPERATURE": ("temperature_c", 1.0),
    "WEATHER_HUMIDITY": ("humidity_pct", 1.0),
    "WEATHER_DEWPOINT": ("dew_point_c", 1.0),
    "WEATHER_DEW_POINT": ("dew_point_c", 1.0),
    "WEATHER_PRESSURE": ("pressure_hpa", 1.0),
    "WEATHER_BAROMETER": ("pressure_hpa", 1.0),
    "WEATHER_WIND_SPEED": ("wind_speed_m_s", KM_H),
    "WEATHER_WIND_GUST": ("wind_gust_m_s", KM_H),
    "WEATHER_WIND_DIRECTION": ("wind_direction_deg", 1.0),
    "WEATHER_RAIN_HOUR": ("rain_rate_mm_h", 1.0),
    "WEATHER_RAIN_RATE": ("rain_rate_mm_h", 1.0),
    "WEATHER_CLOUD_COVER": ("cloud_cover_pct", 1.0),
    "WEATHER_SKY_TEMPERATURE": ("sky_temperature_c", 1.0),
    "WEATHER_SKY_BRIGHTNESS": ("sky_brightness_lux", 1.0),
    "WEATHER_SQM": ("sky_quality_mag_arcsec2", 1.0),
}
"""INDI element of ``WEATHER_PARAMETERS`` → (nocturna reading, factor to its unit)."""


def age_s(vector: Vector) -> float:
    """Real seconds since the server stamped ``vector`` (0 without a readable stamp)."""
    try:
        stamp = datetime.fromisoformat(vector.timestamp).replace(tzinfo=UTC)
    except ValueError:
        return 0.0
    return max(0.0, time.time() - stamp.timestamp())


class IndiObservingConditions(IndiDevice, ObservingConditions):
    """A weather station on an INDI server (see the module docstring)."""

    required = ("CONNECTION", PARAMETERS)

    async def _read_info(self) -> ConditionsInfo:
        elements = self.vector(PARAMETERS).elements
        return ConditionsInfo(sensor_descriptions={
            ELEMENTS[name][0]: f"{element.label} ({name})"
            for name, element in elements.items() if name in ELEMENTS})

    async def state(self) -> ConditionsStatus:
        parameters = self.vector(PARAMETERS)
        readings = {ELEMENTS[name][0]: element.value * ELEMENTS[name][1]
                    for name, element in parameters.elements.items() if name in ELEMENTS}
        return ConditionsStatus(average_period_h=0.0,
                                time_since_last_update_s=age_s(parameters), **readings)

    async def refresh(self) -> None:
        """Ask the station to read its sensors; return once the new readings are in."""
        before = self.vector(PARAMETERS).updates
        await self.send(REFRESH, {"REFRESH": True}, wait=True)
        await self.wait_answered(PARAMETERS, before)
