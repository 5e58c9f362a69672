"""Weather scenarios for the simulated weather station and safety monitor.

A :class:`WeatherScenario` says what the weather is at any instant; its readings
depend only on the clock time, so the station
(:class:`~nocturna.devices.sim.weather.SimObservingConditions`) and the safety monitor
(:class:`~nocturna.devices.sim.safety.SimSafetyMonitor`) agree,
and a night replays identically. Three kinds:

* :class:`ConstantWeather`: the same :class:`Weather` all the time (a clear calm
  night by default);
* :class:`RandomWeather`: smooth, plausible weather from a seed: the same seed gives
  the same readings at the same times, another seed other weather;
* :class:`TimelineWeather`: scripted intervals over a base (constant or random).

Scenario files (YAML), loaded by :func:`load_scenario`::

    timezone: UTC          # optional IANA zone for HH:MM and zone-less times (default UTC)
    night: 2026-12-15      # optional: the evening the night starts (default: from the
                           # scenario start, i.e. the clock time when it is loaded)
    defaults:              # optional: the weather outside every interval
      {clouds: 0, humidity: 40, wind: 3, temperature: 5}
    random: {seed: 42, cloudiness: 0.3, wind_mean: 5}   # optional: random base instead
    timeline:              # optional: intervals, later entries win where they overlap
      - {until: "2026-12-15T23:00Z", sky: clear}
      - {from: "23:30", until: "01:30", clouds: 80}
      - {from: "03:00", rain: 2.0}
    faults:                # optional: faults injected into the simulated unit
      - {kind: freeze, device: mount0, from: "23:00", until: "23:05"}
      - {kind: disconnect, device: foc0, from: "01:00", duration: 600}
      - {kind: exception, device: cam0, from: "02:00"}
      - {kind: slow_readout, device: cam0, from: "03:00", until: "04:00", factor: 5}
      - {kind: disk_full, from: "04:30", duration: 1800}
      - {kind: clock_jump, from: "05:00", seconds: 120}

A file may also be just the list of intervals. Each interval has:

* ``from`` / ``until``: an ISO time (``2026-12-15T23:00Z``; without a zone, in
  ``timezone``) or ``HH:MM`` on the night: 12:00–23:59 on the evening date, 00:00–11:59
  on the next morning. ``from`` defaults to the previous entry's ``until`` (the
  first entry: the beginning of time); ``until`` defaults to the end of time.
  Intervals are half-open: [from, until).
* ``sky``: a preset (``clear``, ``thin``, ``cloudy``, ``overcast``, ``fog``, ``rain``,
  ``storm``; see :data:`PRESETS`);
* values (these keys also make up ``defaults``): ``clouds`` (%), ``rain`` (mm/h),
  ``humidity`` (%), ``wind`` and ``gust`` (m/s), ``wind_direction`` (°),
  ``temperature`` (°C), ``pressure`` (hPa), ``seeing`` (arcsec FWHM).

Inside an interval the weather is: the base ← the preset ← implied values ←
the values given. Implied: rain without clouds given means overcast (100 %) and
humid (95 %); wind without gust means gusts of 1.5 × the wind. Outside every
interval it is the base. Mistakes raise :class:`ConfigError` naming the entry and
the field (``timeline[2].clouds: ...``).

``faults`` (:mod:`nocturna.devices.sim.faults`, which describes every kind): each
entry has a ``kind``, ``from`` (times as above), ``until`` or ``duration`` (seconds)
for faults that last, ``device`` for device faults, and the kind's parameters. The
scenario's :attr:`WeatherScenario.faults` holds them (an empty plan by default);
``build_devices(..., scenario=...)`` installs them on the simulated devices, and
whoever builds the unit starts the plan's unit-wide faults (``disk_full``,
``clock_jump``) with :meth:`~nocturna.devices.sim.faults.FaultPlan.start`.
"""

from __future__ import annotations

import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nocturna.core.clock import Clock
from nocturna.core.dayobs import observing_day
from nocturna.core.errors import ConfigError, InvalidValueError
from nocturna.core.yamlfile import read_yaml
from nocturna.devices.sim import options as opt
from nocturna.devices.sim.focuser import daily_temperature_c
from nocturna.devices.sim.motion import wrap

