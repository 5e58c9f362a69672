"""Alpaca observing conditions client (ASCOM IObservingConditions over HTTP)."""

from __future__ import annotations

import asyncio
import contextlib

from nocturna.core.errors import NotImplementedByDeviceError
from nocturna.devices.alpaca.device import AlpacaDevice, as_float, optional_float
from nocturna.devices.conditions import ConditionsInfo, ConditionsStatus, ObservingConditions

SENSORS = {
    "cloud_cover_pct": "CloudCover", "dew_point_c": "DewPoint", "humidity_pct": "Humidity",
    "pressure_hpa": "Pressure", "rain_rate_mm_h": "RainRate",
    "sky_brightness_lux": "SkyBrightness", "sky_quality_mag_arcsec2": "SkyQuality",
    "sky_temperature_c": "SkyTemperature", "star_fwhm_arcsec": "StarFWHM",
    "temperature_c": "Temperature", "wind_direction_deg": "WindDirection",
    "wind_gust_m_s": "WindGust", "wind_speed_m_s": "WindSpeed",
}
"""nocturna reading → ASCOM sensor name (its member is the name in lower case)."""


class AlpacaObservingConditions(AlpacaDevice, ObservingConditions):
    """A weather station on an Alpaca server.

    A sensor exists when the server describes it (``sensordescription``) or, for
    servers that do not describe sensors, when its property answers; the state reads
    only the sensors that exist, the others are None.
    """

    alpaca_type = "observingconditions"
    device_state_since = 2

    async def _read_info(self) -> ConditionsInfo:
        found = await asyncio.gather(*(self._describe(sensor) for sensor in SENSORS.values()))
        return ConditionsInfo(sensor_descriptions={
            reading: description for reading, description in zip(SENSORS, found, strict=True)
            if description is not None})

    async def _describe(self, sensor: str) -> str | None:
        try:
            return str(await self._get("sensordescription", SensorName=sensor))
        except NotImplementedByDeviceError:
            pass
        try:
            await self._get(sensor.lower())
        except NotImplementedByDeviceError:
            return None
        return sensor

    async def info(self) -> ConditionsInfo:
        return self._info

    async def state(self) -> ConditionsStatus:
        present = [r for r in SENSORS if r in self._info.sensor_descriptions]
        spec = {"averageperiod": 0.0, **{SENSORS[r].lower(): None for r in present}}
        v, age = await asyncio.gather(self._values(spec, state=True),
                                      self._value("timesincelastupdate", 0.0, SensorName=""))
        return ConditionsStatus(
            average_period_h=as_float(v["averageperiod"]), time_since_last_update_s=as_float(age),
            **{r: optional_float(v[SENSORS[r].lower()]) for r in present},
        )

    async def refresh(self) -> None:
        with contextlib.suppress(NotImplementedByDeviceError):  # optional in ASCOM
            await self._put("refresh")

    async def set_average_period(self, hours: float) -> None:
        await self._put("averageperiod", AveragePeriod=float(hours))
