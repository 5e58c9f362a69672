"""Alpaca switch members over the default unit's power switch and other simulated switches."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from kinds_helpers import caller, connected

from nocturna.alpaca.kinds.switch import HANDLERS, device_state
from nocturna.core.errors import InvalidValueError, NotImplementedByDeviceError
from nocturna.devices.factory import build_devices
from nocturna.devices.sim.switch import ChannelSpec, SimSwitch
from nocturna.devices.switch import SwitchInfo

OUTLET, AUX, HEATER, VOLTAGE = 0, 7, 8, 9  # channels of the default switch


class AsyncSwitch(SimSwitch):
    """A simulated switch whose channels all say they can be set asynchronously."""

    async def info(self) -> SwitchInfo:
        info = await super().info()
        return SwitchInfo(channels=[replace(c, can_async=True) for c in info.channels])


@pytest.fixture
async def power(config, clock):
    device = build_devices(config, simulate=True).switches["power0"]
    await device.connect()
    return device


get, put = caller(HANDLERS)


async def test_channel_descriptions_are_the_devices(power):
    channels = (await power.info()).channels
    assert await get(power, "maxswitch") == len(channels) == 10
    for index, channel in enumerate(channels):
        assert await get(power, "getswitchname", Id=index) == channel.name
        assert await get(power, "getswitchdescription", Id=index) == channel.description
        assert await get(power, "minswitchvalue", Id=index) == channel.minimum
        assert await get(power, "maxswitchvalue", Id=index) == channel.maximum
        assert await get(power, "switchstep", Id=index) == channel.step
        assert await get(power, "canwrite", Id=index) is channel.can_write
        assert await get(power, "canasync", Id=index) is False
        assert await get(power, "statechangecomplete", Id=index) is True


async def test_boolean_outlets_read_and_switch(power):
    assert await get(power, "getswitch", Id=OUTLET) is True
    assert await get(power, "getswitch", Id=AUX) is False
    await put(power, "setswitch", Id=AUX, State=True)
    assert await get(power, "getswitch", Id=AUX) is True
    assert await get(power, "getswitchvalue", Id=AUX) == 1.0
    await put(power, "setswitch", Id=OUTLET, State=False)
    assert (await power.state()).values[OUTLET] == 0.0


async def test_a_multi_valued_channel_is_on_above_its_minimum(power):
    assert await get(power, "getswitch", Id=HEATER) is False
    await put(power, "setswitchvalue", Id=HEATER, Value=40.0)
    assert await get(power, "getswitchvalue", Id=HEATER) == 40.0
    assert await get(power, "getswitch", Id=HEATER) is True
    await put(power, "setswitch", Id=HEATER, State=True)
    assert await get(power, "getswitchvalue", Id=HEATER) == 100.0
    await put(power, "setswitch", Id=HEATER, State=False)
    assert await get(power, "getswitchvalue", Id=HEATER) == 0.0


async def test_get_switch_is_false_only_at_a_negative_minimum(clock):
    device = await connected(SimSwitch("trim", channels=[
        ChannelSpec("trim", minimum=-10.0, maximum=10.0, step=0.5, value=-10.0),
        ChannelSpec("relay")]))
    assert await get(device, "maxswitch") == 2
    assert await get(device, "getswitch", Id=0) is False
    await put(device, "setswitchvalue", Id=0, Value=0.0)
    assert await get(device, "getswitch", Id=0) is True


ID_MEMBERS = {
    ("GET", "canasync"): {}, ("GET", "canwrite"): {}, ("GET", "getswitch"): {},
    ("GET", "getswitchdescription"): {}, ("GET", "getswitchname"): {},
    ("GET", "getswitchvalue"): {}, ("GET", "maxswitchvalue"): {},
    ("GET", "minswitchvalue"): {}, ("GET", "statechangecomplete"): {},
    ("GET", "switchstep"): {}, ("PUT", "setswitch"): {"State": True},
    ("PUT", "setasync"): {"State": True}, ("PUT", "setswitchvalue"): {"Value": 1.0},
    ("PUT", "setasyncvalue"): {"Value": 1.0}, ("PUT", "setswitchname"): {"Name": "x"},
}


@pytest.mark.parametrize("index", [-1, 10, 1000])
async def test_an_id_outside_0_to_maxswitch_is_an_invalid_value(power, index):
    assert {key for key in HANDLERS if key != ("GET", "maxswitch")} == set(ID_MEMBERS)
    for key, extra in ID_MEMBERS.items():
        with pytest.raises(InvalidValueError, match=r"0\.\.9"):
            await HANDLERS[key](power, {"Id": index, **extra})


async def test_writing_a_read_only_channel_is_not_implemented(power):
    for member, extra in (("setswitch", {"State": True}), ("setswitchvalue", {"Value": 12.0})):
        with pytest.raises(NotImplementedByDeviceError, match="CanWrite is false"):
            await put(power, member, Id=VOLTAGE, **extra)
    assert await get(power, "getswitchvalue", Id=VOLTAGE) == 12.6


@pytest.mark.parametrize("value", [-1.0, 100.5, math.nan, math.inf])
async def test_a_value_outside_the_channel_range_is_an_invalid_value(power, value):
    with pytest.raises(InvalidValueError, match=r"0\.\.100"):
        await put(power, "setswitchvalue", Id=HEATER, Value=value)
    assert await get(power, "getswitchvalue", Id=HEATER) == 0.0


async def test_async_setters_are_not_implemented_when_can_async_is_false(power):
    with pytest.raises(NotImplementedByDeviceError, match="CanAsync is false"):
        await put(power, "setasync", Id=AUX, State=True)
    with pytest.raises(NotImplementedByDeviceError, match="CanAsync is false"):
        await put(power, "setasyncvalue", Id=HEATER, Value=10.0)
    assert (await power.state()).values[AUX] == 0.0


async def test_async_setters_set_channels_that_can_async(clock):
    device = await connected(AsyncSwitch("async"))
    assert await get(device, "canasync", Id=AUX) is True
    await put(device, "setasync", Id=AUX, State=True)
    await put(device, "setasyncvalue", Id=HEATER, Value=25.0)
    assert await get(device, "statechangecomplete", Id=HEATER) is True
    assert (await device.state()).values[AUX] == 1.0
    assert await get(device, "getswitchvalue", Id=HEATER) == 25.0
    with pytest.raises(NotImplementedByDeviceError, match="CanWrite is false"):
        await put(device, "setasyncvalue", Id=VOLTAGE, Value=5.0)


async def test_set_switch_name_renames_a_channel(power):
    await put(power, "setswitchname", Id=AUX, Name="heater 2")
    assert await get(power, "getswitchname", Id=AUX) == "heater 2"


async def test_device_state_lists_every_channel_in_ascom_order(power):
    await put(power, "setswitchvalue", Id=HEATER, Value=30.0)
    state = await power.state()
    values = await device_state(power)
    names = list(values)
    assert names == ([f"GetSwitch{i}" for i in range(10)]
                     + [f"GetSwitchValue{i}" for i in range(10)]
                     + [f"StateChangeComplete{i}" for i in range(10)])
    assert [values[f"GetSwitchValue{i}"] for i in range(10)] == state.values
    assert values["GetSwitch8"] is True and values["GetSwitch7"] is False
    assert all(values[f"StateChangeComplete{i}"] is True for i in range(10))