if TYPE_CHECKING:
    from nocturna.devices.sim.faults import FaultPlan

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Weather:
    """The weather at one instant."""

    cloud_cover_pct: float = 0.0
    rain_rate_mm_h: float = 0.0
    humidity_pct: float = 40.0
    wind_speed_m_s: float = 3.0
    wind_gust_m_s: float = 5.0
    wind_direction_deg: float = 60.0
    temperature_c: float = 5.0
    pressure_hpa: float = 680.0
    seeing_arcsec: float = 1.2

    @property
    def dew_point_c(self) -> float:
        """Dew point (Magnus formula)."""
        a, b = 17.62, 243.12
        gamma = math.log(max(self.humidity_pct, 0.1) / 100.0) + a * self.temperature_c / (
            b + self.temperature_c)
        return b * gamma / (a - gamma)

    @property
    def sky_temperature_c(self) -> float:
        """Infrared sky temperature: ~30 °C below the air when clear, ~5 °C overcast."""
        return self.temperature_c - 30.0 + 25.0 * self.cloud_cover_pct / 100.0


KEYS: dict[str, tuple[str, float, float]] = {
    "clouds": ("cloud_cover_pct", 0.0, 100.0),
    "rain": ("rain_rate_mm_h", 0.0, 500.0),
    "humidity": ("humidity_pct", 0.0, 100.0),
    "wind": ("wind_speed_m_s", 0.0, 100.0),
    "gust": ("wind_gust_m_s", 0.0, 150.0),
    "wind_direction": ("wind_direction_deg", 0.0, 360.0),
    "temperature": ("temperature_c", -80.0, 60.0),
    "pressure": ("pressure_hpa", 300.0, 1100.0),
    "seeing": ("seeing_arcsec", 0.05, 30.0),
}
"""Scenario keys → (Weather field, lowest, highest)."""

PRESETS: dict[str, dict[str, float]] = {
    "clear": {"clouds": 0.0},
    "thin": {"clouds": 25.0},
    "cloudy": {"clouds": 80.0, "humidity": 70.0},
    "overcast": {"clouds": 100.0, "humidity": 85.0},
    "fog": {"clouds": 100.0, "humidity": 100.0, "wind": 1.0, "gust": 2.0},
    "rain": {"clouds": 100.0, "rain": 2.0, "humidity": 95.0},
    "storm": {"clouds": 100.0, "rain": 10.0, "humidity": 98.0, "wind": 15.0, "gust": 25.0},
}
"""Values each ``sky`` preset sets."""


class WeatherScenario(ABC):
    """What the weather is at any instant (a pure function of time)."""

    _faults: FaultPlan | None = None

    @property
    def faults(self) -> FaultPlan:
        """The faults to inject into the simulated unit (an empty plan by default)."""
        if self._faults is None:
            from nocturna.devices.sim.faults import FaultPlan

            self._faults = FaultPlan()
        return self._faults

    @faults.setter
    def faults(self, plan: FaultPlan) -> None:
        self._faults = plan

    @abstractmethod
    def at(self, t: float) -> Weather:
        """The weather at POSIX time ``t``."""

    def describe(self) -> str:
        return type(self).__name__


class ConstantWeather(WeatherScenario):
    """The same weather all the time."""

    def __init__(self, weather: Weather | None = None) -> None:
        self.weather = weather or Weather()

    def at(self, t: float) -> Weather:
        return self.weather

    def describe(self) -> str:
        return "constant weather"


# ------------------------------------------------------------------ random
_MASK = (1 << 64) - 1


def _hash_unit(*parts: int) -> float:
    """A reproducible pseudo-random number in [0, 1) from integers (splitmix64)."""
    z = 0x9E3779B97F4A7C15
    for part in parts:
        z = (z + (part & _MASK) + 0x9E3779B97F4A7C15) & _MASK
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        z ^= z >> 31
    return (z >> 11) / float(1 << 53)


def smooth_noise(seed: int, channel: int, t: float, period_s: float) -> float:
    """Smooth value noise in [0, 1): random knots every ``period_s``, eased in between."""
    u = t / period_s
    k = math.floor(u)
    f = u - k
    s = f * f * (3.0 - 2.0 * f)
    a, b = _hash_unit(seed, channel, k), _hash_unit(seed, channel, k + 1)
    return a + (b - a) * s


