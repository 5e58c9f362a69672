"""Alpaca safety monitor members over the default unit's monitor and an unsafe one."""

from __future__ import annotations

import pytest

from nocturna.alpaca.kinds.safetymonitor import HANDLERS, device_state
from nocturna.devices.factory import build_devices
from nocturna.devices.sim.safety import SimSafetyMonitor
from nocturna.devices.sim.scenario import ConstantWeather, Weather


@pytest.fixture
async def monitor(config, clock):
    device = build_devices(config, simulate=True).safety_monitors["safety0"]
    await device.connect()
    return device


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
