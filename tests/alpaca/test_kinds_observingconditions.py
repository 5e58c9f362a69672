"""Alpaca observing conditions members over the default unit's simulated weather station."""

from __future__ import annotations

import math

import pytest
from kinds_helpers import caller

from nocturna.alpaca.kinds.observingconditions import HANDLERS, SENSORS, device_state
from nocturna.core.errors import InvalidValueError, NotImplementedByDeviceError
from nocturna.devices.conditions import ObservingConditions
from nocturna.devices.factory import build_devices
from nocturna.devices.sim.weather import SimObservingConditions

MISSING = ("SkyBrightness", "SkyQuality")  # the simulated station has no such sensors


class InstantStation(SimObservingConditions):
    """A station that cannot average (keeps the interface's not-implemented setter)."""

    set_average_period = ObservingConditions.set_average_period


@pytest.fixture
async def station(config, clock):
    device = build_devices(config, simulate=True).weather["weather0"]
    await device.connect()
    return device


get, put = caller(HANDLERS)


async def test_each_reading_is_the_devices(station):
    state = await station.state()
    for name, field in SENSORS.items():
        if name in MISSING:
            continue
        assert await get(station, name.lower()) == pytest.approx(getattr(state, field)), name


async def test_a_reading_without_a_sensor_is_not_implemented(station):
    for name in MISSING:
        with pytest.raises(NotImplementedByDeviceError, match=f"no {name} sensor"):
            await get(station, name.lower())


async def test_sensor_description_matches_names_without_regard_to_case(station):
    descriptions = (await station.info()).sensor_descriptions
    assert await get(station, "sensordescription", SensorName="Temperature") \
        == descriptions["temperature_c"]
    assert await get(station, "sensordescription", SensorName=" tEmPeRaTuRe ") \
        == descriptions["temperature_c"]
    assert await get(station, "sensordescription", SensorName="starfwhm") \
        == descriptions["star_fwhm_arcsec"]


async def test_sensor_description_refuses_unknown_and_missing_sensors(station):
    for name in ("Nonsense", "", "AveragePeriod"):
        with pytest.raises(InvalidValueError):
            await get(station, "sensordescription", SensorName=name)
    with pytest.raises(NotImplementedByDeviceError, match="SkyQuality"):
        await get(station, "sensordescription", SensorName="skyquality")


async def test_time_since_last_update(station, clock):
    clock.advance(10)
    latest = (await station.state()).time_since_last_update_s
    assert latest == pytest.approx(10.0)
    assert await get(station, "timesincelastupdate", SensorName="") == latest
    assert await get(station, "timesincelastupdate", SensorName="WINDSPEED") == latest
    with pytest.raises(NotImplementedByDeviceError, match="SkyBrightness"):
        await get(station, "timesincelastupdate", SensorName="SkyBrightness")
    with pytest.raises(InvalidValueError, match="not an ObservingConditions sensor"):
        await get(station, "timesincelastupdate", SensorName="Visibility")
    await put(station, "refresh")
    assert await get(station, "timesincelastupdate", SensorName="") == 0.0


async def test_average_period_round_trip(station):
    assert await get(station, "averageperiod") == 0.0
    await put(station, "averageperiod", AveragePeriod=0.5)
    assert await get(station, "averageperiod") == 0.5
    assert (await station.state()).average_period_h == 0.5


@pytest.mark.parametrize("hours", [-2.0, -0.1, math.nan, math.inf])
async def test_a_negative_average_period_is_an_invalid_value(station, hours):
    with pytest.raises(InvalidValueError, match="average period"):
        await put(station, "averageperiod", AveragePeriod=hours)
    assert await get(station, "averageperiod") == 0.0


async def test_a_station_that_cannot_average_accepts_only_zero(clock):
    device = InstantStation("instant")
    await device.connect()
    await put(device, "averageperiod", AveragePeriod=0.0)
    with pytest.raises(InvalidValueError, match="instantaneous"):
        await put(device, "averageperiod", AveragePeriod=5.0)


async def test_device_state_has_the_readings_it_has(station):
    state = await station.state()
    values = await device_state(station)
    assert set(values) == set(SENSORS) - set(MISSING)
    assert values["WindSpeed"] == pytest.approx(state.wind_speed_m_s)
    assert values["DewPoint"] == pytest.approx(state.dew_point_c)
    assert "TimeSinceLastUpdate" not in values
