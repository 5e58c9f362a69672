"""Weather board driver: nocturna's weather board line format on a serial port.

The format is ours, not a POCS wire format (PANOPTES reads an AAG CloudWatcher through
the ``aag`` package); it borrows the AAG reading's field names: see
:mod:`.weather_line`. The board prints a line every few seconds on its own.

Covered: every field of the format. The latest good line is kept (:mod:`.reader`);
``state()`` gives it as observing conditions: ``temperature_c`` (ambient_temp),
``sky_temperature_c`` (sky_temp), ``wind_speed_m_s``, ``wind_gust_m_s``,
``humidity_pct``, ``pressure_hpa`` (each None when the board has no such sensor), and
``time_since_last_update_s`` (the reading's age). A reading older than ``stale_s``
makes ``state()`` raise :class:`SerialTimeoutError` (the component goes FAULT). The
rain sensor's frequency and the sky-minus-ambient difference have no ObservingConditions
field: :meth:`WeatherBoard.latest` gives the whole reading, which the safety monitor
(:mod:`.safety`) judges. Not covered: averaging periods (the board does not average;
``set_average_period`` is not implemented) and ``refresh`` (the board prints on its
own: it does nothing).

Connecting waits ``connect_timeout_s`` (5 s by default, within ``timeout_s``) for a good
line: a board that prints less often needs both raised above its interval.
"""

from __future__ import annotations

from typing import Any

from nocturna.devices.boards.reader import LineBoard
from nocturna.devices.boards.weather_line import FIELDS, WeatherReading, parse_weather
from nocturna.devices.conditions import ConditionsInfo, ConditionsStatus, ObservingConditions

CONDITIONS: dict[str, tuple[str, str]] = {
    "ambient_temp": ("temperature_c", "ambient temperature, °C"),
    "sky_temp": ("sky_temperature_c", "infrared sky temperature, °C"),
    "wind_speed": ("wind_speed_m_s", "wind speed, m/s"),
    "wind_gust": ("wind_gust_m_s", "wind gust, m/s"),
    "humidity": ("humidity_pct", "relative humidity, %"),
    "pressure": ("pressure_hpa", "atmospheric pressure, hPa"),
}
"""Line key → (ObservingConditions reading, sensor description)."""


class WeatherBoard(LineBoard[WeatherReading], ObservingConditions):
    """A weather board printing nocturna's weather lines (see the module docstring)."""

    driver_name = "weather_board"
    board = "weather board"
    default_baudrate = 9600
    extra_options = frozenset({"stale_s"})

    def __init__(self, name: str, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self._sensors: list[str] = []

    def parse(self, raw: bytes) -> WeatherReading:
        return parse_weather(raw)

    async def _handshake(self) -> None:
        await super()._handshake()
        latest = self.latest()
        assert latest is not None
        self._sensors = [key for key in latest[0].present() if key in CONDITIONS]

    async def info(self) -> ConditionsInfo:
        return ConditionsInfo(sensor_descriptions={
            CONDITIONS[key][0]: f"weather board {CONDITIONS[key][1]}" for key in self._sensors})

    async def state(self) -> ConditionsStatus:
        reading, age = self.fresh()
        values = {CONDITIONS[key][0]: getattr(reading, FIELDS[key]) for key in CONDITIONS}
        return ConditionsStatus(average_period_h=0.0, time_since_last_update_s=age, **values)

    async def refresh(self) -> None:
        """The board prints on its own: nothing to ask."""
