"""SimSafetyMonitor: verdicts and reasons on a weather scenario, limits, safe delay."""

from __future__ import annotations

import pytest
from sim_device_helpers import device_kwargs, frozen_clock

from nocturna.core.config.models import DeviceConfig
from nocturna.core.errors import InvalidValueError, NotConnectedError
from nocturna.devices.sim.safety import SimSafetyMonitor
from nocturna.devices.sim.weather import (
    RandomWeather,
    SimObservingConditions,
    Weather,
    scenario_from_data,
)

TIMELINE = [
    {"from": "2026-12-15T09:00Z", "until": "2026-12-15T10:00Z", "clouds": 80},
    {"from": "2026-12-15T10:00Z", "until": "2026-12-15T11:00Z", "rain": 1.5},
    {"from": "2026-12-15T11:00Z", "until": "2026-12-15T12:00Z", "wind": 15},
    {"from": "2026-12-15T12:00Z", "until": "2026-12-15T13:00Z", "humidity": 95},
    {"from": "2026-12-15T13:00Z", "until": "2026-12-15T14:00Z", "wind": 8, "gust": 22},
]


async def make_monitor(data=None, **options):
    clock = frozen_clock()
    scenario = scenario_from_data(data if data is not None else TIMELINE)
    monitor = SimSafetyMonitor("safety", scenario=scenario, **options, **device_kwargs(clock))
    await monitor.connect()
    return monitor, clock


async def test_clear_calm_weather_is_safe():
    monitor, _ = await make_monitor()
    state = await monitor.state()
    assert state.is_safe and state.reasons == []
    assert await monitor.is_safe()


@pytest.mark.parametrize(("when", "reason"), [
    ("2026-12-15T09:30:00Z", "cloud cover 80 % is above 50 %"),
    ("2026-12-15T10:30:00Z", "raining (1.5 mm/h)"),
    ("2026-12-15T11:30:00Z", "wind 15.0 m/s is above 12 m/s"),
    ("2026-12-15T12:30:00Z", "humidity 95 % is above 90 %"),
    ("2026-12-15T13:30:00Z", "gusts 22.0 m/s are above 18 m/s"),
])
async def test_scripted_weather_gives_unsafe_verdicts_with_reasons(when, reason):
    monitor, clock = await make_monitor()
    clock.set_time(when)
    state = await monitor.state()
    assert not state.is_safe
    assert reason in state.reasons


async def test_rain_gives_every_reason_that_applies():
    monitor, clock = await make_monitor()
    clock.set_time("2026-12-15T10:30:00Z")
    reasons = (await monitor.state()).reasons
    assert reasons == ["raining (1.5 mm/h)", "cloud cover 100 % is above 50 %",
                       "humidity 95 % is above 90 %"]


async def test_verdict_returns_to_safe_after_the_interval():
    monitor, clock = await make_monitor()
    clock.set_time("2026-12-15T14:00:00Z")
    assert (await monitor.state()).is_safe


async def test_limits_are_configurable():
    monitor, clock = await make_monitor(max_cloud_cover_pct=90.0, max_rain_rate_mm_h=2.0,
                                        max_humidity_pct=100.0)
    clock.set_time("2026-12-15T09:30:00Z")
    assert (await monitor.state()).is_safe
    clock.set_time("2026-12-15T10:30:00Z")
    assert (await monitor.state()).reasons == ["cloud cover 100 % is above 90 %"]


async def test_safe_delay_keeps_it_unsafe_after_the_weather_clears():
    monitor, clock = await make_monitor(safe_delay_s=1800)
    clock.set_time("2026-12-15T14:10:00Z")
    state = await monitor.state()
    assert not state.is_safe and "waiting 1800 s" in state.reasons[0]
    clock.set_time("2026-12-15T14:31:00Z")
    assert (await monitor.state()).is_safe


async def test_verdict_change_is_published():
    monitor, clock = await make_monitor()
    subscription = monitor.events.subscribe("safetymonitor.*")
    await monitor.state()
    clock.set_time("2026-12-15T09:30:00Z")
    await monitor.state()
    (event,) = subscription.drain()
    assert event.topic == "safetymonitor.verdict.changed" and event.data["is_safe"] is False


async def test_shared_scenario_gives_the_station_and_the_monitor_the_same_weather():
    clock = frozen_clock()
    scenario = RandomWeather(21, cloudiness=0.8)
    station = SimObservingConditions("wx", scenario=scenario, update_interval_s=0,
                                     **device_kwargs(clock))
    monitor = SimSafetyMonitor("safety", scenario=scenario, **device_kwargs(clock))
    await station.connect()
    await monitor.connect()
    for _ in range(48):
        clock.advance(900)
        conditions = await station.state()
        weather = Weather(cloud_cover_pct=conditions.cloud_cover_pct,
                          rain_rate_mm_h=conditions.rain_rate_mm_h,
                          humidity_pct=conditions.humidity_pct,
                          wind_speed_m_s=conditions.wind_speed_m_s,
                          wind_gust_m_s=conditions.wind_gust_m_s)
        assert (await monitor.state()).reasons == monitor.reasons_for(weather)


async def test_negative_limit_is_refused():
    with pytest.raises(InvalidValueError, match="max_wind_m_s"):
        SimSafetyMonitor("safety", max_wind_m_s=-1)


@pytest.mark.parametrize("call", [lambda m: m.state(), lambda m: m.info(),
                                  lambda m: m.is_safe()], ids=["state", "info", "is_safe"])
async def test_members_while_disconnected_raise_not_connected(call):
    monitor = SimSafetyMonitor("safety", **device_kwargs(frozen_clock()))
    with pytest.raises(NotConnectedError):
        await call(monitor)


async def test_from_config_reads_an_inline_scenario_and_limits():
    clock = frozen_clock()
    monitor = SimSafetyMonitor.from_config(
        DeviceConfig(name="safety", scenario=[{"from": "2026-12-15T08:30Z", "sky": "rain"}],
                     max_cloud_cover_pct=70, safe_delay_s="10 min"), clock=clock)
    await monitor.connect()
    assert monitor.safe_delay_s == 600.0
    clock.set_time("2026-12-15T09:00:00Z")
    assert "raining (2.0 mm/h)" in (await monitor.state()).reasons


async def test_from_config_uses_the_scenario_shared_in_the_context():
    shared = RandomWeather(9)
    monitor = SimSafetyMonitor.from_config(DeviceConfig(name="safety"), scenario=shared)
    assert monitor.scenario is shared


async def test_from_config_judges_the_scenario_of_the_referenced_station():
    station = SimObservingConditions("weather0", scenario=RandomWeather(3))
    monitor = SimSafetyMonitor.from_config(DeviceConfig(name="safety0", weather="weather0"),
                                           weather=station)
    assert monitor.scenario is station.scenario


async def test_factory_path_imports_the_monitor_from_the_weather_module():
    from nocturna.devices.sim import weather

    assert weather.SimSafetyMonitor is SimSafetyMonitor
