"""Simulated safety monitor: a verdict on a weather scenario, with reasons.

Unsafe when it rains (rate above ``max_rain_rate_mm_h``, 0 by default: any rain),
or when cloud cover, wind, gusts or humidity are above their limits. With
``safe_delay_s`` the verdict also stays unsafe until conditions have been safe for
that long (sampled every minute at most), so a passing gap in the clouds does not
open the dome. The verdict depends only on the clock time and the scenario, which
can be shared with :class:`~nocturna.devices.sim.weather.SimObservingConditions`
(``from_config`` takes the scenario of the ``weather`` station in its context).
"""

from __future__ import annotations

import math
from typing import Any

from nocturna.core.clock import Clock, get_clock
from nocturna.core.errors import InvalidValueError
from nocturna.core.events import EventBus
from nocturna.devices.safety import SafetyInfo, SafetyMonitor, SafetyStatus
from nocturna.devices.sim import options as opt
from nocturna.devices.sim.scenario import (
    SCENARIO_OPTIONS,
    ConstantWeather,
    Weather,
    WeatherScenario,
    scenario_from_options,
)

_MAX_DELAY_STEP_S = 60.0


class SimSafetyMonitor(SafetyMonitor):
    """A simulated safety monitor; see the module docstring."""

    driver_name = "sim"

    def __init__(
        self,
        name: str = "safety",
        *,
        scenario: WeatherScenario | None = None,
        max_cloud_cover_pct: float = 50.0,
        max_rain_rate_mm_h: float = 0.0,
        max_wind_m_s: float = 12.0,
        max_gust_m_s: float = 18.0,
        max_humidity_pct: float = 90.0,
        safe_delay_s: float = 0.0,
        description: str = "",
        timeout_s: float = 10.0,
        clock: Clock | None = None,
        events: EventBus | None = None,
    ) -> None:
        super().__init__(name, description=description, timeout_s=timeout_s, clock=clock,
                         events=events)
        limits = {"max_cloud_cover_pct": max_cloud_cover_pct,
                  "max_rain_rate_mm_h": max_rain_rate_mm_h, "max_wind_m_s": max_wind_m_s,
                  "max_gust_m_s": max_gust_m_s, "max_humidity_pct": max_humidity_pct,
                  "safe_delay_s": safe_delay_s}
        for key, value in limits.items():
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not value >= 0 or not math.isfinite(value):
                raise InvalidValueError(f"{name}: {key} must be a number >= 0, got {value!r}")
        self.scenario = scenario or ConstantWeather()
        self.max_cloud_cover_pct = float(max_cloud_cover_pct)
        self.max_rain_rate_mm_h = float(max_rain_rate_mm_h)
        self.max_wind_m_s = float(max_wind_m_s)
        self.max_gust_m_s = float(max_gust_m_s)
        self.max_humidity_pct = float(max_humidity_pct)
        self.safe_delay_s = float(safe_delay_s)

    @classmethod
    def from_config(cls, cfg: Any, **context: Any) -> SimSafetyMonitor:
        """Build from a device entry; ``context`` may hold ``clock``, ``events``, ``site``,
        the ``weather`` station to judge (a simulated one lends its scenario) or a
        shared ``scenario``.

        Options: ``scenario`` (a YAML file path or inline data) or ``seed`` (random
        weather), which take precedence over the station's; ``weather`` (the station's
        name, resolved by the device factory); the limits ``max_cloud_cover_pct``,
        ``max_rain_rate_mm_h``, ``max_wind_m_s``, ``max_gust_m_s``,
        ``max_humidity_pct`` and ``safe_delay_s``.
        """
        station_scenario = getattr(context.get("weather"), "scenario", None)
        if isinstance(station_scenario, WeatherScenario):
            context = {**context, "scenario": station_scenario}
        spec = {**SCENARIO_OPTIONS,
                "weather": opt.text,
                "max_cloud_cover_pct": opt.number(ge=0),
                "max_rain_rate_mm_h": opt.number("mm/h", ge=0),
                "max_wind_m_s": opt.number("m/s", ge=0),
                "max_gust_m_s": opt.number("m/s", ge=0),
                "max_humidity_pct": opt.number(ge=0),
                "safe_delay_s": opt.number("s", ge=0)}
        kwargs = opt.driver_options(cfg, spec)
        kwargs.pop("weather", None)
        device = opt.device_context(context)
        scenario = scenario_from_options(kwargs, context, device.get("clock") or get_clock())
        return cls(cfg.name, scenario=scenario, **kwargs, **device)

    def reasons_for(self, weather: Weather) -> list[str]:
        """Why ``weather`` is unsafe (empty when it is safe)."""
        reasons = []
        if weather.rain_rate_mm_h > self.max_rain_rate_mm_h:
            reasons.append(f"raining ({weather.rain_rate_mm_h:.1f} mm/h)")
        if weather.cloud_cover_pct > self.max_cloud_cover_pct:
            reasons.append(f"cloud cover {weather.cloud_cover_pct:.0f} % is above "
                           f"{self.max_cloud_cover_pct:g} %")
        if weather.wind_speed_m_s > self.max_wind_m_s:
            reasons.append(f"wind {weather.wind_speed_m_s:.1f} m/s is above "
                           f"{self.max_wind_m_s:g} m/s")
        if weather.wind_gust_m_s > self.max_gust_m_s:
            reasons.append(f"gusts {weather.wind_gust_m_s:.1f} m/s are above "
                           f"{self.max_gust_m_s:g} m/s")
        if weather.humidity_pct > self.max_humidity_pct:
            reasons.append(f"humidity {weather.humidity_pct:.0f} % is above "
                           f"{self.max_humidity_pct:g} %")
        return reasons

    def reasons_at(self, t: float) -> list[str]:
        """Why it is unsafe at POSIX time ``t``, including the safe delay."""
        reasons = self.reasons_for(self.scenario.at(t))
        if reasons or self.safe_delay_s <= 0:
            return reasons
        steps = max(1, math.ceil(self.safe_delay_s / _MAX_DELAY_STEP_S))
        step = self.safe_delay_s / steps
        for i in range(1, steps + 1):
            earlier = self.reasons_for(self.scenario.at(t - i * step))
            if earlier:
                return [f"waiting {self.safe_delay_s:g} s after unsafe conditions "
                        f"({'; '.join(earlier)}) {i * step:g} s ago"]
        return []

    async def info(self) -> SafetyInfo:
        checks = [
            f"rain rate above {self.max_rain_rate_mm_h:g} mm/h",
            f"cloud cover above {self.max_cloud_cover_pct:g} %",
            f"wind above {self.max_wind_m_s:g} m/s",
            f"gusts above {self.max_gust_m_s:g} m/s",
            f"humidity above {self.max_humidity_pct:g} %",
        ]
        if self.safe_delay_s > 0:
            checks.append(f"safe for at least {self.safe_delay_s:g} s")
        return SafetyInfo(checks=[f"unsafe if {c}" if not c.startswith("safe") else c
                                  for c in checks])

    async def state(self) -> SafetyStatus:
        return self.verdict(self.reasons_at(self.clock.timestamp()))
