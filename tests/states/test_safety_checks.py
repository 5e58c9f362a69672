"""Every safety condition the unit checks before a transition and while it works."""

from __future__ import annotations

from pathlib import Path

import pytest

from nocturna.core.clock import VirtualClock, use_clock
from nocturna.devices.sim.scenario import load_scenario
from nocturna.states.safety import SafetySupervisor
from nocturna.states.table import StateSpec, load_state_table
from unit_helpers import MIDNIGHT, close_unit, make_unit, unit_config

RAIN = [{"sky": "rain"}]

pytestmark = pytest.mark.virtual_time  # time moves only when nothing can run


async def started(tmp_path: Path, *, scenario=None, **extra):
    unit = make_unit(unit_config(tmp_path, **extra), scenario=scenario)
    await unit.start()
    return unit


@pytest.fixture
async def midnight():
    with use_clock(VirtualClock(MIDNIGHT)) as clock:
        yield clock


async def test_clear_night_passes_every_check_of_observing_once_open(tmp_path, midnight):
    unit = await started(tmp_path)
    try:
        await unit.open_up()
        report = await SafetySupervisor(unit).check(load_state_table()["observing"])
        assert report.safe, report.reasons
    finally:
        await close_unit(unit)


async def test_rain_fails_the_weather_check_with_the_reason(tmp_path, midnight):
    unit = await started(tmp_path, scenario=load_scenario(RAIN))
    try:
        report = await SafetySupervisor(unit).check(load_state_table()["scheduling"])
        assert report.weather_unsafe and not report.safe
        assert any("rain" in reason for reason in report.failures["weather"])
    finally:
        await close_unit(unit)


async def test_wind_above_the_station_limit_is_unsafe(tmp_path, midnight):
    unit = await started(tmp_path, scenario=load_scenario([{"wind": 14.0, "gust": 15.0}]),
                         observatory={"safety": {"max_wind_m_s": 10}})
    try:
        reasons = await SafetySupervisor(unit).weather()
        assert any("wind 14.0 m/s is above 10 m/s" in r for r in reasons)
    finally:
        await close_unit(unit)


async def test_a_safety_monitor_that_cannot_be_read_counts_as_unsafe(tmp_path, midnight):
    unit = await started(tmp_path)
    try:
        monitor = unit.devices.safety_monitors["safety0"]
        await unit.components.standby("safety0")  # disconnects it
        reasons = await SafetySupervisor(unit).weather()
        assert any("safety0 cannot be read" in r for r in reasons)
        assert not monitor.connected
    finally:
        await close_unit(unit)


async def test_the_sun_check_uses_the_state_limit(tmp_path):
    with use_clock(VirtualClock("2026-12-15T04:20:00Z")):  # Sun about -8°
        unit = await started(tmp_path)
        try:
            safety = SafetySupervisor(unit)
            assert safety.sun("flat") == []
            (reason,) = safety.sun("observe")
            assert "above the observe limit -18.0°" in reason
        finally:
            await close_unit(unit)


async def test_daylight_fails_the_sun_check(tmp_path):
    with use_clock(VirtualClock("2026-12-15T03:30:00Z")):  # Sun at +2.7°
        unit = await started(tmp_path)
        try:
            (reason,) = SafetySupervisor(unit).sun("flat")
            assert "the Sun is at +2." in reason
        finally:
            await close_unit(unit)


async def test_a_closed_dome_fails_the_open_dome_check(tmp_path, midnight):
    unit = await started(tmp_path)
    try:
        safety = SafetySupervisor(unit)
        (reason,) = await safety.dome("open")
        assert "shutter is closed, expected open" in reason
        assert await safety.dome("closed") == []
    finally:
        await close_unit(unit)


async def test_a_dome_not_facing_the_mount_is_inconsistent(tmp_path, midnight):
    unit = await started(tmp_path)
    try:
        await unit.open_up()
        await unit.dome.set_slaved(False)
        await unit.mount.set_tracking(True)
        await unit.mount.slew_and_wait(3.0, 20.0)
        mount_az = (await unit.mount.state()).az_deg
        await unit.dome.slew_to_azimuth((mount_az + 90.0) % 360.0)
        await unit.dome.wait_until(lambda s: not s.slewing, timeout_s=600)
        (reason,) = await SafetySupervisor(unit).dome("open")
        assert "from the mount's" in reason and "limit 15°" in reason
        await unit.dome.set_slaved(True)  # it turns back to the mount
        await unit.dome.wait_until(lambda s: not s.slewing, timeout_s=600)
        assert await SafetySupervisor(unit).dome("open") == []
    finally:
        await close_unit(unit)


async def test_a_component_not_enabled_is_named(tmp_path, midnight):
    unit = await started(tmp_path)
    try:
        await unit.components.disable("mount0")
        reasons = SafetySupervisor(unit).components(None)
        assert reasons == ["mount0 is DISABLED"]
        only = SafetySupervisor(unit).components(("cam0", "nothing"))
        assert only == ["component nothing does not exist"]
    finally:
        await close_unit(unit)


async def test_a_component_that_stops_answering_is_named(tmp_path, midnight):
    unit = await started(tmp_path, observatory={"heartbeat_interval": "1 s"})
    try:
        component = unit.components["foc0"]
        await component.next_heartbeat(timeout_s=5)
        component.last_heartbeat = midnight.now().replace(hour=9)  # an hour ago
        reasons = SafetySupervisor(unit).components(None)
        assert any(r.startswith("foc0 sent no heartbeat for") for r in reasons)
    finally:
        await close_unit(unit)


async def test_too_little_disk_space_is_unsafe(tmp_path, midnight):
    unit = await started(tmp_path, observatory={"safety": {"min_free_disk_mb": 1e8}})
    try:
        (reason,) = SafetySupervisor(unit).disk()
        assert "MB free" in reason and "need 1e+08 MB" in reason
    finally:
        await close_unit(unit)


async def test_a_state_without_checks_is_always_safe(tmp_path, midnight):
    unit = await started(tmp_path, scenario=load_scenario(RAIN),
                         observatory={"safety": {"min_free_disk_mb": 1e8}})
    try:
        report = await SafetySupervisor(unit).check(StateSpec("parking", "parking"))
        assert report.safe
    finally:
        await close_unit(unit)
