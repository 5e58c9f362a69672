"""The INDI weather station and safety monitor drivers against Debian's weather
simulator (a real indiserver): its weather is set through its WEATHER_CONTROL."""

from __future__ import annotations

import pytest

from nocturna.devices.indi.conditions import IndiObservingConditions
from nocturna.devices.indi.safety import IndiSafetyMonitor
from nocturna.devices.safety import SafetyStatus

CALM = {"Weather": 0, "Temperature": 12.5, "Wind": 0, "Gust": 0, "Precip": 0}
STORM = {"Weather": 0, "Temperature": 12.5, "Wind": 36, "Gust": 18, "Precip": 10}
"""Simulator controls: wind and gusts in km/h (36 km/h = 10 m/s), rain in mm/h."""


def station_of(server) -> IndiObservingConditions:
    return IndiObservingConditions("weather0", address=server.address,
                                   device=server.device("weather"))


def monitor_of(server) -> IndiSafetyMonitor:
    return IndiSafetyMonitor("safety0", address=server.address,
                             device=server.device("weather"))


async def set_weather(station: IndiObservingConditions, controls: dict[str, float]) -> None:
    """Set the simulator's weather (its last property defined: wait for it) and read it."""
    await station.connection.wait_for(lambda: station.has("WEATHER_CONTROL"), 30,
                                      "WEATHER_CONTROL defined")
    await station.send("WEATHER_CONTROL", controls, wait=True)
    await station.refresh()


async def test_reads_the_sensors_in_nocturna_units(indi_server):
    station = station_of(indi_server)
    await station.connect()
    try:
        info = await station.info()
        assert set(info.sensor_descriptions) == {"temperature_c", "wind_speed_m_s",
                                                 "wind_gust_m_s", "rain_rate_mm_h"}
        assert info.sensor_descriptions["temperature_c"] == \
            "Temperature (C) (WEATHER_TEMPERATURE)"
        await set_weather(station, STORM)
        status = await station.state()
        assert status.temperature_c == pytest.approx(12.5)
        assert status.wind_speed_m_s == pytest.approx(10.0)
        assert status.wind_gust_m_s == pytest.approx(5.0)
        assert status.rain_rate_mm_h == pytest.approx(10.0)
        assert status.cloud_cover_pct is None and status.humidity_pct is None
        assert 0 <= status.time_since_last_update_s < 60
    finally:
        await set_weather(station, CALM)
        await station.disconnect()


async def test_unsafe_weather_makes_the_monitor_say_unsafe_and_calm_makes_it_safe(
        indi_server):
    station, monitor = station_of(indi_server), monitor_of(indi_server)
    await station.connect()
    await monitor.connect()
    try:
        checks = (await monitor.info()).checks
        assert any(check.startswith("Precip (mm) (WEATHER_RAIN_HOUR)") for check in checks)
        await set_weather(station, CALM)
        assert await monitor.wait_until(lambda s: s.is_safe, timeout_s=30, poll_s=0.1) == \
            SafetyStatus(is_safe=True, reasons=[])

        await set_weather(station, STORM)
        verdict = await monitor.wait_until(lambda s: not s.is_safe, timeout_s=30, poll_s=0.1)
        assert verdict.reasons == [
            "Wind (kph) at 36 is Alert on INDI weather station 'Weather Simulator'",
            "Precip (mm) at 10 is Alert on INDI weather station 'Weather Simulator'"]
        assert not await monitor.is_safe()

        await set_weather(station, CALM)
        await monitor.wait_until(lambda s: s.is_safe, timeout_s=30, poll_s=0.1)
        assert set(monitor.vector("WEATHER_STATUS").values().values()) == {"Ok"}
    finally:
        await set_weather(station, CALM)
        await monitor.disconnect()
        await station.disconnect()
