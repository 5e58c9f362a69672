"""Observing conditions interface (ASCOM IObservingConditionsV2).

Each reading is None when the station has no such sensor (the Alpaca layer answers
"not implemented" for it).
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass

from nocturna.devices.base import Device, Snapshot, command

READINGS = (
    "cloud_cover_pct", "dew_point_c", "humidity_pct", "pressure_hpa", "rain_rate_mm_h",
    "sky_brightness_lux", "sky_quality_mag_arcsec2", "sky_temperature_c", "star_fwhm_arcsec",
    "temperature_c", "wind_direction_deg", "wind_gust_m_s", "wind_speed_m_s",
)


@dataclass(frozen=True)
class ConditionsInfo(Snapshot):
    sensor_descriptions: dict[str, str]  # reading name → sensor description (present only)


@dataclass(frozen=True)
class ConditionsStatus(Snapshot):
    average_period_h: float
    time_since_last_update_s: float
    cloud_cover_pct: float | None = None
    dew_point_c: float | None = None
    humidity_pct: float | None = None
    pressure_hpa: float | None = None
    rain_rate_mm_h: float | None = None
    sky_brightness_lux: float | None = None
    sky_quality_mag_arcsec2: float | None = None
    sky_temperature_c: float | None = None
    star_fwhm_arcsec: float | None = None
    temperature_c: float | None = None
    wind_direction_deg: float | None = None
    wind_gust_m_s: float | None = None
    wind_speed_m_s: float | None = None


class ObservingConditions(Device):
    """A weather station."""

    kind = "observingconditions"
    interface_version = 2

    @abstractmethod
    @command
    async def info(self) -> ConditionsInfo:
        """Which sensors exist."""

    @abstractmethod
    @command
    async def state(self) -> ConditionsStatus:
        """The latest readings."""

    @command(read_only=True)
    async def refresh(self) -> None:
        """Read the sensors now."""

    @command
    async def set_average_period(self, hours: float) -> None:
        raise self.not_implemented("set_average_period")
