"""Alpaca focuser members over the simulated focuser of the default unit (and variants)."""

from __future__ import annotations

import pytest
from kinds_helpers import caller, connected

from nocturna.alpaca.kinds.focuser import HANDLERS, device_state
from nocturna.core.errors import InvalidValueError, NotImplementedByDeviceError
from nocturna.devices.factory import build_devices
from nocturna.devices.focuser import FocuserInfo
from nocturna.devices.sim.focuser import SimFocuser


class RelativeFocuser(SimFocuser):
    """A simulated focuser that says it only moves relatively."""

    async def info(self) -> FocuserInfo:
        info = await super().info()
        return FocuserInfo(absolute=False, max_step=info.max_step,
                           max_increment=info.max_increment, step_size_um=info.step_size_um,
                           temp_comp_available=info.temp_comp_available)


@pytest.fixture
async def focuser(config, clock):
    device = build_devices(config, simulate=True).focusers["foc0"]
    await device.connect()
    return device


get, put = caller(HANDLERS)


async def test_static_members_read_the_device_info(focuser):
    info = await focuser.info()
    assert await get(focuser, "absolute") is True
    assert await get(focuser, "maxstep") == info.max_step == 60000
    assert await get(focuser, "maxincrement") == info.max_increment
    assert await get(focuser, "stepsize") == info.step_size_um
    assert await get(focuser, "tempcompavailable") is True


async def test_state_members_read_the_device_state(focuser, config):
    state = await focuser.state()
    assert await get(focuser, "position") == state.position
    assert state.position == config.model.focusers[0].model_extra["position"]
    assert await get(focuser, "temperature") == pytest.approx(state.temperature_c)
    assert await get(focuser, "ismoving") is False and await get(focuser, "tempcomp") is False


async def test_move_is_absolute_and_takes_clock_time(focuser, clock):
    start = (await focuser.state()).position
    await put(focuser, "move", Position=start + 1000)
    assert await get(focuser, "ismoving") is True
    clock.advance(2)
    assert await get(focuser, "ismoving") is False
    assert await get(focuser, "position") == start + 1000


@pytest.mark.parametrize(("target", "end"), [(-500, 0), (60500, 60000)])
async def test_a_move_beyond_the_limits_stops_at_the_limit(focuser, clock, target, end):
    await put(focuser, "move", Position=target)
    clock.advance(60)
    assert await get(focuser, "position") == end


async def test_a_move_longer_than_max_increment_is_an_invalid_value(clock):
    device = await connected(SimFocuser("foc", max_increment=1000))
    with pytest.raises(InvalidValueError, match="1000"):
        await put(device, "move", Position=35000)
    assert await get(device, "ismoving") is False


async def test_halt_stops_a_move(focuser, clock):
    start = (await focuser.state()).position
    await put(focuser, "move", Position=40000)
    clock.advance(1)
    await put(focuser, "halt")
    clock.advance(30)
    assert await get(focuser, "ismoving") is False
    assert await get(focuser, "position") == start + 1000  # 1 s at 1000 steps/s


async def test_temperature_compensation_can_be_switched(focuser):
    await put(focuser, "tempcomp", TempComp=True)
    assert await get(focuser, "tempcomp") is True
    await put(focuser, "tempcomp", TempComp=False)
    assert await get(focuser, "tempcomp") is False


async def test_a_focuser_without_probe_or_step_size_refuses_them(clock):
    device = await connected(SimFocuser("foc", temperature_probe=False, step_size_um=None))
    for member in ("temperature", "stepsize"):
        with pytest.raises(NotImplementedByDeviceError):
            await get(device, member)
    assert await get(device, "tempcompavailable") is False
    assert await get(device, "tempcomp") is False
    with pytest.raises(NotImplementedByDeviceError, match="TempCompAvailable is false"):
        await put(device, "tempcomp", TempComp=True)
    assert await device_state(device) == {"IsMoving": False, "Position": 30000}


async def test_a_relative_focuser_moves_by_steps_and_hides_its_position(clock):
    device = await connected(RelativeFocuser("rel"))
    assert await get(device, "absolute") is False
    with pytest.raises(NotImplementedByDeviceError, match="Position"):
        await get(device, "position")
    await put(device, "move", Position=-700)
    clock.advance(5)
    assert (await device.state()).position == 29300
    assert "Position" not in await device_state(device)


async def test_device_state(focuser, clock):
    await put(focuser, "move", Position=30500)
    state = await focuser.state()
    assert await device_state(focuser) == {"IsMoving": True, "Position": state.position,
                                           "Temperature": pytest.approx(state.temperature_c)}
