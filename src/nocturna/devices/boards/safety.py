"""A safety monitor judging a weather board's readings, with POCS's thresholds.

The entry links its station, ``weather: <name>`` (a ``weather_board`` weather entry);
the device factory hands that station over as ``weather``. The verdict is unsafe when:

* the reading is older than ``stale_s`` (180 s, as POCS), or there is none;
* cloudy: sky minus ambient temperature above ``cloudy_delta_c`` (-25 °C; POCS's
  "cloudy" threshold: anything but "clear" is unsafe);
* windy: wind above ``windy_km_h`` (50 km/h), or gusts above ``gusty_km_h`` (100 km/h)
  (POCS's "windy"/"gusty": anything but "calm" is unsafe);
* wet: the rain sensor's frequency below ``wet_frequency`` (2200: POCS's "wet"; higher
  is drier), so dew counts as well as rain.

A sensor the board lacks is not checked (``info()`` says so). With ``safe_delay_s``
(0 by default; POCS waits 15 minutes) the verdict stays unsafe until it has been
judged safe for that long, as far as this monitor has looked (unsafe moments between
two looks are not seen). The monitor has no line of its own: it reads the station's
latest reading, so it connects whatever the station's state.
"""

from __future__ import annotations

import math
from typing import Any

from nocturna.core.clock import Clock
from nocturna.core.errors import ConfigError, InvalidValueError
from nocturna.core.events import EventBus
from nocturna.devices.boards.weather import WeatherBoard
from nocturna.devices.boards.weather_line import WeatherReading
from nocturna.devices.driver_options import driver_options
from nocturna.devices.safety import SafetyInfo, SafetyMonitor, SafetyStatus

KM_H_PER_M_S = 3.6
THRESHOLDS: dict[str, float] = {
    "cloudy_delta_c": -25.0, "windy_km_h": 50.0, "gusty_km_h": 100.0,
    "wet_frequency": 2200.0, "stale_s": 180.0, "safe_delay_s": 0.0,
}
"""The options and their defaults."""
OPTIONS = frozenset({*THRESHOLDS, "weather", "description", "timeout_s"})


