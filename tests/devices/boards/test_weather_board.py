"""The weather board driver and its safety monitor against the weather board simulator
over ``nocturna-sim://weather_board``, on virtual time."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest
from ruamel.yaml import YAML

from nocturna.core.clock import VirtualClock, use_clock
from nocturna.core.config import Config
from nocturna.core.config.models import DeviceConfig
from nocturna.core.errors import ConfigError
from nocturna.core.events import EventBus
from nocturna.devices.boards.power_sim import PowerBoardSimulator
from nocturna.devices.boards.safety import WeatherBoardSafety
from nocturna.devices.boards.weather import WeatherBoard
from nocturna.devices.boards.weather_sim import WeatherBoardSimulator
from nocturna.devices.factory import build_devices
from nocturna.devices.serial.line import SerialProtocolError, SerialTimeoutError
from nocturna.devices.serial.simulator import register_simulator, unregister_simulator
from nocturna.devices.sim.scenario import load_scenario
from serial_helpers import silenced_then_recovered

pytestmark = pytest.mark.virtual_time
NIGHT = "2026-12-15T22:00:00Z"
RAIN_FROM = "2026-12-15T22:10:00Z"


@pytest.fixture
async def board():
    """A weather board simulator whose scenario turns to rain at 22:10."""
    with use_clock(VirtualClock(NIGHT)) as clock:
        scenario = load_scenario({"timeline": [{"from": RAIN_FROM, "sky": "rain"}]},
                                 start=datetime.fromisoformat(NIGHT))
        sim = WeatherBoardSimulator(clock=clock, scenario=scenario, interval_s=10)
        sim.url = register_simulator("wx-test", sim)
        yield sim
        unregister_simulator("wx-test")


async def test_the_board_s_readings_as_observing_conditions(board):
    station = WeatherBoard("wx", port=board.url)
    await station.connect()
    try:
        info = await station.info()
        assert set(info.sensor_descriptions) == {
            "temperature_c", "sky_temperature_c", "wind_speed_m_s", "wind_gust_m_s",
            "humidity_pct", "pressure_hpa"}
        await board.clock.sleep(4)
        status = await station.state()
        assert status.time_since_last_update_s == pytest.approx(4)
        weather = board.scenario.at(board.clock.timestamp())
        assert status.temperature_c == pytest.approx(weather.temperature_c)
        assert status.sky_temperature_c == pytest.approx(weather.sky_temperature_c, abs=0.01)
        assert status.wind_speed_m_s == pytest.approx(weather.wind_speed_m_s)
        assert status.humidity_pct == pytest.approx(weather.humidity_pct)
        assert status.cloud_cover_pct is None and status.rain_rate_mm_h is None
        await board.clock.sleep(605)
        assert (await station.state()).humidity_pct == 95.0  # the rain arrived
    finally:
        await station.disconnect()


async def test_a_stale_reading_is_reported_as_such(board):
    station = WeatherBoard("wx", port=board.url, stale_s=30)
    await station.connect()
    try:
        board.go_silent()
        await board.clock.sleep(25)
        assert (await station.state()).time_since_last_update_s == pytest.approx(25)
        await board.clock.sleep(10)
        with pytest.raises(SerialTimeoutError, match=r"weather board 'wx' on nocturna-sim://"
                                                     r"weather_board/wx-test: the last reading "
                                                     r"is 35 s old \(stale after 30 s\)"):
            await station.state()
    finally:
        await station.disconnect()


async def test_a_garbled_line_is_skipped_with_a_warning(board, caplog):
    station = WeatherBoard("wx", port=board.url)
    await station.connect()
    try:
        board.garble_next()
        with caplog.at_level(logging.WARNING, logger="nocturna.devices.boards"):
            await board.clock.sleep(15)
        assert station.skipped == 1 and "not a JSON line" in station.last_problem
        assert "wx: skipped a line: weather_board: not a JSON line" in caplog.text
        assert (await station.state()).time_since_last_update_s == pytest.approx(15)
        await board.clock.sleep(10)
        assert (await station.state()).time_since_last_update_s == pytest.approx(5)
    finally:
        await station.disconnect()


async def test_a_silent_board_faults_the_component_which_recovers(board):
    events = EventBus()
    board.interval_s = 1
    station = WeatherBoard("wx", port=board.url, stale_s=3, connect_timeout_s=2, events=events)
    reason, recovered = await silenced_then_recovered(station, board, events)
    assert "SerialTimeoutError" in reason and "stale after 3 s" in reason
    assert recovered["state"].name == "ENABLED"
    await station.disconnect()


async def test_another_board_on_the_port_is_refused(board):
    with use_clock(board.clock):
        power = PowerBoardSimulator(clock=board.clock)  # the registry holds it weakly
        url = register_simulator("wx-wrong", power)
        try:
            station = WeatherBoard("wx", port=url, connect_timeout_s=5)
            with pytest.raises(SerialProtocolError, match=r"weather board 'wx' on nocturna-sim:"
                                                          r"//power_board/wx-wrong: no good "
                                                          r"line within 5 s for its first "
                                                          r"reading; the last: weather_board: "
                                                          r"a line from 'power_board'"):
                await station.connect()
            assert not station.connected and not station.line.is_open
        finally:
            unregister_simulator("wx-wrong")


async def test_bad_weather_makes_the_safety_monitor_unsafe_with_reasons(board):
    station = WeatherBoard("wx", port=board.url)
    events = EventBus()
    monitor = WeatherBoardSafety("safety", station=station, events=events)
    await station.connect()
    await monitor.connect()
    try:
        verdict = await monitor.state()
        assert verdict.is_safe and verdict.reasons == []
        with events.subscribe("safetymonitor.*") as published:
            await board.clock.sleep(605)  # the first line in rain comes at 22:10
            verdict = await monitor.state()
            [event] = published.drain()
        assert not verdict.is_safe
        assert verdict.reasons == ["cloudy: sky minus ambient -5.0 °C is above -25 °C",
                                   "wet: rain sensor 1500 is below 2200"]
        assert event.topic == "safetymonitor.verdict.changed" and not event.data["is_safe"]
    finally:
        await monitor.disconnect()
        await station.disconnect()


async def test_wind_and_gusts_in_km_h_as_pocs():
    with use_clock(VirtualClock(NIGHT)) as clock:
        sim = WeatherBoardSimulator(clock=clock, sky="storm")
        url = register_simulator("wx-storm", sim)
        station = WeatherBoard("wx", port=url)
        monitor = WeatherBoardSafety("safety", station=station, windy_km_h=50, gusty_km_h=80)
        await station.connect()
        await monitor.connect()
        try:
            reasons = (await monitor.state()).reasons
            assert "windy: 54 km/h is above 50 km/h" in reasons  # 15 m/s
            assert "gusty: 90 km/h is above 80 km/h" in reasons  # 25 m/s
        finally:
            await station.disconnect()
            unregister_simulator("wx-storm")


async def test_stale_or_missing_data_is_unsafe(board):
    station = WeatherBoard("wx", port=board.url, stale_s=600)
    monitor = WeatherBoardSafety("safety", station=station, stale_s=60)
    await monitor.connect()
    assert (await monitor.state()).reasons == ["no reading from weather board 'wx' yet"]
    await station.connect()
    try:
        assert (await monitor.state()).is_safe
        board.go_silent()
        await board.clock.sleep(61)
        verdict = await monitor.state()
        assert not verdict.is_safe
        assert verdict.reasons == ["the weather data is stale: the last reading of 'wx' is "
                                   "61 s old (limit 60 s)"]
    finally:
        await station.disconnect()


async def test_a_safe_delay_keeps_it_unsafe_after_bad_weather():
    with use_clock(VirtualClock(NIGHT)) as clock:
        scenario = load_scenario({"timeline": [{"until": "2026-12-15T22:01:00Z",
                                                "sky": "overcast"}]},
                                 start=datetime.fromisoformat(NIGHT))
        sim = WeatherBoardSimulator(clock=clock, scenario=scenario, interval_s=10)
        url = register_simulator("wx-delay", sim)
        station = WeatherBoard("wx", port=url)
        monitor = WeatherBoardSafety("safety", station=station, safe_delay_s=300)
        await station.connect()
        await monitor.connect()
        try:
            assert not (await monitor.state()).is_safe  # overcast
            await clock.sleep(120)
            verdict = await monitor.state()
            assert verdict.reasons == ["waiting 300 s after unsafe weather, 120 s ago"]
            await clock.sleep(181)
            assert (await monitor.state()).is_safe
        finally:
            await station.disconnect()
            unregister_simulator("wx-delay")


def unit(tmp_path, safety: dict) -> Config:
    path = tmp_path / "site.yaml"
    YAML().dump({"name": "panoptes", "cameras": [],
                 "weather": [{"name": "wx", "driver": "weather_board",
                              "port": "nocturna-sim://weather_board", "stale_s": 120}],
                 "safety_monitors": [safety]}, path)
    return Config.load(path, load_local=False, environ={})


async def test_the_factory_links_the_monitor_to_its_station(tmp_path):
    devices = build_devices(unit(tmp_path, {"name": "safe", "driver": "weather_board",
                                            "weather": "wx", "cloudy_delta_c": -20,
                                            "safe_delay_s": 0}))
    monitor = devices.safety_monitors["safe"]
    assert isinstance(monitor, WeatherBoardSafety)
    assert monitor.station is devices.weather["wx"] and monitor.cloudy_delta_c == -20
    assert devices.weather["wx"].stale_s == 120


@pytest.mark.parametrize(("entry", "message"), [
    ({"name": "safe", "driver": "weather_board"},
     "safe.weather: a weather_board safety monitor needs the name of its weather_board"),
    ({"name": "safe", "driver": "weather_board", "weather": "wx", "rainy": 3},
     "safe.rainy: not an option of the weather_board driver"),
    ({"name": "safe", "driver": "weather_board", "weather": "wx", "stale_s": -1},
     "safe.stale_s: expected a number of seconds > 0"),
])
async def test_bad_monitor_entries_name_the_key(tmp_path, entry, message):
    with pytest.raises(ConfigError, match=message):
        build_devices(unit(tmp_path, entry))


def test_a_monitor_needs_a_weather_board_station():
    entry = DeviceConfig.model_validate({"name": "safe", "driver": "weather_board",
                                         "weather": "wx"})
    with pytest.raises(ConfigError, match=r"safe\.weather: a weather_board safety monitor "
                                          r"needs the name of a weather_board station, got "
                                          r"'oops'"):
        WeatherBoardSafety.from_config(entry, weather="oops")
