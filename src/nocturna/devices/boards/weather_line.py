"""The weather board's line: nocturna's own format, not a POCS wire format.

PANOPTES units today read an AAG CloudWatcher through the ``aag`` package and have no
weather board of their own; nocturna defines this one-JSON-object-per-line format for
a board (an Arduino, or a bridge from a CloudWatcher) and borrows the field names and
units of the AAG reading that POCS stores::

    {"name": "weather_board", "ambient_temp": 5.1, "sky_temp": -24.9,
     "wind_speed": 3.0, "wind_gust": 4.5, "rain_frequency": 2700,
     "humidity": 40.0, "pressure": 680.0, "timestamp": "2026-12-15T23:00:00Z"}

``name`` (``"weather_board"``), ``ambient_temp`` and ``sky_temp`` (°C, the infrared
sky temperature) are required; ``wind_speed`` and ``wind_gust`` (m/s),
``rain_frequency`` (the AAG rain sensor's frequency: higher is drier, about 2700 dry),
``humidity`` (%), ``pressure`` (hPa) and ``timestamp`` (ISO 8601, informative only:
the driver dates a reading by its arrival) are optional; other keys are ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from nocturna.devices.boards.lines import decode_line, number_field

BOARD = "weather_board"
FIELDS: dict[str, str] = {
    "ambient_temp": "ambient_temp_c", "sky_temp": "sky_temp_c",
    "wind_speed": "wind_speed_m_s", "wind_gust": "wind_gust_m_s",
    "rain_frequency": "rain_frequency", "humidity": "humidity_pct",
    "pressure": "pressure_hpa",
}
"""Line key → :class:`WeatherReading` field."""
REQUIRED = ("ambient_temp", "sky_temp")


@dataclass(frozen=True)
class WeatherReading:
    """One line of the weather board (None: the board has no such sensor)."""

    ambient_temp_c: float
    sky_temp_c: float
    wind_speed_m_s: float | None = None
    wind_gust_m_s: float | None = None
    rain_frequency: float | None = None
    humidity_pct: float | None = None
    pressure_hpa: float | None = None

    @property
    def sky_delta_c(self) -> float:
        """Sky minus ambient temperature: very negative when clear, near 0 overcast."""
        return self.sky_temp_c - self.ambient_temp_c

    def present(self) -> list[str]:
        """The line keys this reading has."""
        return [key for key, name in FIELDS.items() if getattr(self, name) is not None]


def parse_weather(raw: bytes) -> WeatherReading:
    """A weather board line (without its newline); SerialProtocolError if it is not one."""
    data = decode_line(raw, BOARD)
    values = {name: number_field(data, key, raw, BOARD, required=key in REQUIRED)
              for key, name in FIELDS.items()}
    return WeatherReading(**values)


def encode_weather(reading: WeatherReading, timestamp: str | None = None) -> bytes:
    """The line for ``reading``, with its newline."""
    data: dict[str, object] = {"name": BOARD}
    for key, name in FIELDS.items():
        value = getattr(reading, name)
        if value is not None:
            data[key] = round(value) if key == "rain_frequency" else round(value, 2)
    if timestamp is not None:
        data["timestamp"] = timestamp
    return json.dumps(data, separators=(",", ":")).encode() + b"\n"