class WeatherBoardSafety(SafetyMonitor):
    """Safe or not, from a :class:`WeatherBoard` (see the module docstring)."""

    driver_name = "weather_board"

    def __init__(self, name: str, *, station: WeatherBoard | None,
                 cloudy_delta_c: float = -25.0, windy_km_h: float = 50.0,
                 gusty_km_h: float = 100.0, wet_frequency: float = 2200.0,
                 stale_s: float = 180.0, safe_delay_s: float = 0.0, description: str = "",
                 timeout_s: float = 10.0, clock: Clock | None = None,
                 events: EventBus | None = None) -> None:
        super().__init__(name, description=description, timeout_s=timeout_s, clock=clock,
                         events=events)
        if not isinstance(station, WeatherBoard):
            raise ConfigError(f"{name}.weather: a weather_board safety monitor needs the name "
                              f"of a weather_board station, got {station!r}")
        values = {"cloudy_delta_c": cloudy_delta_c, "windy_km_h": windy_km_h,
                  "gusty_km_h": gusty_km_h, "wet_frequency": wet_frequency,
                  "stale_s": stale_s, "safe_delay_s": safe_delay_s}
        for key, value in values.items():
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not math.isfinite(value) or (key != "cloudy_delta_c" and value < 0):
                raise InvalidValueError(f"{name}.{key}: expected a number"
                                        f"{'' if key == 'cloudy_delta_c' else ' >= 0'}, "
                                        f"got {value!r}")
        self.station = station
        self.cloudy_delta_c = float(cloudy_delta_c)
        self.windy_km_h = float(windy_km_h)
        self.gusty_km_h = float(gusty_km_h)
        self.wet_frequency = float(wet_frequency)
        self.stale_s = float(stale_s)
        self.safe_delay_s = float(safe_delay_s)
        self._unsafe_at = float("-inf")

    @classmethod
    def from_config(cls, cfg: Any, **context: Any) -> WeatherBoardSafety:
        """Build from a device entry; ``context["weather"]`` is the linked station."""
        extra = dict(getattr(cfg, "model_extra", None) or {})
        delay = {"safe_delay_s": extra.pop("safe_delay_s")} if "safe_delay_s" in extra else {}
        kwargs, problems = driver_options(cfg.name, cls.driver_name, extra, options=OPTIONS,
                                          ignored=(), listed=", ".join(sorted(OPTIONS)))
        if "weather" not in kwargs:
            problems.insert(0, f"{cfg.name}.weather: a weather_board safety monitor needs "
                               "the name of its weather_board station")
        if problems:
            raise ConfigError(problems)
        kwargs.pop("weather")
        kwargs.update(delay)  # may be 0, which driver_options refuses for seconds
        kwargs.update((key, context[key]) for key in ("clock", "events")
                      if context.get(key) is not None)
        return cls(cfg.name, station=context.get("weather"), **kwargs)

    def reasons_for(self, reading: WeatherReading) -> list[str]:
        """Why ``reading`` is unsafe (empty when it is safe)."""
        reasons = []
        if reading.sky_delta_c > self.cloudy_delta_c:
            reasons.append(f"cloudy: sky minus ambient {reading.sky_delta_c:.1f} °C is above "
                           f"{self.cloudy_delta_c:g} °C")
        if reading.wind_speed_m_s is not None \
                and reading.wind_speed_m_s * KM_H_PER_M_S > self.windy_km_h:
            reasons.append(f"windy: {reading.wind_speed_m_s * KM_H_PER_M_S:.0f} km/h is above "
                           f"{self.windy_km_h:g} km/h")
        if reading.wind_gust_m_s is not None \
                and reading.wind_gust_m_s * KM_H_PER_M_S > self.gusty_km_h:
            reasons.append(f"gusty: {reading.wind_gust_m_s * KM_H_PER_M_S:.0f} km/h is above "
                           f"{self.gusty_km_h:g} km/h")
        if reading.rain_frequency is not None and reading.rain_frequency < self.wet_frequency:
            reasons.append(f"wet: rain sensor {reading.rain_frequency:.0f} is below "
                           f"{self.wet_frequency:g}")
        return reasons

    def _reasons(self, t: float) -> list[str]:
        latest = self.station.latest()
        if latest is None:
            return [f"no reading from weather board {self.station.name!r} yet"]
        reading, age = latest
        if age > self.stale_s:
            return [f"the weather data is stale: the last reading of {self.station.name!r} is "
                    f"{age:.0f} s old (limit {self.stale_s:g} s)"]
        reasons = self.reasons_for(reading)
        if reasons:
            self._unsafe_at = t
        elif t - self._unsafe_at < self.safe_delay_s:
            reasons = [f"waiting {self.safe_delay_s:g} s after unsafe weather, "
                       f"{t - self._unsafe_at:.0f} s ago"]
        return reasons

    async def info(self) -> SafetyInfo:
        latest = self.station.latest()
        present = set(latest[0].present()) if latest is not None else set()
        checks = [f"unsafe if the weather data is older than {self.stale_s:g} s",
                  f"unsafe if sky minus ambient is above {self.cloudy_delta_c:g} °C"]
        for key, check in (("wind_speed", f"unsafe if the wind is above {self.windy_km_h:g} "
                                          "km/h"),
                           ("wind_gust", f"unsafe if gusts are above {self.gusty_km_h:g} km/h"),
                           ("rain_frequency", "unsafe if the rain sensor reads below "
                                              f"{self.wet_frequency:g}")):
            checks.append(check if key in present or latest is None
                          else f"not checked (the board has no {key} sensor): {check[10:]}")
        if self.safe_delay_s > 0:
            checks.append(f"safe only after {self.safe_delay_s:g} s of safe readings")
        return SafetyInfo(checks=checks)

    async def state(self) -> SafetyStatus:
        return self.verdict(self._reasons(self.clock.timestamp()))
