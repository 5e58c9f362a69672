"""Alpaca rotator members over simulated rotators (the default unit has none)."""

from __future__ import annotations

import math

import pytest
from kinds_helpers import caller

from nocturna.alpaca.kinds.rotator import HANDLERS, device_state
from nocturna.core.errors import InvalidValueError, NotImplementedByDeviceError
from nocturna.devices.sim.rotator import SimRotator


@pytest.fixture
async def rotator(clock):
    device = SimRotator("rot0", speed_deg_s=10.0, mechanical_position_deg=0.0)
    await device.connect()
    return device


get, put = caller(HANDLERS)


async def test_static_and_state_members_read_the_device(rotator):
    assert await get(rotator, "canreverse") is True
    assert await get(rotator, "stepsize") == 0.01
    assert await get(rotator, "position") == 0.0
    assert await get(rotator, "mechanicalposition") == 0.0
    assert await get(rotator, "targetposition") == 0.0
    assert await get(rotator, "ismoving") is False and await get(rotator, "reverse") is False


async def test_move_absolute_turns_on_the_clock(rotator, clock):
    await put(rotator, "moveabsolute", Position=90.0)
    assert await get(rotator, "ismoving") is True
    assert await get(rotator, "targetposition") == pytest.approx(90.0)
    clock.advance(10)
    assert await get(rotator, "ismoving") is False
    assert await get(rotator, "position") == pytest.approx(90.0)


async def test_move_is_relative_and_wraps(rotator, clock):
    await put(rotator, "move", Position=-30.0)
    clock.advance(10)
    assert await get(rotator, "position") == pytest.approx(330.0)
    await put(rotator, "move", Position=400.0)
    clock.advance(30)
    assert await get(rotator, "position") == pytest.approx(10.0)


async def test_sync_changes_the_sky_angle_not_the_mechanism(rotator):
    await put(rotator, "sync", Position=200.0)
    assert await get(rotator, "position") == pytest.approx(200.0)
    assert await get(rotator, "mechanicalposition") == 0.0


async def test_move_mechanical_goes_to_a_raw_angle(rotator, clock):
    await put(rotator, "sync", Position=100.0)
    await put(rotator, "movemechanical", Position=20.0)
    clock.advance(5)
    assert await get(rotator, "mechanicalposition") == pytest.approx(20.0)
    assert await get(rotator, "position") == pytest.approx(120.0)


@pytest.mark.parametrize("angle", [360.0, -1.0, 720.0, math.nan, math.inf])
async def test_absolute_angles_outside_0_to_360_are_invalid_values(rotator, angle):
    for member in ("moveabsolute", "movemechanical", "sync"):
        with pytest.raises(InvalidValueError, match="0 <= position < 360"):
            await put(rotator, member, Position=angle)
    assert await get(rotator, "ismoving") is False and await get(rotator, "position") == 0.0


@pytest.mark.parametrize("delta", [math.nan, math.inf, -math.inf])
async def test_a_relative_move_must_be_finite(rotator, delta):
    with pytest.raises(InvalidValueError, match="finite"):
        await put(rotator, "move", Position=delta)


async def test_halt_stops_the_rotator(rotator, clock):
    await put(rotator, "moveabsolute", Position=90.0)
    clock.advance(3)
    await put(rotator, "halt")
    clock.advance(30)
    assert await get(rotator, "ismoving") is False
    assert await get(rotator, "position") == pytest.approx(30.0)


async def test_reverse_round_trip(rotator):
    await put(rotator, "reverse", Reverse=True)
    assert await get(rotator, "reverse") is True
    await put(rotator, "reverse", Reverse=False)
    assert await get(rotator, "reverse") is False


async def test_reverse_is_not_implemented_when_can_reverse_is_false(clock):
    device = SimRotator("fixed", can_reverse=False)
    await device.connect()
    assert await get(device, "canreverse") is False
    with pytest.raises(NotImplementedByDeviceError, match="CanReverse is false"):
        await get(device, "reverse")
    with pytest.raises(NotImplementedByDeviceError, match="CanReverse is false"):
        await put(device, "reverse", Reverse=True)


async def test_device_state(rotator, clock):
    await put(rotator, "sync", Position=50.0)
    await put(rotator, "moveabsolute", Position=70.0)
    clock.advance(1)
    assert await device_state(rotator) == {"IsMoving": True,
                                           "MechanicalPosition": pytest.approx(10.0),
                                           "Position": pytest.approx(60.0)}
