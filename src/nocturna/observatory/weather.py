"""The weather now: the readings of the unit's stations and whether it is safe.

:func:`read_weather` reads every safety monitor and weather station once and gives
both what the status board and the ``weather`` telemetry show (temperature, humidity,
wind, clouds, rain, sky temperature) and the reasons it is unsafe, which the safety
supervisor's weather check is. A device that cannot be read counts as unsafe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nocturna.observatory.unit import Observatory

READINGS = {"temperature_c": "temperature_c", "humidity_pct": "humidity_pct",
            "wind_m_s": "wind_speed_m_s", "cloud_cover_pct": "cloud_cover_pct",
            "rain_rate_mm_h": "rain_rate_mm_h", "sky_temperature_c": "sky_temperature_c"}
"""The readings shown, and the station's name for each."""


@dataclass
class WeatherNow:
    """One look at the weather: readings (None where no station has them) and why it is
    unsafe (empty: safe)."""

    readings: dict[str, float | None] = field(
        default_factory=lambda: dict.fromkeys(READINGS))
    reasons: list[str] = field(default_factory=list)

    @property
    def safe(self) -> bool:
        return not self.reasons

    def as_dict(self) -> dict[str, Any]:
        return {**self.readings, "safe": self.safe}


async def read_weather(unit: Observatory) -> WeatherNow:
    """Read every safety monitor and weather station (see the module docstring)."""
    devices = unit.devices
    now = WeatherNow()
    if not devices.safety_monitors and not devices.weather:
        now.reasons.append("no safety monitor or weather station: cannot tell if it is safe")
        return now
    for monitor in devices.safety_monitors.values():
        try:
            status = await monitor.state()
        except Exception as exc:
            now.reasons.append(f"safety monitor {monitor.name} cannot be read ({exc})")
            continue
        if not status.is_safe:
            why = "; ".join(status.reasons) or "reports unsafe"
            now.reasons.append(f"{monitor.name}: {why}")
    limits = unit.settings.safety
    for station in devices.weather.values():
        try:
            status = await station.state()
        except Exception as exc:
            now.reasons.append(f"weather station {station.name} cannot be read ({exc})")
            continue
        for key, name in READINGS.items():
            if now.readings[key] is None:
                now.readings[key] = getattr(status, name, None)
        rain, wind = status.rain_rate_mm_h, status.wind_speed_m_s
        if rain is not None and rain > limits.max_rain_rate_mm_h:
            now.reasons.append(f"{station.name}: rain {rain:.1f} mm/h")
        if wind is not None and wind > limits.max_wind_m_s:
            now.reasons.append(f"{station.name}: wind {wind:.1f} m/s is above "
                               f"{limits.max_wind_m_s:g} m/s")
    return now
