"""A simulated weather board (kind ``weather_board``): lines of nocturna's weather board
format (:mod:`.weather_line`) read from a :class:`WeatherScenario` at clock time.

It prints a line when the line opens and then every ``interval_s`` clock seconds, so a
night with bad weather in its scenario is bad weather on the board too. The sky
temperature is the scenario's (about 30 °C below the air when clear, 5 °C overcast),
and the rain sensor's frequency is modelled from rain and humidity: about 2700 dry,
2000 with dew (humidity of 95 % or more), below 1700 in rain, lower the harder it
rains. The board takes no commands (input is ignored). From a URL, ``?sky=rain`` (a
preset of :data:`~nocturna.devices.sim.scenario.PRESETS`) gives constant weather.
Faults: ``go_silent`` and ``garble_next`` (a garbled line is still one line).
"""

from __future__ import annotations

from datetime import UTC

from nocturna.core.clock import Clock
from nocturna.core.errors import ConfigError
from nocturna.devices.boards.sim_support import garble_line, number_option
from nocturna.devices.boards.weather_line import WeatherReading, encode_weather
from nocturna.devices.serial.simulator import ProtocolSimulator
from nocturna.devices.sim.scenario import (
    KEYS,
    PRESETS,
    ConstantWeather,
    Weather,
    WeatherScenario,
)

KIND = "weather_board"
DRY_HZ, DEW_HZ, RAIN_HZ = 2700.0, 2000.0, 1700.0
DEW_HUMIDITY_PCT = 95.0


def rain_frequency(weather: Weather) -> float:
    """The rain sensor's frequency for ``weather`` (higher is drier)."""
    if weather.rain_rate_mm_h > 0:
        return max(400.0, RAIN_HZ - 100.0 * weather.rain_rate_mm_h)
    return DEW_HZ if weather.humidity_pct >= DEW_HUMIDITY_PCT else DRY_HZ


def board_reading(weather: Weather) -> WeatherReading:
    """What the board measures of ``weather``."""
    return WeatherReading(
        ambient_temp_c=weather.temperature_c, sky_temp_c=weather.sky_temperature_c,
        wind_speed_m_s=weather.wind_speed_m_s, wind_gust_m_s=weather.wind_gust_m_s,
        rain_frequency=rain_frequency(weather), humidity_pct=weather.humidity_pct,
        pressure_hpa=weather.pressure_hpa)


def preset_weather(sky: str) -> Weather:
    """Constant weather of a ``sky`` preset."""
    values = PRESETS.get(sky)
    if values is None:
        raise ConfigError(f"nocturna-sim://{KIND}: sky {sky!r} is not a preset "
                          f"({', '.join(PRESETS)})")
    return Weather(**{KEYS[key][0]: value for key, value in values.items()})


class WeatherBoardSimulator(ProtocolSimulator):
    """A weather board printing the scenario's weather (see the module docstring)."""

    kind = KIND

    def __init__(self, *, clock: Clock | None = None, scenario: WeatherScenario | None = None,
                 interval_s: float | str = 10.0, sky: str | None = None) -> None:
        super().__init__(clock=clock)
        if scenario is not None and sky is not None:
            raise ConfigError(f"nocturna-sim://{KIND}: give a scenario or a sky, not both")
        self.scenario = scenario or ConstantWeather(
            preset_weather(sky) if sky is not None else None)
        self.interval_s = number_option(KIND, "interval_s", interval_s)

    def line(self) -> bytes:
        """The line the board prints now."""
        now = self.clock.now()
        reading = board_reading(self.scenario.at(now.timestamp()))
        stamp = now.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        return encode_weather(reading, stamp)

    def receive(self, data: bytes) -> None:
        """The board takes no commands."""

    def garbled(self, data: bytes) -> bytes:
        return garble_line(data)

    async def run(self) -> None:
        while True:
            self.send(self.line())
            await self.clock.sleep(self.interval_s)