class RandomWeather(WeatherScenario):
    """Smooth random weather, reproducible from ``seed``.

    ``cloudiness`` (0..1) sets roughly the fraction of time with clouds; rain comes
    only under thick cloud. Wind averages ``wind_mean_m_s`` with gusts 1.3–1.8 ×
    the wind. Temperature follows the daily curve of
    :func:`~nocturna.devices.sim.focuser.daily_temperature_c` plus ±2 °C of drift.
    """

    def __init__(self, seed: int, *, cloudiness: float = 0.3, wind_mean_m_s: float = 5.0,
                 temperature_mean_c: float = 5.0, temperature_amplitude_c: float = 4.0,
                 pressure_hpa: float = 680.0, longitude_deg: float = -155.58) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise InvalidValueError(f"random weather needs an integer seed, got {seed!r}")
        if not 0.0 <= cloudiness <= 1.0:
            raise InvalidValueError(f"cloudiness {cloudiness!r} is not in 0..1")
        if not wind_mean_m_s >= 0:
            raise InvalidValueError(f"wind_mean_m_s {wind_mean_m_s!r} must be >= 0")
        self.seed = seed
        self.cloudiness = float(cloudiness)
        self.wind_mean_m_s = float(wind_mean_m_s)
        self.temperature_mean_c = float(temperature_mean_c)
        self.temperature_amplitude_c = float(temperature_amplitude_c)
        self.pressure_hpa = float(pressure_hpa)
        self.longitude_deg = float(longitude_deg)

    def _noise(self, channel: int, t: float, period_s: float) -> float:
        return smooth_noise(self.seed, channel, t, period_s)

    def at(self, t: float) -> Weather:
        latent = 0.65 * self._noise(1, t, 3 * 3600.0) + 0.35 * self._noise(2, t, 2400.0)
        threshold = 0.75 - 0.5 * self.cloudiness
        clouds = 100.0 * min(max((latent - threshold) / 0.2, 0.0), 1.0)
        wet = self._noise(3, t, 3600.0)
        rain = 10.0 * (wet - 0.6) if clouds >= 90.0 and wet > 0.6 else 0.0
        humidity = 30.0 + 40.0 * self._noise(4, t, 4 * 3600.0) + 0.25 * clouds
        humidity = min(100.0, humidity + (25.0 if rain > 0 else 0.0))
        wind = 2.0 * self.wind_mean_m_s * (0.75 * self._noise(5, t, 2 * 3600.0)
                                           + 0.25 * self._noise(6, t, 600.0))
        gust = wind * (1.3 + 0.5 * self._noise(7, t, 300.0))
        direction = wrap(60.0 + 120.0 * (self._noise(8, t, 6 * 3600.0) - 0.5), 360.0)
        temperature = daily_temperature_c(
            t, mean_c=self.temperature_mean_c, amplitude_c=self.temperature_amplitude_c,
            longitude_deg=self.longitude_deg) + 4.0 * (self._noise(9, t, 6 * 3600.0) - 0.5)
        pressure = self.pressure_hpa + 4.0 * (self._noise(10, t, 12 * 3600.0) - 0.5)
        seeing = 0.6 + 1.6 * self._noise(11, t, 3600.0)
        return Weather(clouds, rain, humidity, wind, gust, direction, temperature, pressure,
                       seeing)

    def describe(self) -> str:
        return f"random weather (seed {self.seed}, cloudiness {self.cloudiness:g})"


# ---------------------------------------------------------------- timeline
@dataclass(frozen=True)
class Interval:
    """One scripted interval [start, end) and the values it sets."""

    start: float  # POSIX seconds; -inf for the beginning of time
    end: float  # +inf for the end of time
    values: Mapping[str, float]  # Weather field → value

    def contains(self, t: float) -> bool:
        return self.start <= t < self.end


class TimelineWeather(WeatherScenario):
    """Scripted intervals over a base scenario; the last interval containing t wins."""

    def __init__(self, intervals: list[Interval], base: WeatherScenario | None = None) -> None:
        self.intervals = list(intervals)
        self.base = base or ConstantWeather()

    def at(self, t: float) -> Weather:
        weather = self.base.at(t)
        for interval in reversed(self.intervals):
            if interval.contains(t):
                return replace(weather, **interval.values)
        return weather

    def describe(self) -> str:
        return f"timeline of {len(self.intervals)} interval(s) over {self.base.describe()}"


def _weather_values(entry: Mapping[str, Any], where: str, problems: list[str], *,
                    allow_sky: bool) -> dict[str, float]:
    """Field values of one entry (preset, implied values, given values)."""
    given: dict[str, float] = {}
    for key, value in entry.items():
        if key in ("from", "until") or (allow_sky and key == "sky"):
            continue
        if key not in KEYS:
            expected = ", ".join(["from", "until", "sky", *KEYS] if allow_sky else KEYS)
            problems.append(f"{where}.{key}: unknown field (expected one of {expected})")
            continue
        _, low, high = KEYS[key]
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not low <= value <= high:
            problems.append(f"{where}.{key}: expected a number in {low:g}..{high:g}, "
                            f"got {value!r}")
            continue
        given[key] = float(value)
    values: dict[str, float] = {}
    if allow_sky and "sky" in entry:
        preset = PRESETS.get(str(entry["sky"]).lower())
        if preset is None:
            problems.append(f"{where}.sky: expected one of {', '.join(PRESETS)}, "
                            f"got {entry['sky']!r}")
        else:
            values.update(preset)
    if given.get("rain", 0.0) > 0 and "clouds" not in given:
        values.setdefault("clouds", 100.0)
        values["clouds"] = max(values["clouds"], 100.0)
        values.setdefault("humidity", 95.0)
    if "wind" in given and "gust" not in given:
        values["gust"] = max(values.get("gust", 0.0), 1.5 * given["wind"])
    values.update(given)
    if "wind" in values and "gust" in values and values["gust"] < values["wind"]:
        problems.append(f"{where}.gust: gusts ({values['gust']:g} m/s) cannot be below the "
                        f"wind ({values['wind']:g} m/s)")
    return {KEYS[key][0]: value for key, value in values.items()}


