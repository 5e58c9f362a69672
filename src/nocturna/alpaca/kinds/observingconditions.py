"""Alpaca ``observingconditions`` members over
:class:`~nocturna.devices.conditions.ObservingConditions` (IObservingConditionsV2).

A reading the station has no sensor for answers "not implemented", and so do its
``SensorDescription`` and ``TimeSinceLastUpdate``. ``SensorName`` is matched without
regard to case (as ASCOM's own drivers do); a name that is no ASCOM sensor property
answers "invalid value", and the empty name asks ``TimeSinceLastUpdate`` for the
latest update of any sensor. ``AveragePeriod`` must be >= 0; a station that does not
average accepts 0 and calls any other period an invalid value.
"""

from __future__ import annotations

import math
from typing import Any

from nocturna.alpaca.kinds.base import Args, Table
from nocturna.core.errors import InvalidValueError, NotImplementedByDeviceError
from nocturna.devices.conditions import ConditionsStatus, ObservingConditions

SENSORS: dict[str, str] = {
    "CloudCover": "cloud_cover_pct",
    "DewPoint": "dew_point_c",
    "Humidity": "humidity_pct",
    "Pressure": "pressure_hpa",
    "RainRate": "rain_rate_mm_h",
    "SkyBrightness": "sky_brightness_lux",
    "SkyQuality": "sky_quality_mag_arcsec2",
    "SkyTemperature": "sky_temperature_c",
    "StarFWHM": "star_fwhm_arcsec",
    "Temperature": "temperature_c",
    "WindDirection": "wind_direction_deg",
    "WindGust": "wind_gust_m_s",
    "WindSpeed": "wind_speed_m_s",
}
"""ASCOM sensor property → the :class:`ConditionsStatus` field holding its reading."""

_BY_LOWER = {name.lower(): name for name in SENSORS}

table = Table()


def _sensor(args: Args) -> str:
    """The ASCOM property ``SensorName`` names ("" stays "")."""
    wanted = str(args["SensorName"]).strip()
    if not wanted:
        return ""
    name = _BY_LOWER.get(wanted.lower())
    if name is None:
        raise InvalidValueError(f"{wanted!r} is not an ObservingConditions sensor name "
                                f"(one of {', '.join(SENSORS)})")
    return name


def _missing(device: ObservingConditions, name: str) -> NotImplementedByDeviceError:
    return NotImplementedByDeviceError(
        f"observing conditions {device.name!r} has no {name} sensor")


def _reading(device: ObservingConditions, state: ConditionsStatus, name: str) -> float:
    value = getattr(state, SENSORS[name])
    if value is None:
        raise _missing(device, name)
    return float(value)


def _register_reading(name: str) -> None:
    async def read(device: ObservingConditions, args: Args) -> float:
        return _reading(device, await device.state(), name)

    read.__name__ = read.__qualname__ = name.lower()
    table.get(name.lower())(read)


for _name in SENSORS:
    _register_reading(_name)


@table.get("averageperiod")
async def average_period(device: ObservingConditions, args: Args) -> float:
    return float((await device.state()).average_period_h)


@table.put("averageperiod")
async def set_average_period(device: ObservingConditions, args: Args) -> None:
    hours = float(args["AveragePeriod"])
    if not math.isfinite(hours) or hours < 0:
        raise InvalidValueError(f"average period {hours!r} h must be a number >= 0")
    try:
        await device.set_average_period(hours)
    except NotImplementedByDeviceError:
        if hours != 0:
            raise InvalidValueError(
                f"average period {hours:g} h: {device.name!r} gives instantaneous readings "
                f"only (0 h)") from None


@table.put("refresh")
async def refresh(device: ObservingConditions, args: Args) -> None:
    await device.refresh()


@table.get("sensordescription")
async def sensor_description(device: ObservingConditions, args: Args) -> str:
    name = _sensor(args)
    if not name:
        raise InvalidValueError("SensorDescription needs a sensor name, got an empty one")
    description = (await device.info()).sensor_descriptions.get(SENSORS[name])
    if description is None:
        raise _missing(device, name)
    return str(description)


@table.get("timesincelastupdate")
async def time_since_last_update(device: ObservingConditions, args: Args) -> float:
    name = _sensor(args)
    state = await device.state()
    if name:
        _reading(device, state, name)  # not implemented without that sensor
    return float(state.time_since_last_update_s)


HANDLERS = table.handlers


async def device_state(device: ObservingConditions) -> dict[str, Any]:
    """Every reading the station has (CloudCover ... WindSpeed); missing sensors omitted."""
    state = await device.state()
    return {name: float(value) for name, field in SENSORS.items()
            if (value := getattr(state, field)) is not None}
