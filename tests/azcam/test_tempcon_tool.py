"""The azcam tempcon tool over the simulated cryostat and over a camera's cooler."""

from __future__ import annotations

import math

import pytest

from nocturna.azcam.remote import remote_methods
from nocturna.azcam.tempcon_sim import SimTempController
from nocturna.azcam.tools.tempcon import BAD_TEMP_VALUE, CameraCoolerTempCon, TempConTool
from nocturna.core.clock import SimClock, use_clock
from nocturna.core.errors import InvalidValueError
from nocturna.devices.sim.camera import SimCamera, SimCameraModel

NIGHT = "2026-12-15T10:00Z"


@pytest.fixture
def clock():
    clock = SimClock(NIGHT, speed=0)
    with use_clock(clock):
        yield clock


@pytest.fixture
def tool(clock):
    return TempConTool(SimTempController(), tolerance_c=0.5)


async def test_the_azcam_methods_are_remote(tool):
    assert {"set_control_temperature", "get_control_temperature", "get_temperatures",
            "get_temperature", "get_status"} <= set(remote_methods(tool))
    assert "header_cards" not in remote_methods(tool)
    assert tool.name == "tempcon"


async def test_temperatures_are_detector_then_cold_head(tool, clock):
    clock.advance(600)
    camtemp, dewtemp = await tool.get_temperatures()
    reading = tool.controller.reading()
    assert (camtemp, dewtemp) == (reading.detector_c, reading.cold_head_c)
    assert dewtemp < camtemp < 20.0
    assert await tool.get_temperature(0) == camtemp
    assert await tool.get_temperature(temperature_id=1) == dewtemp


async def test_set_control_temperature_drives_the_detector_there(tool, clock):
    await tool.set_control_temperature(-95.0)
    assert await tool.get_control_temperature() == -95.0
    assert not (await tool.get_status())["at_set_point"]
    clock.advance(3600)
    status = await tool.get_status()
    assert status["camtemp"] == pytest.approx(-95.0, abs=0.5)
    assert status["at_set_point"] is True
    assert status["control_temperature"] == -95.0
    assert status["dewtemp"] < status["camtemp"]
    assert 0 < status["heater_pct"] < 100
    assert status["cooler_pct"] is None


async def test_no_temperature_reapplies_the_current_set_point(tool):
    await tool.set_control_temperature()
    assert await tool.get_control_temperature() == -100.0
    await tool.set_control_temperature(temperature=-90.0, temperature_id=0)
    await tool.set_control_temperature()
    assert await tool.get_control_temperature() == -90.0


async def test_only_the_detector_is_controlled(tool):
    with pytest.raises(InvalidValueError, match="only sensor 0"):
        await tool.set_control_temperature(-90.0, temperature_id=1)
    with pytest.raises(InvalidValueError, match=r"temperature_id 5 .*0 \(detector\)"):
        await tool.get_temperature(5)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 500.0])
async def test_bad_set_points_are_refused_and_nothing_changes(tool, value):
    with pytest.raises(InvalidValueError):
        await tool.set_control_temperature(value)
    assert await tool.get_control_temperature() == -100.0


async def test_header_cards(tool, clock):
    clock.advance(3600)
    cards = await tool.header_cards()
    assert set(cards) == {"CAMTEMP", "DEWTEMP", "SETTEMP", "HEATER"}
    assert cards["CAMTEMP"][0] == pytest.approx(-100.0, abs=0.5)
    assert cards["SETTEMP"][0] == -100.0
    assert all(isinstance(comment, str) and comment for _, comment in cards.values())


async def camera_tool(clock):
    camera = SimCamera("cam0", model=SimCameraModel(width=64, height=64, cooling_tau_s=60.0,
                                                    ambient_c=10.0))
    await camera.connect()
    return TempConTool(CameraCoolerTempCon(camera), tolerance_c=0.5), camera


async def test_the_camera_cooler_as_a_temperature_controller(clock):
    tool, camera = await camera_tool(clock)
    await tool.set_control_temperature(-10.0)
    state = await camera.state()
    assert state.cooler_on and state.set_ccd_temperature_c == -10.0
    clock.advance(900)
    camtemp, dewtemp = await tool.get_temperatures()
    assert camtemp == pytest.approx(-10.0, abs=0.1)
    assert dewtemp == BAD_TEMP_VALUE  # a camera has no cold head
    status = await tool.get_status()
    assert status["dewtemp"] is None and status["heater_pct"] is None
    assert status["cooler_pct"] == pytest.approx(50.0, abs=1)  # 20 of its 40 K
    assert status["at_set_point"] is True
    cards = await tool.header_cards()
    assert "DEWTEMP" not in cards and "HEATER" not in cards
    assert cards["COOLPWR"][0] == pytest.approx(50.0, abs=1)
    assert not any(isinstance(v, float) and math.isnan(v) for v, _ in cards.values())


async def test_the_camera_refuses_set_points_out_of_its_range(clock):
    tool, _ = await camera_tool(clock)
    with pytest.raises(InvalidValueError, match=r"-60\.\.40"):
        await tool.set_control_temperature(-100.0)
