"""SimFocuser: finite speed, limits, halt, temperature drift and compensation, errors."""

from __future__ import annotations

import pytest
from sim_device_helpers import device_kwargs, frozen_clock, run_advancing

from nocturna.core.config.models import DeviceConfig
from nocturna.core.errors import (
    ConfigError,
    InvalidValueError,
    NotConnectedError,
    NotImplementedByDeviceError,
)
from nocturna.devices.sim.focuser import SimFocuser, daily_temperature_c


async def make_focuser(**options):
    clock = frozen_clock()
    focuser = SimFocuser("focuser", **options, **device_kwargs(clock))
    await focuser.connect()
    return focuser, clock


async def test_info_reports_limits_and_capabilities():
    focuser, _ = await make_focuser(max_step=50000, max_increment=10000)
    info = await focuser.info()
    assert info.absolute and info.max_step == 50000 and info.max_increment == 10000
    assert info.temp_comp_available


async def test_move_takes_distance_over_speed():
    focuser, clock = await make_focuser(position=30000, speed_steps_s=1000)
    await focuser.move_to(31000)
    clock.advance(0.5)
    middle = await focuser.state()
    assert middle.is_moving and middle.position == 30500
    clock.advance(0.49)
    assert (await focuser.state()).is_moving
    clock.advance(0.01)
    done = await focuser.state()
    assert not done.is_moving and done.position == 31000


async def test_move_by_moves_relative_to_the_current_position():
    focuser, clock = await make_focuser(position=1000)
    await focuser.move_by(-250)
    clock.advance(1)
    assert (await focuser.state()).position == 750


async def test_move_and_wait_returns_at_the_position():
    focuser, clock = await make_focuser(position=0)
    state = await run_advancing(clock, focuser.move_and_wait(2000), step_s=0.2)
    assert state.position == 2000 and not state.is_moving


async def test_halt_stops_where_the_focuser_is():
    focuser, clock = await make_focuser(position=0, speed_steps_s=1000)
    await focuser.move_to(10000)
    clock.advance(2.0)
    await focuser.halt()
    clock.advance(60)
    state = await focuser.state()
    assert not state.is_moving and state.position == 2000


async def test_move_events_are_published():
    focuser, clock = await make_focuser(position=0)
    subscription = focuser.events.subscribe("focuser.move.*")
    await focuser.move_to(500)
    clock.advance(1)
    await focuser.state()
    events = subscription.drain()
    assert [e.topic for e in events] == ["focuser.move.started", "focuser.move.finished"]
    assert events[1].data["position"] == 500


@pytest.mark.parametrize("position", [-1, 60001, 100000])
async def test_position_outside_the_limits_is_refused(position):
    focuser, _ = await make_focuser()
    with pytest.raises(InvalidValueError, match=r"not in 0\.\.60000"):
        await focuser.move_to(position)


async def test_fractional_position_is_refused():
    focuser, _ = await make_focuser()
    with pytest.raises(InvalidValueError):
        await focuser.move_to(1000.5)


async def test_move_larger_than_the_max_increment_is_refused():
    focuser, _ = await make_focuser(position=30000, max_increment=5000)
    with pytest.raises(InvalidValueError, match="largest move"):
        await focuser.move_to(36000)


# -------------------------------------------------------------- temperature
async def test_temperature_follows_the_daily_curve_on_the_clock():
    focuser, clock = await make_focuser(mean_temperature_c=5.0, temperature_amplitude_c=4.0)
    first = (await focuser.state()).temperature_c
    assert first == pytest.approx(daily_temperature_c(
        clock.timestamp(), mean_c=5.0, amplitude_c=4.0, longitude_deg=-155.58))
    clock.advance(2 * 3600)  # 22:00 → 00:00 local: cooling
    later = (await focuser.state()).temperature_c
    assert 0.2 < first - later < 3.0


async def test_temperature_is_coldest_before_dawn():
    assert daily_temperature_c(3 * 3600, mean_c=5, amplitude_c=4, longitude_deg=0) == \
        pytest.approx(1.0)
    assert daily_temperature_c(15 * 3600, mean_c=5, amplitude_c=4, longitude_deg=0) == \
        pytest.approx(9.0)


async def test_without_a_probe_there_is_no_temperature_nor_compensation():
    focuser, _ = await make_focuser(temperature_probe=False)
    assert (await focuser.state()).temperature_c is None
    assert not (await focuser.info()).temp_comp_available
    with pytest.raises(NotImplementedByDeviceError):
        await focuser.set_temp_comp(True)


async def test_temperature_compensation_follows_the_temperature():
    focuser, clock = await make_focuser(position=30000, temp_comp_steps_per_c=-20.0)
    await focuser.set_temp_comp(True)
    start = await focuser.state()
    clock.advance(3 * 3600)
    later = await focuser.state()
    expected = 30000 + round(-20.0 * (later.temperature_c - start.temperature_c))
    assert later.temp_comp and later.position == expected != 30000


async def test_turning_compensation_off_keeps_the_compensated_position():
    focuser, clock = await make_focuser(position=30000, temp_comp_steps_per_c=-20.0)
    await focuser.set_temp_comp(True)
    clock.advance(3 * 3600)
    compensated = (await focuser.state()).position
    await focuser.set_temp_comp(False)
    clock.advance(3 * 3600)
    assert (await focuser.state()).position == compensated


# --------------------------------------------------------------- connection
@pytest.mark.parametrize("call", [
    lambda f: f.state(),
    lambda f: f.info(),
    lambda f: f.move_to(100),
    lambda f: f.halt(),
    lambda f: f.set_temp_comp(True),
], ids=["state", "info", "move_to", "halt", "temp_comp"])
async def test_members_while_disconnected_raise_not_connected(call):
    focuser = SimFocuser("focuser", **device_kwargs(frozen_clock()))
    with pytest.raises(NotConnectedError):
        await call(focuser)


async def test_from_config_reads_options():
    focuser = SimFocuser.from_config(DeviceConfig(name="foc0", max_step=20000, position=100,
                                                  speed_steps_s=500))
    assert (focuser.max_step, focuser.max_increment) == (20000, 20000)


async def test_from_config_refuses_a_bad_value_naming_the_key():
    with pytest.raises(ConfigError, match=r"foc0\.max_step"):
        SimFocuser.from_config(DeviceConfig(name="foc0", max_step="many"))
