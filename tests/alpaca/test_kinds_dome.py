"""Alpaca dome members over the simulated dome of the default unit and a roll-off roof."""

from __future__ import annotations

import math

import pytest
from kinds_helpers import caller

from nocturna.alpaca.kinds.dome import HANDLERS, device_state
from nocturna.core.errors import InvalidValueError, NotImplementedByDeviceError
from nocturna.devices.factory import build_devices
from nocturna.devices.sim.dome import SimDome
from nocturna.devices.types import ShutterState


@pytest.fixture
async def dome(config, clock):
    device = build_devices(config, simulate=True).dome
    await device.mount.connect()
    await device.connect()
    return device


@pytest.fixture
async def roof(clock):
    device = SimDome("roof", is_roof=True)
    await device.connect()
    return device


get, put = caller(HANDLERS)


async def test_capability_flags_are_the_devices(dome):
    info = await dome.info()
    for member, field in (("canfindhome", "can_find_home"), ("canpark", "can_park"),
                          ("cansetaltitude", "can_set_altitude"),
                          ("cansetazimuth", "can_set_azimuth"), ("cansetpark", "can_set_park"),
                          ("cansetshutter", "can_set_shutter"), ("canslave", "can_slave"),
                          ("cansyncazimuth", "can_sync_azimuth")):
        assert await get(dome, member) is getattr(info, field), member
    assert info.can_slave and info.can_set_azimuth and not info.can_set_altitude


async def test_state_members_read_the_device(dome):
    state = await dome.state()
    assert await get(dome, "azimuth") == state.azimuth_deg == 180.0
    assert await get(dome, "atpark") is True and await get(dome, "athome") is False
    status = await get(dome, "shutterstatus")
    assert status == ShutterState.CLOSED and int(status) == 1
    assert await get(dome, "slewing") is False and await get(dome, "slaved") is False


async def test_a_dome_without_altitude_refuses_altitude_members(dome):
    with pytest.raises(NotImplementedByDeviceError, match="Altitude"):
        await get(dome, "altitude")
    with pytest.raises(NotImplementedByDeviceError, match="CanSetAltitude is false"):
        await put(dome, "slewtoaltitude", Altitude=30.0)


async def test_slew_to_azimuth_moves_on_the_clock(dome, clock):
    await put(dome, "slewtoazimuth", Azimuth=90.0)
    assert await get(dome, "slewing") is True and await get(dome, "atpark") is False
    clock.advance(60)
    assert await get(dome, "slewing") is False
    assert await get(dome, "azimuth") == pytest.approx(90.0)


@pytest.mark.parametrize("azimuth", [360.0, -0.5, 400.0, math.nan, math.inf])
async def test_azimuth_outside_0_to_360_is_an_invalid_value(dome, azimuth):
    for member in ("slewtoazimuth", "synctoazimuth"):
        with pytest.raises(InvalidValueError, match=r"0 <= azimuth < 360"):
            await put(dome, member, Azimuth=azimuth)
    assert (await dome.state()).azimuth_deg == 180.0 and not (await dome.state()).slewing


async def test_sync_to_azimuth_redefines_the_position(dome):
    await put(dome, "synctoazimuth", Azimuth=10.5)
    assert await get(dome, "azimuth") == pytest.approx(10.5)


async def test_shutter_opens_and_closes(dome, clock):
    await put(dome, "openshutter")
    assert await get(dome, "shutterstatus") == ShutterState.OPENING
    assert await get(dome, "slewing") is True
    clock.advance(31)
    assert await get(dome, "shutterstatus") == ShutterState.OPEN
    await put(dome, "closeshutter")
    clock.advance(31)
    assert await get(dome, "shutterstatus") == ShutterState.CLOSED


async def test_find_home_park_and_set_park(dome, clock):
    await put(dome, "findhome")
    clock.advance(60)
    assert await get(dome, "athome") is True and await get(dome, "azimuth") == pytest.approx(0)
    await put(dome, "slewtoazimuth", Azimuth=45.0)
    clock.advance(60)
    await put(dome, "setpark")
    await put(dome, "findhome")
    clock.advance(60)
    await put(dome, "park")
    clock.advance(60)
    assert await get(dome, "atpark") is True and await get(dome, "azimuth") == pytest.approx(45)


async def test_abort_slew_stops_the_dome(dome, clock):
    await put(dome, "slewtoazimuth", Azimuth=90.0)  # 90° at 4°/s
    clock.advance(5)
    await put(dome, "abortslew")
    stopped = await get(dome, "azimuth")
    clock.advance(60)
    assert await get(dome, "slewing") is False and await get(dome, "azimuth") == stopped
    assert stopped == pytest.approx(160.0)


async def test_slaved_follows_the_put(dome):
    await put(dome, "slaved", Slaved=True)
    assert await get(dome, "slaved") is True
    await put(dome, "slaved", Slaved=False)
    assert await get(dome, "slaved") is False


async def test_device_state_of_a_rotating_dome(dome):
    state = await dome.state()
    assert await device_state(dome) == {"AtHome": False, "AtPark": True, "Azimuth": 180.0,
                                        "ShutterStatus": state.shutter_status,
                                        "Slewing": False}


async def test_a_roof_has_no_azimuth_and_refuses_azimuth_members(roof):
    with pytest.raises(NotImplementedByDeviceError, match="Azimuth"):
        await get(roof, "azimuth")
    refused = {"slewtoazimuth": {"Azimuth": 10.0}, "synctoazimuth": {"Azimuth": 10.0},
               "park": {}, "setpark": {}, "findhome": {}, "slaved": {"Slaved": True}}
    for member, args in refused.items():
        with pytest.raises(NotImplementedByDeviceError, match="is false"):
            await put(roof, member, **args)
    assert await get(roof, "canslave") is False and await get(roof, "slaved") is False


async def test_a_roof_still_opens_and_reports_its_state(roof, clock):
    await put(roof, "openshutter")
    clock.advance(31)
    assert await get(roof, "shutterstatus") == ShutterState.OPEN
    assert await device_state(roof) == {"AtHome": False, "AtPark": False,
                                        "ShutterStatus": ShutterState.OPEN, "Slewing": False}
