"""Weather scenarios (timeline and random) and SimObservingConditions."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from sim_device_helpers import device_kwargs, frozen_clock

from nocturna.core.config.models import DeviceConfig
from nocturna.core.errors import ConfigError, InvalidValueError, NotConnectedError
from nocturna.devices.sim.weather import (
    RandomWeather,
    SimObservingConditions,
    TimelineWeather,
    Weather,
    load_scenario,
    scenario_from_data,
)

START = datetime(2026, 12, 15, 8, 0, tzinfo=UTC)  # 22:00 on Dec 14 in Hawaii

TIMELINE = """\
# a night at Mauna Loa
timezone: US/Hawaii
defaults: {clouds: 5, humidity: 40, wind: 4, gust: 6, temperature: 6}
timeline:
  - {until: "2026-12-15T09:00Z", sky: clear}
  - {from: "2026-12-15T10:00Z", until: "2026-12-15T11:00Z", clouds: 80}
  - {from: "03:00", until: "04:00", rain: 2.0}
  - {from: "05:00", wind: 20}
"""


def at(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@pytest.fixture
def timeline_file(tmp_path):
    path = tmp_path / "night.yaml"
    path.write_text(TIMELINE, encoding="utf-8")
    return path


@pytest.fixture
def timeline(timeline_file):
    return load_scenario(timeline_file, start=START)


# ----------------------------------------------------------------- timeline
def test_timeline_gives_the_scripted_values_inside_intervals(timeline):
    assert timeline.at(at("2026-12-15T08:30Z")).cloud_cover_pct == 0.0  # clear
    cloudy = timeline.at(at("2026-12-15T10:30Z"))
    assert cloudy.cloud_cover_pct == 80.0 and cloudy.humidity_pct == 40.0


def test_between_intervals_the_defaults_apply(timeline):
    between = timeline.at(at("2026-12-15T09:30Z"))
    assert between == Weather(cloud_cover_pct=5, humidity_pct=40, wind_speed_m_s=4,
                              wind_gust_m_s=6, temperature_c=6)


def test_intervals_are_half_open(timeline):
    assert timeline.at(at("2026-12-15T10:00Z")).cloud_cover_pct == 80.0
    assert timeline.at(at("2026-12-15T11:00Z")).cloud_cover_pct == 5.0


def test_hh_mm_times_before_noon_fall_on_the_morning_after_the_start(timeline):
    # 03:00 Hawaii on Dec 15 is 13:00 UTC
    assert timeline.at(at("2026-12-15T12:59Z")).rain_rate_mm_h == 0.0
    assert timeline.at(at("2026-12-15T13:00Z")).rain_rate_mm_h == 2.0


def test_hh_mm_times_after_noon_fall_on_the_evening_of_the_start():
    scenario = scenario_from_data({"timezone": "US/Hawaii",
                                   "timeline": [{"from": "23:00", "clouds": 50}]}, start=START)
    assert scenario.at(at("2026-12-15T08:59Z")).cloud_cover_pct == 0.0
    assert scenario.at(at("2026-12-15T09:00Z")).cloud_cover_pct == 50.0  # 23:00 on Dec 14


def test_night_key_overrides_the_scenario_start():
    scenario = scenario_from_data({"night": "2026-12-20", "timeline": [
        {"from": "22:00", "until": "23:00", "clouds": 90}]}, start=START)
    assert scenario.at(at("2026-12-20T22:30Z")).cloud_cover_pct == 90.0


def test_rain_alone_implies_overcast_and_humid(timeline):
    raining = timeline.at(at("2026-12-15T13:30Z"))
    assert (raining.rain_rate_mm_h, raining.cloud_cover_pct, raining.humidity_pct) == (
        2.0, 100.0, 95.0)


def test_wind_alone_implies_gusts(timeline):
    windy = timeline.at(at("2026-12-15T16:00Z"))
    assert windy.wind_speed_m_s == 20.0 and windy.wind_gust_m_s == 30.0


def test_open_ended_interval_lasts_to_the_end_of_time(timeline):
    assert timeline.at(at("2027-06-01T00:00Z")).wind_speed_m_s == 20.0


def test_from_defaults_to_the_previous_until():
    scenario = scenario_from_data([{"until": "2026-12-15T09:00Z", "clouds": 10},
                                   {"until": "2026-12-15T10:00Z", "clouds": 60}])
    assert scenario.at(at("2026-12-15T08:00Z")).cloud_cover_pct == 10.0
    assert scenario.at(at("2026-12-15T09:30Z")).cloud_cover_pct == 60.0
    assert scenario.at(at("2026-12-15T10:30Z")).cloud_cover_pct == 0.0


def test_later_entries_win_where_intervals_overlap():
    scenario = scenario_from_data([
        {"from": "2026-12-15T08:00Z", "until": "2026-12-15T12:00Z", "clouds": 30},
        {"from": "2026-12-15T09:00Z", "until": "2026-12-15T10:00Z", "sky": "storm"}])
    assert scenario.at(at("2026-12-15T09:30Z")).rain_rate_mm_h == 10.0
    assert scenario.at(at("2026-12-15T10:30Z")).cloud_cover_pct == 30.0


def test_presets_set_their_values():
    scenario = scenario_from_data([{"sky": "fog"}])
    fog = scenario.at(at("2026-12-15T09:00Z"))
    assert (fog.cloud_cover_pct, fog.humidity_pct) == (100.0, 100.0)


@pytest.mark.parametrize(("data", "where"), [
    ([{"from": "2026-12-15T09:00Z", "clouds": "lots"}], "timeline[0].clouds"),
    ([{"clouds": 120}], "timeline[0].clouds"),
    ([{"cloud": 10}], "timeline[0].cloud"),
    ([{"sky": "sunny"}], "timeline[0].sky"),
    ([{"from": "yesterday", "clouds": 1}], "timeline[0].from"),
    ([{"clouds": 1}, {"from": 2300, "clouds": 2}], "timeline[1].from"),
    ([{"from": "2026-12-15T10:00Z", "until": "2026-12-15T09:00Z"}], "timeline[0]"),
    ([{"from": "2026-12-15T09:00Z"}, {"clouds": 3}], "timeline[1].from"),
    ([{"from": "09:00", "clouds": 3}], "timeline[0].from"),
    ([{"wind": 10, "gust": 5}], "timeline[0].gust"),
    ({"timeline": [], "weather": 1}, "weather"),
    ({"defaults": {"clouds": -1}}, "defaults.clouds"),
    ({"random": {"cloudiness": 0.5}}, "random"),
    ({"night": "someday"}, "night"),
], ids=["not-a-number", "out-of-range", "unknown-field", "unknown-preset", "bad-time",
        "unquoted-time", "from-after-until", "from-needed", "hh-mm-without-night",
        "gust-below-wind", "unknown-key", "bad-default", "random-without-seed", "bad-night"])
def test_invalid_scenario_names_the_entry_and_field(data, where):
    with pytest.raises(ConfigError) as caught:
        scenario_from_data(data)
    assert where in str(caught.value)


def test_invalid_scenario_is_an_invalid_value_error():
    with pytest.raises(InvalidValueError):
        scenario_from_data([{"clouds": "lots"}])


def test_invalid_yaml_file_names_the_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("timeline: [{from: '22:00', clouds: 80\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken\.yaml"):
        load_scenario(path, start=START)


def test_problems_in_a_file_are_prefixed_with_its_name(tmp_path):
    path = tmp_path / "night.yaml"
    path.write_text("- {clouds: 300}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"night\.yaml: timeline\[0\]\.clouds"):
        load_scenario(path)


# ------------------------------------------------------------------- random
def test_random_weather_is_reproducible_from_its_seed():
    times = [at("2026-12-15T08:00Z") + 600 * i for i in range(50)]
    first = [RandomWeather(7).at(t) for t in times]
    again = [RandomWeather(7).at(t) for t in reversed(times)][::-1]
    assert first == again


def test_random_weather_differs_between_seeds():
    times = [at("2026-12-15T08:00Z") + 600 * i for i in range(50)]
    assert [RandomWeather(1).at(t) for t in times] != [RandomWeather(2).at(t) for t in times]


def test_random_weather_changes_smoothly():
    weather = RandomWeather(3, cloudiness=0.6)
    readings = [weather.at(at("2026-12-15T08:00Z") + 60 * i) for i in range(600)]
    for a, b in itertools.pairwise(readings):
        assert abs(a.cloud_cover_pct - b.cloud_cover_pct) < 10
        assert abs(a.temperature_c - b.temperature_c) < 0.2


def test_random_weather_stays_plausible_and_varies():
    weather = RandomWeather(11, cloudiness=0.5)
    readings = [weather.at(at("2026-12-01T00:00Z") + 900 * i) for i in range(4 * 24 * 30)]
    assert all(0 <= r.cloud_cover_pct <= 100 and 0 <= r.humidity_pct <= 100 for r in readings)
    assert all(r.wind_gust_m_s >= r.wind_speed_m_s >= 0 for r in readings)
    assert all(-20 < r.temperature_c < 30 and r.rain_rate_mm_h >= 0 for r in readings)
    clear = sum(r.cloud_cover_pct == 0 for r in readings) / len(readings)
    assert 0.2 < clear < 0.95
    assert any(r.rain_rate_mm_h > 0 for r in readings)


def test_timeline_can_script_over_random_weather():
    scenario = scenario_from_data({"random": {"seed": 5}, "timeline": [
        {"from": "2026-12-15T09:00Z", "until": "2026-12-15T10:00Z", "clouds": 100}]})
    assert isinstance(scenario, TimelineWeather)
    inside = scenario.at(at("2026-12-15T09:30Z"))
    assert inside.cloud_cover_pct == 100.0
    assert inside.wind_speed_m_s == RandomWeather(5).at(at("2026-12-15T09:30Z")).wind_speed_m_s


# ------------------------------------------------------------------ station
async def make_station(scenario=None, **options):
    clock = frozen_clock()
    station = SimObservingConditions("wx", scenario=scenario, **options, **device_kwargs(clock))
    await station.connect()
    return station, clock


async def test_station_reads_the_scenario_at_the_clock_time(timeline):
    station, clock = await make_station(timeline, update_interval_s=0)
    clock.set_time("2026-12-15T10:30:00Z")
    state = await station.state()
    assert state.cloud_cover_pct == 80.0 and state.time_since_last_update_s == 0.0
    clock.set_time("2026-12-15T13:30:00Z")
    assert (await station.state()).rain_rate_mm_h == 2.0


async def test_station_updates_on_its_interval(timeline):
    station, clock = await make_station(timeline, update_interval_s=60)
    clock.set_time("2026-12-15T09:59:30Z")
    before = await station.state()
    assert before.cloud_cover_pct == 5.0 and before.time_since_last_update_s == 30.0
    clock.advance(30)
    assert (await station.state()).cloud_cover_pct == 80.0


async def test_refresh_reads_the_sensors_now(timeline):
    station, clock = await make_station(timeline, update_interval_s=4 * 3600)
    clock.set_time("2026-12-15T10:30:00Z")
    assert (await station.state()).cloud_cover_pct == 0.0  # last updated at 08:00 (clear)
    await station.refresh()
    state = await station.state()
    assert state.cloud_cover_pct == 80.0 and state.time_since_last_update_s == 0.0


async def test_average_period_averages_the_readings(timeline):
    station, clock = await make_station(timeline, update_interval_s=0)
    clock.set_time("2026-12-15T10:30:00Z")
    await station.set_average_period(1.0)  # 09:30..10:30: half at 5 %, half at 80 %
    state = await station.state()
    assert state.average_period_h == 1.0
    assert state.cloud_cover_pct == pytest.approx((6 * 5 + 7 * 80) / 13)


async def test_derived_readings_are_consistent():
    station, _ = await make_station(update_interval_s=0)
    state = await station.state()
    assert state.dew_point_c < state.temperature_c
    assert state.sky_temperature_c == pytest.approx(state.temperature_c - 30.0)


async def test_absent_sensors_read_none():
    station, _ = await make_station(sensors=["cloud_cover_pct", "rain_rate_mm_h"])
    state = await station.state()
    assert state.cloud_cover_pct == 0.0 and state.temperature_c is None
    assert state.sky_quality_mag_arcsec2 is None
    assert set((await station.info()).sensor_descriptions) == {"cloud_cover_pct",
                                                               "rain_rate_mm_h"}


@pytest.mark.parametrize("hours", [-1.0, 25.0])
async def test_invalid_average_period_is_refused(hours):
    station, _ = await make_station()
    with pytest.raises(InvalidValueError):
        await station.set_average_period(hours)


async def test_unknown_sensor_is_refused():
    with pytest.raises(InvalidValueError, match="unknown sensor"):
        SimObservingConditions("wx", sensors=["rainbow"])


@pytest.mark.parametrize("call", [
    lambda s: s.state(),
    lambda s: s.info(),
    lambda s: s.refresh(),
    lambda s: s.set_average_period(0.5),
], ids=["state", "info", "refresh", "average"])
async def test_members_while_disconnected_raise_not_connected(call):
    station = SimObservingConditions("wx", **device_kwargs(frozen_clock()))
    with pytest.raises(NotConnectedError):
        await call(station)


async def test_from_config_loads_the_scenario_file(timeline_file):
    clock = frozen_clock()
    station = SimObservingConditions.from_config(
        DeviceConfig(name="wx", scenario=str(timeline_file), update_interval_s=0), clock=clock)
    await station.connect()
    clock.set_time("2026-12-15T13:30:00Z")
    assert (await station.state()).rain_rate_mm_h == 2.0


async def test_from_config_with_a_seed_gives_random_weather():
    station = SimObservingConditions.from_config(DeviceConfig(name="wx", seed=4))
    assert isinstance(station.scenario, RandomWeather) and station.scenario.seed == 4
