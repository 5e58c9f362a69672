"""Alpaca safety monitor members over the default unit's monitor and an unsafe one."""

from __future__ import annotations

import json
from importlib.resources import files

import pytest

from nocturna.alpaca.kinds.safetymonitor import HANDLERS, device_state
from nocturna.core.clock import SimClock, use_clock
from nocturna.core.config import Config
from nocturna.devices.factory import build_devices
from nocturna.devices.sim.safety import SimSafetyMonitor
from nocturna.devices.sim.scenario import ConstantWeather, Weather

START = "2026-12-15T08:00:00Z"


@pytest.fixture
def clock():
    clock = SimClock(START, speed=0)
    with use_clock(clock):
        yield clock


@pytest.fixture
async def monitor(clock):
    config = Config.load(None, load_local=False, environ={})
    device = build_devices(config, simulate=True).safety_monitors["safety0"]
    await device.connect()
    return device


def test_handlers_cover_exactly_the_safetymonitor_members():
    table = json.loads((files("nocturna.alpaca") / "members.json").read_text(encoding="utf-8"))
    wanted = {(method, member) for member, ops in table["safetymonitor"].items()
              for method in ops}
    assert set(HANDLERS) == wanted


async def test_is_safe_is_the_devices_verdict(monitor):
    verdict = (await monitor.state()).is_safe
    assert await HANDLERS[("GET", "issafe")](monitor, {}) is verdict
    assert await device_state(monitor) == {"IsSafe": verdict}


async def test_rain_makes_it_unsafe(clock):
    device = SimSafetyMonitor("wet", scenario=ConstantWeather(Weather(rain_rate_mm_h=2.0)))
    await device.connect()
    assert await HANDLERS[("GET", "issafe")](device, {}) is False
    assert await device_state(device) == {"IsSafe": False}


async def test_a_disconnected_monitor_reads_unsafe_instead_of_failing(clock):
    device = SimSafetyMonitor("clear", scenario=ConstantWeather(Weather()))
    assert await HANDLERS[("GET", "issafe")](device, {}) is False
    await device.connect()
    assert await HANDLERS[("GET", "issafe")](device, {}) is True
