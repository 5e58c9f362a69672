"""Alpaca filter wheel members over the simulated filter wheel of the default unit."""

from __future__ import annotations

import pytest
from kinds_helpers import caller

from nocturna.alpaca.kinds.filterwheel import HANDLERS, device_state
from nocturna.core.errors import InvalidValueError
from nocturna.devices.factory import build_devices


@pytest.fixture
async def wheel(config, clock):
    device = build_devices(config, simulate=True).filterwheels["fw0"]
    await device.connect()
    return device


get, put = caller(HANDLERS)


async def test_names_and_focus_offsets_are_the_devices(wheel):
    info = await wheel.info()
    names = await get(wheel, "names")
    assert names == info.names and len(names) == 8
    offsets = await get(wheel, "focusoffsets")
    assert offsets == info.focus_offsets and all(type(o) is int for o in offsets)


async def test_position_reads_minus_one_while_turning(wheel, clock):
    assert await get(wheel, "position") == 0
    await put(wheel, "position", Position=3)
    assert await get(wheel, "position") == -1
    assert await device_state(wheel) == {"Position": -1}
    clock.advance(5)
    assert await get(wheel, "position") == 3
    assert await device_state(wheel) == {"Position": 3}


@pytest.mark.parametrize("slot", [-1, 8, 100])
async def test_a_slot_outside_the_wheel_is_an_invalid_value(wheel, slot):
    with pytest.raises(InvalidValueError, match=r"0\.\.7"):
        await put(wheel, "position", Position=slot)
    assert await get(wheel, "position") == 0
