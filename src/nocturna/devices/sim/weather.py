"""Simulated weather station, reading a weather scenario.

The scenarios (constant, random from a seed, scripted timelines from YAML; the
schema is in :mod:`nocturna.devices.sim.scenario`) are re-exported here, with the
safety monitor that judges them (:class:`~nocturna.devices.sim.safety.SimSafetyMonitor`),
so that ``nocturna.devices.sim.weather`` offers the whole weather simulation.
"""

from __future__ import annotations

import math
from typing import Any

from nocturna.core.clock import Clock, get_clock
from nocturna.core.errors import InvalidValueError
from nocturna.core.events import EventBus
from nocturna.devices.conditions import ConditionsInfo, ConditionsStatus, ObservingConditions
from nocturna.devices.sim import options as opt
from nocturna.devices.sim.motion import wrap
from nocturna.devices.sim.safety import SimSafetyMonitor
from nocturna.devices.sim.scenario import (
    KEYS,
    PRESETS,
    SCENARIO_OPTIONS,
    ConstantWeather,
    Interval,
    RandomWeather,
    TimelineWeather,
    Weather,
    WeatherScenario,
    load_scenario,
    scenario_from_data,
    scenario_from_options,
    smooth_noise,
)

__all__ = [
    "KEYS", "PRESETS", "SENSORS", "ConstantWeather", "Interval", "RandomWeather",
    "SimObservingConditions", "SimSafetyMonitor", "TimelineWeather", "Weather",
    "WeatherScenario", "load_scenario", "scenario_from_data", "scenario_from_options",
    "smooth_noise",
]

# ----------------------------------------------------------------- station
SENSORS: dict[str, str] = {
    "cloud_cover_pct": "cloud cover, %",
    "dew_point_c": "dew point, °C",
    "humidity_pct": "relative humidity, %",
    "pressure_hpa": "atmospheric pressure, hPa",
    "rain_rate_mm_h": "rain rate, mm/h",
    "sky_temperature_c": "infrared sky temperature, °C",
    "star_fwhm_arcsec": "seeing, star FWHM in arcsec",
    "temperature_c": "air temperature, °C",
    "wind_direction_deg": "wind direction (from, N through E), °",
    "wind_gust_m_s": "wind gust, m/s",
    "wind_speed_m_s": "wind speed, m/s",
}
"""The sensors a simulated station can have (sky brightness and quality are absent)."""

_AVERAGE_SAMPLES = 13


def _readings(weather: Weather) -> dict[str, float]:
    return {
        "cloud_cover_pct": weather.cloud_cover_pct,
        "dew_point_c": weather.dew_point_c,
        "humidity_pct": weather.humidity_pct,
        "pressure_hpa": weather.pressure_hpa,
        "rain_rate_mm_h": weather.rain_rate_mm_h,
        "sky_temperature_c": weather.sky_temperature_c,
        "star_fwhm_arcsec": weather.seeing_arcsec,
        "temperature_c": weather.temperature_c,
        "wind_direction_deg": weather.wind_direction_deg,
        "wind_gust_m_s": weather.wind_gust_m_s,
        "wind_speed_m_s": weather.wind_speed_m_s,
    }


def _average(samples: list[dict[str, float]]) -> dict[str, float]:
    result = {key: sum(s[key] for s in samples) / len(samples) for key in samples[0]}
    x = sum(math.cos(math.radians(s["wind_direction_deg"])) for s in samples)
    y = sum(math.sin(math.radians(s["wind_direction_deg"])) for s in samples)
    result["wind_direction_deg"] = wrap(math.degrees(math.atan2(y, x)), 360.0)
    result["wind_gust_m_s"] = max(s["wind_gust_m_s"] for s in samples)  # peak gust
    return result


class SimObservingConditions(ObservingConditions):
    """A simulated weather station reading a :class:`WeatherScenario`.

    The station updates every ``update_interval_s`` (on multiples of it, in clock
    time) or on :meth:`refresh`; with an averaging period the readings are means over
    that period before the update (the wind direction a circular mean, the gust the
    peak).
    """

    driver_name = "sim"

    def __init__(
        self,
        name: str = "weather",
        *,
        scenario: WeatherScenario | None = None,
        update_interval_s: float = 30.0,
        average_period_h: float = 0.0,
        sensors: list[str] | None = None,
        description: str = "",
        timeout_s: float = 10.0,
        clock: Clock | None = None,
        events: EventBus | None = None,
    ) -> None:
        super().__init__(name, description=description, timeout_s=timeout_s, clock=clock,
                         events=events)
        if not update_interval_s >= 0:
            raise InvalidValueError(f"{name}: update_interval_s must be >= 0")
        self._check_period(average_period_h)
        chosen = list(SENSORS) if sensors is None else list(sensors)
        unknown = [s for s in chosen if s not in SENSORS]
        if unknown:
            raise InvalidValueError(f"{name}: unknown sensor(s) {unknown}; known: "
                                    f"{', '.join(SENSORS)}")
        self.scenario = scenario or ConstantWeather()
        self.update_interval_s = float(update_interval_s)
        self.sensors = chosen
        self._average_h = float(average_period_h)
        self._refreshed = -math.inf

    @classmethod
    def from_config(cls, cfg: Any, **context: Any) -> SimObservingConditions:
        """Build from a device entry; ``context`` may hold ``clock``, ``events``, ``site``
        and a shared ``scenario``.

        Options: ``scenario`` (a YAML file path or inline scenario data), ``seed``
        (random weather), ``update_interval_s``, ``average_period_h``, ``sensors``.
        """
        spec = {**SCENARIO_OPTIONS,
                "update_interval_s": opt.number("s", ge=0),
                "average_period_h": opt.number("h", ge=0, le=24),
                "sensors": opt.list_of(opt.text)}
        kwargs = opt.driver_options(cfg, spec)
        device = opt.device_context(context)
        scenario = scenario_from_options(kwargs, context, device.get("clock") or get_clock())
        return cls(cfg.name, scenario=scenario, **kwargs, **device)

    @staticmethod
    def _check_period(hours: float) -> None:
        if isinstance(hours, bool) or not isinstance(hours, int | float) \
                or not 0 <= hours <= 24:
            raise InvalidValueError(f"average period {hours!r} h is not in 0..24")

    def _last_update(self, t: float) -> float:
        scheduled = (t if self.update_interval_s == 0
                     else math.floor(t / self.update_interval_s) * self.update_interval_s)
        return max(scheduled, self._refreshed)

    def readings_at(self, t: float) -> dict[str, float]:
        """Every reading the scenario gives at ``t`` (averaged over the period)."""
        period_s = self._average_h * 3600.0
        if period_s <= 0:
            return _readings(self.scenario.at(t))
        step = period_s / (_AVERAGE_SAMPLES - 1)
        return _average([_readings(self.scenario.at(t - i * step))
                         for i in range(_AVERAGE_SAMPLES)])

    async def info(self) -> ConditionsInfo:
        return ConditionsInfo(sensor_descriptions={
            s: f"simulated {SENSORS[s]} ({self.scenario.describe()})" for s in self.sensors})

    async def state(self) -> ConditionsStatus:
        t = self.clock.timestamp()
        updated = self._last_update(t)
        readings = self.readings_at(updated)
        return ConditionsStatus(
            average_period_h=self._average_h,
            time_since_last_update_s=t - updated,
            **{s: readings[s] for s in self.sensors},
        )

    async def refresh(self) -> None:
        self._refreshed = self.clock.timestamp()

    async def set_average_period(self, hours: float) -> None:
        self._check_period(hours)
        self._average_h = float(hours)