class _Times:
    """Turns scenario times (ISO or HH:MM on the night) into POSIX seconds."""

    def __init__(self, zone: tzinfo, night: date | None) -> None:
        self.zone = zone
        self.night = night

    def __call__(self, value: Any, where: str) -> float:
        if isinstance(value, datetime):
            instant = value if value.tzinfo else value.replace(tzinfo=self.zone)
            return instant.timestamp()
        if isinstance(value, date):
            return datetime.combine(value, time(0), self.zone).timestamp()
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValueError(f"{where}: write times as quoted text ('23:00' or an ISO time), "
                             f"got {value!r}")
        if not isinstance(value, str):
            raise ValueError(f"{where}: expected an ISO time or HH:MM, got {value!r}")
        text = value.strip()
        try:
            clock_time = time.fromisoformat(text) if len(text) <= 8 else None
        except ValueError:
            clock_time = None
        if clock_time is not None:
            if self.night is None:
                raise ValueError(f"{where}: {text!r} needs a night: give 'night: YYYY-MM-DD' "
                                 "or load the scenario with a start time")
            zone = clock_time.tzinfo or self.zone
            day = self.night if clock_time.hour >= 12 else self.night + timedelta(days=1)
            return datetime.combine(day, clock_time.replace(tzinfo=None), zone).timestamp()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            instant = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{where}: {value!r} is neither an ISO time such as "
                             "2026-12-15T23:00Z nor HH:MM") from None
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=self.zone)
        return instant.timestamp()


def _night_of(start: datetime, zone: tzinfo) -> date:
    """The evening date of the night containing ``start`` (its observing day)."""
    return observing_day(start, zone)


def _zone(name: Any) -> tzinfo:
    if name in (None, "UTC", "utc", "Z"):
        return UTC
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"timezone: {name!r} is not an IANA time zone such as "
                         "'US/Hawaii'") from None


def scenario_from_data(data: Any, *, start: datetime | None = None,
                       timezone: str | None = None,
                       longitude_deg: float = -155.58) -> WeatherScenario:
    """A scenario from parsed YAML data (see the module docstring for the schema).

    ``start`` (the scenario start) decides the night of ``HH:MM`` times unless the
    data says ``night:``; ``timezone`` is the default for the data's ``timezone:``.
    """
    if isinstance(data, list):
        data = {"timeline": data}
    if not isinstance(data, Mapping):
        raise ConfigError(f"weather scenario: expected a mapping or a list of intervals, "
                          f"got {type(data).__name__}")
    problems: list[str] = []
    unknown = set(data) - {"timezone", "night", "defaults", "random", "timeline", "faults"}
    if unknown:
        problems.append(f"weather scenario: unknown key(s) {', '.join(sorted(unknown))} "
                        "(expected timezone, night, defaults, random, timeline, faults)")
    try:
        zone = _zone(data.get("timezone", timezone))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    night = data.get("night")
    if night is not None and not isinstance(night, date):
        try:
            night = date.fromisoformat(str(night))
        except ValueError:
            problems.append(f"night: expected a date YYYY-MM-DD, got {night!r}")
            night = None
    if isinstance(night, datetime):
        night = night.date()
    if night is None and start is not None:
        night = _night_of(start, zone)
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, Mapping):
        problems.append(f"defaults: expected a mapping, got {defaults!r}")
        defaults = {}
    base_values = _weather_values(defaults, "defaults", problems, allow_sky=False)
    base: WeatherScenario = ConstantWeather(replace(Weather(), **base_values))
    if data.get("random") is not None:
        base = _random_from(data["random"], base_values, longitude_deg, problems)
    from nocturna.devices.sim.faults import faults_from_data

    times = _Times(zone, night)
    intervals = _intervals(data.get("timeline") or [], times, problems)
    faults = faults_from_data(data.get("faults"), times, problems)
    if problems:
        raise ConfigError(problems)
    scenario = TimelineWeather(intervals, base) if intervals else base
    scenario.faults = faults
    return scenario


