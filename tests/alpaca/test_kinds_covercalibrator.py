"""Alpaca cover calibrator members over the default unit's flat panel and partial ones."""

from __future__ import annotations

import pytest
from kinds_helpers import caller, connected

from nocturna.alpaca.kinds.covercalibrator import HANDLERS, device_state
from nocturna.core.errors import InvalidValueError, NotImplementedByDeviceError
from nocturna.devices.factory import build_devices
from nocturna.devices.sim.covercalibrator import SimCoverCalibrator
from nocturna.devices.types import CalibratorState, CoverState


@pytest.fixture
async def panel(config, clock):
    device = build_devices(config, simulate=True).cover_calibrators["flat0"]
    await device.connect()
    return device


get, put = caller(HANDLERS)


async def test_initial_state_is_the_devices(panel):
    assert await get(panel, "coverstate") == CoverState.CLOSED
    assert await get(panel, "calibratorstate") == CalibratorState.OFF
    assert int(await get(panel, "calibratorstate")) == 1
    assert await get(panel, "brightness") == 0
    assert await get(panel, "maxbrightness") == (await panel.info()).max_brightness == 255
    assert await get(panel, "covermoving") is False
    assert await get(panel, "calibratorchanging") is False


async def test_cover_opens_closes_and_halts(panel, clock):
    await put(panel, "opencover")
    assert await get(panel, "coverstate") == CoverState.MOVING
    assert await get(panel, "covermoving") is True
    clock.advance(11)
    assert await get(panel, "coverstate") == CoverState.OPEN
    await put(panel, "closecover")
    clock.advance(4)
    await put(panel, "haltcover")
    assert await get(panel, "covermoving") is False
    assert await get(panel, "coverstate") == CoverState.UNKNOWN


async def test_calibrator_warms_up_then_is_ready(panel, clock):
    await put(panel, "calibratoron", Brightness=128)
    assert await get(panel, "calibratorstate") == CalibratorState.NOT_READY
    assert await get(panel, "calibratorchanging") is True
    clock.advance(3)
    assert await get(panel, "calibratorstate") == CalibratorState.READY
    assert await get(panel, "brightness") == 128
    await put(panel, "calibratoroff")
    assert await get(panel, "calibratorstate") == CalibratorState.OFF
    assert await get(panel, "brightness") == 0


@pytest.mark.parametrize("level", [-1, 256, 10_000])
async def test_a_brightness_outside_0_to_max_is_an_invalid_value(panel, level):
    with pytest.raises(InvalidValueError, match=r"0\.\.255"):
        await put(panel, "calibratoron", Brightness=level)
    assert await get(panel, "calibratorstate") == CalibratorState.OFF


async def test_without_a_calibrator_its_members_are_not_implemented(clock):
    device = await connected(SimCoverCalibrator("cover", has_calibrator=False))
    assert await get(device, "calibratorstate") == CalibratorState.NOT_PRESENT
    assert await get(device, "calibratorchanging") is False
    for member in ("brightness", "maxbrightness"):
        with pytest.raises(NotImplementedByDeviceError, match="no calibrator"):
            await get(device, member)
    for member, args in (("calibratoron", {"Brightness": 1}), ("calibratoroff", {})):
        with pytest.raises(NotImplementedByDeviceError, match="no calibrator"):
            await put(device, member, **args)
    assert await device_state(device) == {
        "CalibratorState": CalibratorState.NOT_PRESENT, "CalibratorChanging": False,
        "CoverState": CoverState.CLOSED, "CoverMoving": False}


async def test_without_a_cover_its_members_are_not_implemented(clock):
    device = await connected(SimCoverCalibrator("panel", has_cover=False))
    assert await get(device, "coverstate") == CoverState.NOT_PRESENT
    assert await get(device, "covermoving") is False
    for member in ("opencover", "closecover", "haltcover"):
        with pytest.raises(NotImplementedByDeviceError, match="no cover"):
            await put(device, member)


async def test_device_state(panel):
    await put(panel, "calibratoron", Brightness=40)
    assert await device_state(panel) == {
        "Brightness": 40, "CalibratorState": CalibratorState.NOT_READY,
        "CalibratorChanging": True, "CoverState": CoverState.CLOSED, "CoverMoving": False}
