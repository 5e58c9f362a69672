"""SimRotator: finite speed the short way, sync offset, mechanical vs sky, reverse, errors."""

from __future__ import annotations

import pytest
from sim_device_helpers import device_kwargs, frozen_clock

from nocturna.core.errors import (
    InvalidOperationError,
    InvalidValueError,
    NotConnectedError,
    NotImplementedByDeviceError,
)
from nocturna.devices.sim.rotator import SimRotator


async def make_rotator(**options):
    clock = frozen_clock()
    rotator = SimRotator("rot", **options, **device_kwargs(clock))
    await rotator.connect()
    return rotator, clock


async def test_move_goes_the_short_way_at_the_configured_speed():
    rotator, clock = await make_rotator(mechanical_position_deg=350.0, speed_deg_s=4.0)
    await rotator.move_absolute(10.0)  # 20° through 0: 5 s
    clock.advance(2.5)
    middle = await rotator.state()
    assert middle.is_moving and middle.position_deg == pytest.approx(0.0, abs=1e-9)
    assert middle.target_position_deg == pytest.approx(10.0)
    clock.advance(2.5)
    done = await rotator.state()
    assert not done.is_moving and done.position_deg == pytest.approx(10.0)


async def test_relative_move_adds_to_the_target():
    rotator, clock = await make_rotator()
    await rotator.move(30.0)
    clock.advance(60)
    assert (await rotator.state()).position_deg == pytest.approx(30.0)


async def test_sync_offsets_the_sky_angle_not_the_mechanism():
    rotator, clock = await make_rotator(mechanical_position_deg=100.0)
    await rotator.sync(40.0)
    state = await rotator.state()
    assert state.position_deg == pytest.approx(40.0)
    assert state.mechanical_position_deg == pytest.approx(100.0)
    await rotator.move_absolute(50.0)
    clock.advance(60)
    moved = await rotator.state()
    assert moved.position_deg == pytest.approx(50.0)
    assert moved.mechanical_position_deg == pytest.approx(110.0)


async def test_move_mechanical_ignores_the_sync_offset():
    rotator, clock = await make_rotator(sync_offset_deg=10.0)
    await rotator.move_mechanical(90.0)
    clock.advance(60)
    state = await rotator.state()
    assert state.mechanical_position_deg == pytest.approx(90.0)
    assert state.position_deg == pytest.approx(100.0)


async def test_reverse_keeps_the_angle_and_turns_the_other_way():
    rotator, clock = await make_rotator(mechanical_position_deg=100.0)
    await rotator.set_reverse(True)
    state = await rotator.state()
    assert state.reverse and state.position_deg == pytest.approx(100.0)
    await rotator.move_absolute(110.0)
    clock.advance(60)
    moved = await rotator.state()
    assert moved.position_deg == pytest.approx(110.0)
    assert moved.mechanical_position_deg == pytest.approx(90.0)


async def test_reverse_is_not_implemented_when_the_rotator_cannot_reverse():
    rotator, _ = await make_rotator(can_reverse=False)
    with pytest.raises(NotImplementedByDeviceError):
        await rotator.set_reverse(True)


async def test_halt_stops_where_the_rotator_is():
    rotator, clock = await make_rotator(speed_deg_s=3.0)
    await rotator.move_absolute(90.0)
    clock.advance(10)
    await rotator.halt()
    clock.advance(60)
    state = await rotator.state()
    assert not state.is_moving and state.position_deg == pytest.approx(30.0)
    assert state.target_position_deg == pytest.approx(30.0)


async def test_sync_while_moving_is_refused():
    rotator, _ = await make_rotator()
    await rotator.move_absolute(90.0)
    with pytest.raises(InvalidOperationError):
        await rotator.sync(10.0)


@pytest.mark.parametrize("angle", [-0.1, 360.0, 400.0])
async def test_angle_out_of_range_is_refused(angle):
    rotator, _ = await make_rotator()
    with pytest.raises(InvalidValueError):
        await rotator.move_absolute(angle)
    with pytest.raises(InvalidValueError):
        await rotator.move_mechanical(angle)
    with pytest.raises(InvalidValueError):
        await rotator.sync(angle)


@pytest.mark.parametrize("call", [
    lambda r: r.state(),
    lambda r: r.move_absolute(10.0),
    lambda r: r.sync(10.0),
    lambda r: r.halt(),
], ids=["state", "move", "sync", "halt"])
async def test_members_while_disconnected_raise_not_connected(call):
    rotator = SimRotator("rot", **device_kwargs(frozen_clock()))
    with pytest.raises(NotConnectedError):
        await call(rotator)