def _random_from(spec: Any, base_values: Mapping[str, float], longitude_deg: float,
                 problems: list[str]) -> WeatherScenario:
    if not isinstance(spec, Mapping) or "seed" not in spec:
        problems.append(f"random: expected a mapping with at least a seed, got {spec!r}")
        return ConstantWeather()
    allowed = {"seed", "cloudiness", "wind_mean", "temperature_amplitude"}
    for key in set(spec) - allowed:
        problems.append(f"random.{key}: unknown field (expected {', '.join(sorted(allowed))})")
    try:
        return RandomWeather(
            spec["seed"], cloudiness=float(spec.get("cloudiness", 0.3)),
            wind_mean_m_s=float(spec.get("wind_mean", 5.0)),
            temperature_mean_c=base_values.get("temperature_c", Weather.temperature_c),
            temperature_amplitude_c=float(spec.get("temperature_amplitude", 4.0)),
            pressure_hpa=base_values.get("pressure_hpa", Weather.pressure_hpa),
            longitude_deg=longitude_deg)
    except (InvalidValueError, TypeError, ValueError) as exc:
        problems.append(f"random: {exc}")
        return ConstantWeather()


def _intervals(timeline: Any, times: _Times, problems: list[str]) -> list[Interval]:
    if not isinstance(timeline, list):
        problems.append(f"timeline: expected a list of intervals, got {timeline!r}")
        return []
    intervals: list[Interval] = []
    previous_end: float | None = -math.inf
    for index, entry in enumerate(timeline):
        where = f"timeline[{index}]"
        if not isinstance(entry, Mapping):
            problems.append(f"{where}: expected a mapping such as {{from: '23:00', "
                            f"clouds: 80}}, got {entry!r}")
            previous_end = None
            continue
        try:
            if "from" in entry:
                start = times(entry["from"], f"{where}.from")
            elif previous_end is None or previous_end == math.inf:
                raise ValueError(f"{where}.from: required, because the previous entry has "
                                 "no 'until'")
            else:
                start = previous_end
            end = times(entry["until"], f"{where}.until") if "until" in entry else math.inf
        except ValueError as exc:
            problems.append(str(exc))
            previous_end = None
            continue
        if not start < end:
            problems.append(f"{where}: 'from' must be before 'until'")
        values = _weather_values(entry, where, problems, allow_sky=True)
        intervals.append(Interval(start, end, values))
        previous_end = end
    return intervals


def load_scenario(source: str | Path | Mapping[str, Any] | list[Any], *,
                  start: datetime | None = None, timezone: str | None = None,
                  longitude_deg: float = -155.58) -> WeatherScenario:
    """A scenario from a YAML file (path) or from already parsed data."""
    if isinstance(source, str | Path):
        path = Path(source)
        data = read_yaml(path, "weather scenario")
        try:
            scenario = scenario_from_data(data, start=start, timezone=timezone,
                                          longitude_deg=longitude_deg)
        except ConfigError as exc:
            raise ConfigError([f"{path.name}: {p}" for p in exc.problems]) from None
        scenario.faults.source = path.name
        return scenario
    return scenario_from_data(source, start=start, timezone=timezone,
                              longitude_deg=longitude_deg)


def scenario_from_options(options: dict[str, Any], context: Mapping[str, Any],
                          clock: Clock) -> WeatherScenario:
    """The scenario for a weather device: its ``scenario``/``seed`` options, else the
    ``scenario`` object in the factory context (shared), else constant clear weather.
    Pops the options it uses.
    """
    source = options.pop("scenario", None)
    seed = options.pop("seed", None)
    site = context.get("site")
    timezone = getattr(site, "timezone", None)
    longitude = -155.58
    if site is not None:
        import astropy.units as u

        longitude = float(site.longitude.to_value(u.deg))
    if source is not None:
        scenario = load_scenario(source, start=clock.now(), timezone=timezone,
                                 longitude_deg=longitude)
        if len(scenario.faults):
            log.warning("the faults of a device's own scenario (%s) are ignored: give the "
                        "scenario to the unit (build_devices(scenario=...), --weather)",
                        source)
        return scenario
    if seed is not None:
        return RandomWeather(seed, longitude_deg=longitude)
    shared = context.get("scenario")
    if isinstance(shared, WeatherScenario):
        return shared
    return ConstantWeather()


SCENARIO_OPTIONS: dict[str, opt.Converter] = {
    "scenario": opt.anything,
    "seed": opt.integer(),
}
