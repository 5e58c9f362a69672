"""The power board driver against the power board simulator over
``nocturna-sim://power_board``, on virtual time."""

from __future__ import annotations

import asyncio
import logging

import pytest

from nocturna.core.clock import VirtualClock, use_clock
from nocturna.core.config.models import DeviceConfig
from nocturna.core.errors import ConfigError, InvalidValueError, NotImplementedByDeviceError
from nocturna.core.events import EventBus
from nocturna.devices.boards.power import PowerBoard
from nocturna.devices.boards.power_sim import LOADS, PowerBoardSimulator
from nocturna.devices.serial.line import SerialProtocolError, SerialTimeoutError
from nocturna.devices.serial.simulator import register_simulator, unregister_simulator
from serial_helpers import silenced_then_recovered

pytestmark = pytest.mark.virtual_time
NIGHT = "2026-12-15T22:00:00Z"
NAMES = ["mount", "cameras", "fans", "weather", "aux"]


@pytest.fixture
async def sim():
    with use_clock(VirtualClock(NIGHT)) as clock:
        board = PowerBoardSimulator(clock=clock, interval_s=2)
        board.url = register_simulator("power-test", board)
        yield board
        unregister_simulator("power-test")


@pytest.fixture
async def power(sim):
    device = PowerBoard("power", port=sim.url, events=EventBus())
    await device.connect()
    yield device
    await device.disconnect()


async def test_channels_relays_then_currents_then_the_ups(power):
    channels = (await power.info()).channels
    assert [c.name for c in channels] == NAMES + [f"{n} current" for n in NAMES] + [
        "ac_ok", "battery_low"]
    assert [c.can_write for c in channels] == [True] * 5 + [False] * 7
    assert channels[5].maximum == 1023
    status = await power.state()
    assert status.values == [1.0] * 5 + [float(v) for v in LOADS] + [1.0, 0.0]
    assert all(status.state_change_complete)


async def test_switching_a_relay_off_and_on_reads_it_back(sim, power):
    with power.events.subscribe("switch.*") as published:
        await power.set_switch(1, False)
        assert sim.relays[1] is False
        status = await power.state()
        assert status.values[1] == 0.0 and status.values[6] == 0.0  # no current either
        await power.set_value(1, 1)
        assert (await power.state()).values[1] == 1.0
        events = [e.data for e in published.drain()]
    assert sim.commands == [{"relay": 1, "power": 0}, {"relay": 1, "power": 1}]
    assert events == [{"channel": 1, "name": "cameras", "value": 0.0},
                      {"channel": 1, "name": "cameras", "value": 1.0}]


async def test_a_change_is_pending_until_a_line_shows_it(sim, power):
    change = asyncio.create_task(power.set_value(0, 0))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    pending = await power.state()
    assert pending.state_change_complete[0] is False and pending.values[0] == 1.0
    await change
    done = await power.state()
    assert done.state_change_complete[0] is True and done.values[0] == 0.0


async def test_a_board_that_does_not_switch_times_out_saying_which_relay(sim, power):
    sim.go_silent()
    with pytest.raises(SerialTimeoutError, match=r"power board 'power' on nocturna-sim://"
                                                 r"power_board/power-test: no line within "
                                                 r"5 s gave relay 2 \(fans\) off"):
        await power.set_value(2, 0)


async def test_bad_writes_are_refused_before_anything_is_sent(sim, power):
    with pytest.raises(NotImplementedByDeviceError, match=r"channel 5 \(mount current\) is "
                                                          r"read-only"):
        await power.set_value(5, 0)
    with pytest.raises(InvalidValueError, match=r"0\.5 is not 0 \(off\) or 1 \(on\)"):
        await power.set_value(0, 0.5)
    with pytest.raises(InvalidValueError, match=r"channel 12 is not in 0\.\.11"):
        await power.set_value(12, 1)
    with pytest.raises(NotImplementedByDeviceError):
        await power.set_name(0, "telescope")
    assert sim.commands == []


async def test_the_ups_flags_and_uptime(sim, power):
    sim.ac_ok, sim.battery_low = False, True
    await sim.clock.sleep(2.5)  # the next line
    values = (await power.state()).values
    assert values[10:] == [0.0, 1.0]
    reading, age = power.latest()
    assert reading.uptime_s >= 2 and age < 2


async def test_a_garbled_line_is_skipped_with_a_warning(sim, power, caplog):
    sim.garble_next()
    with caplog.at_level(logging.WARNING, logger="nocturna.devices.boards"):
        await sim.clock.sleep(2.5)
    assert power.skipped == 1 and "power_board: not a JSON line" in power.last_problem
    assert "power: skipped a line" in caplog.text
    await power.set_value(4, 0)  # the next exchange works
    assert sim.relays[4] is False


async def test_a_silent_board_faults_the_component_which_recovers(sim):
    events = EventBus()
    device = PowerBoard("power", port=sim.url, stale_s=5, connect_timeout_s=3, events=events)
    reason, recovered = await silenced_then_recovered(device, sim, events)
    assert "SerialTimeoutError" in reason and "stale after 5 s" in reason
    assert recovered["state"].name == "ENABLED"
    await device.disconnect()


async def test_a_board_with_other_relays_is_refused(sim):
    device = PowerBoard("power", port=sim.url, relays=["mount", "cameras"])
    with pytest.raises(SerialProtocolError, match="the line has 5 relays, the driver is set "
                                                  "up for 2"):
        await device.connect()
    assert not device.connected


async def test_entry_options():
    entry = DeviceConfig.model_validate({
        "name": "power", "driver": "power_board", "port": "/dev/ttyACM0",
        "relays": ["weather_station", "unused1", "fans", "unused3", "mount"],
        "switch_timeout_s": 8, "stale_s": 30})
    device = PowerBoard.from_config(entry)
    assert device.relays[4] == "mount" and device.switch_timeout_s == 8.0
    assert device.stale_s == 30.0 and device.line.baudrate == 9600
    with pytest.raises(ConfigError, match=r"power\.relays: expected a list of distinct relay"):
        PowerBoard("power", port="/dev/ttyACM0", relays=["fans", "fans"])
    with pytest.raises(ConfigError, match=r"power\.colour: not an option of the power_board"):
        PowerBoard.from_config(DeviceConfig.model_validate(
            {"name": "power", "driver": "power_board", "port": "/dev/ttyACM0",
             "colour": "red"}))
