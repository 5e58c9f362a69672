"""The device factory shares a weather scenario and hands cameras the dome and the panel."""

from __future__ import annotations

import math

import pytest

from nocturna.core.clock import SimClock, use_clock
from nocturna.core.config import Config
from nocturna.core.errors import ConfigError
from nocturna.devices.factory import build_devices
from nocturna.devices.sim.scenario import Interval, RandomWeather, TimelineWeather

NIGHT = "2026-12-15T10:00Z"
RAIN = TimelineWeather([Interval(-math.inf, math.inf, {"rain_rate_mm_h": 2.0})])


def load(tmp_path, **overrides):
    return Config.load(environ={}, load_local=False,
                       overrides={"data_dir": str(tmp_path), **overrides})


@pytest.fixture
def clock():
    clock = SimClock(NIGHT, speed=0)
    with use_clock(clock):
        yield clock


async def test_a_shared_scenario_reaches_the_station_and_the_safety_monitor(tmp_path, clock):
    devices = build_devices(load(tmp_path), simulate=True, scenario=RAIN)
    station, monitor = devices.weather["weather0"], devices.safety_monitors["safety0"]
    assert station.scenario is RAIN and monitor.scenario is RAIN
    for device in (station, monitor):
        await device.connect()
    assert (await station.state()).rain_rate_mm_h == pytest.approx(2.0)
    assert not await monitor.is_safe()


async def test_without_a_scenario_the_weather_is_clear(tmp_path, clock):
    devices = build_devices(load(tmp_path), simulate=True)
    monitor = devices.safety_monitors["safety0"]
    await monitor.connect()
    assert await monitor.is_safe()


def test_a_device_with_its_own_seed_keeps_its_weather(tmp_path, clock):
    config = load(tmp_path, weather=[{"name": "weather0", "seed": 7}],
                  safety_monitors=[{"name": "safety0"}, {"name": "safety1", "seed": 9}])
    devices = build_devices(config, scenario=RAIN)
    assert isinstance(devices.weather["weather0"].scenario, RandomWeather)
    assert devices.safety_monitors["safety0"].scenario is RAIN  # names no station
    assert isinstance(devices.safety_monitors["safety1"].scenario, RandomWeather)


def test_a_camera_gets_the_dome_and_the_only_cover_calibrator(tmp_path):
    devices = build_devices(load(tmp_path))
    camera = devices.cameras["cam0"]
    assert devices.dome is not None and camera.dome is devices.dome
    assert camera.calibrator is devices.cover_calibrators["flat0"]


def test_a_camera_gets_the_cover_calibrator_it_names(tmp_path):
    config = load(tmp_path, cover_calibrators=[{"name": "flat0"}, {"name": "flat1"}],
                  **{"cameras[0].calibrator": "flat1"})
    devices = build_devices(config)
    assert devices.cameras["cam0"].calibrator is devices.cover_calibrators["flat1"]


def test_with_several_cover_calibrators_an_unnamed_one_is_not_guessed(tmp_path):
    config = load(tmp_path, cover_calibrators=[{"name": "flat0"}, {"name": "flat1"}])
    assert build_devices(config).cameras["cam0"].calibrator is None


def test_without_dome_or_cover_calibrator_the_camera_gets_none(tmp_path):
    devices = build_devices(load(tmp_path, dome=None, cover_calibrators=[]))
    camera = devices.cameras["cam0"]
    assert camera.dome is None and camera.calibrator is None


def test_an_unknown_calibrator_name_is_a_config_error_naming_it(tmp_path):
    config = load(tmp_path, **{"cameras[0].calibrator": "flat9"})
    with pytest.raises(ConfigError, match=r"cam0\.calibrator = 'flat9'.*known: flat0"):
        build_devices(config)
