"""The weather and power board simulators: their lines on the clock, the power board's
commands (with the firmware's quirk), the faults."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

import pytest

from nocturna.core.clock import SimClock, VirtualClock
from nocturna.core.errors import ConfigError
from nocturna.devices.boards.power_line import parse_power
from nocturna.devices.boards.power_sim import LOADS, PowerBoardSimulator
from nocturna.devices.boards.weather_line import parse_weather
from nocturna.devices.boards.weather_sim import WeatherBoardSimulator
from nocturna.devices.serial.line import SerialProtocolError
from nocturna.devices.sim.scenario import load_scenario

NIGHT = "2026-12-15T22:00:00Z"


def lines(out: bytearray) -> list[bytes]:
    return bytes(out).splitlines()


@pytest.mark.virtual_time
async def test_the_weather_board_prints_the_scenario_every_interval():
    clock = VirtualClock(NIGHT)
    scenario = load_scenario({"timeline": [{"from": "2026-12-15T22:00:25Z", "sky": "rain"}]},
                             start=datetime.fromisoformat(NIGHT))
    sim = WeatherBoardSimulator(clock=clock, scenario=scenario, interval_s=10)
    out = bytearray()
    sim.attach(out.extend)
    task = asyncio.create_task(sim.run())
    try:
        await clock.sleep(35)
    finally:
        task.cancel()
    readings = [parse_weather(line) for line in lines(out)]
    assert len(readings) == 4  # at 0, 10, 20 and 30 s
    assert json.loads(lines(out)[0])["timestamp"] == "2026-12-15T22:00:00Z"
    clear, rain = readings[0], readings[3]
    assert clear.sky_delta_c == pytest.approx(-30.0)
    assert clear.rain_frequency == 2700
    assert rain.sky_delta_c == pytest.approx(-5.0)  # overcast
    assert rain.rain_frequency < 1800  # raining


def test_a_weather_board_from_a_url_may_name_a_sky_preset():
    clock = SimClock(NIGHT, speed=0)
    reading = parse_weather(WeatherBoardSimulator(clock=clock, sky="fog").line().strip())
    assert reading.humidity_pct == 100.0 and reading.rain_frequency == 2000  # dew
    with pytest.raises(ConfigError, match="sky 'hail' is not a preset"):
        WeatherBoardSimulator(sky="hail")


def test_garbled_weather_lines_stay_one_line_and_fail_to_parse():
    sim = WeatherBoardSimulator(clock=SimClock(NIGHT, speed=0))
    out = bytearray()
    sim.attach(out.extend)
    sim.garble_next()
    sim.send(sim.line())
    sim.send(sim.line())
    first, second = lines(out)
    with pytest.raises(SerialProtocolError, match="not a JSON line"):
        parse_weather(first)
    assert parse_weather(second).ambient_temp_c == 5.0


def power_board() -> tuple[PowerBoardSimulator, SimClock, bytearray]:
    clock = SimClock(NIGHT, speed=0)
    sim = PowerBoardSimulator(clock=clock)
    out = bytearray()
    sim.attach(out.extend)
    return sim, clock, out


def test_power_board_relays_start_on_and_read_their_loads():
    sim, clock, _ = power_board()
    clock.advance(12)
    reading = sim.reading()
    assert reading.relays == (True,) * 5 and reading.readings == LOADS
    assert reading.uptime_s == 12
    assert reading.ac_ok and not reading.battery_low


def test_power_board_commands_in_any_chunking_with_the_firmware_s_quirk():
    sim, _clock, _ = power_board()
    sim.deliver(b'{"relay":1,"po')
    sim.deliver(b'wer":0}{"relay":2,"power":0}\n')
    assert sim.relays == [True, False, False, True, True]
    assert sim.reading().readings == (LOADS[0], 0, 0, LOADS[3], LOADS[4])
    sim.deliver(b'{"relay":1,"power":1}')
    assert sim.relays[1] is True
    sim.deliver(b'{"relay":2,"power":2}')  # toggle an off relay: the firmware ends it off
    assert sim.relays[2] is False
    sim.deliver(b'{"relay":0,"power":3}')  # cycle: off, and quiet for 5 s
    assert sim.relays[0] is False


def test_power_board_drops_what_it_cannot_parse():
    sim, _clock, _ = power_board()
    sim.deliver(b'garbage{"relay":9,"power":0}{"relay":"1","power":0}{nope}{"relay":0}')
    sim.deliver(b"{" + b"x" * 300)
    sim.deliver(b'{"relay":3,"power":0}')
    assert sim.relays == [True, True, True, False, True]
    assert sim.commands == [{"relay": 3, "power": 0}]


@pytest.mark.virtual_time
async def test_power_board_lines_every_interval_and_none_while_cycling():
    clock = VirtualClock(NIGHT)
    sim = PowerBoardSimulator(clock=clock, interval_s=1)
    out = bytearray()
    sim.attach(out.extend)
    task = asyncio.create_task(sim.run())
    try:
        await clock.sleep(2.5)
        assert len(lines(out)) == 3
        sim.deliver(b'{"relay":0,"power":3}')
        await clock.sleep(5)
        assert len(lines(out)) == 3
        await clock.sleep(1)
        assert len(lines(out)) == 4
    finally:
        task.cancel()
    assert parse_power(lines(out)[-1], 5).relays[0] is False
