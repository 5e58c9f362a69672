"""SimSwitch: outlets, a multi-valued channel, read-only channels, names, errors."""

from __future__ import annotations

import pytest
from sim_device_helpers import device_kwargs, frozen_clock

from nocturna.core.config.models import DeviceConfig
from nocturna.core.errors import (
    ConfigError,
    InvalidValueError,
    NotConnectedError,
    NotImplementedByDeviceError,
)
from nocturna.devices.sim.switch import SimSwitch

DEW_HEATER, VOLTAGE = 8, 9


async def make_switch(**options):
    switch = SimSwitch("power", **options, **device_kwargs(frozen_clock()))
    await switch.connect()
    return switch


async def test_default_channels_are_outlets_a_dew_heater_and_a_voltage():
    switch = await make_switch()
    channels = (await switch.info()).channels
    assert [c.name for c in channels[:4]] == ["mount", "camera", "focuser", "filter wheel"]
    assert len(channels) == 10
    assert (channels[DEW_HEATER].maximum, channels[DEW_HEATER].step) == (100.0, 1.0)
    assert not channels[VOLTAGE].can_write


async def test_outlets_switch_on_and_off():
    switch = await make_switch()
    await switch.set_switch(0, False)
    assert not (await switch.state()).is_on(0)
    await switch.set_switch(0, True)
    assert (await switch.state()).is_on(0)


async def test_dew_heater_takes_a_value_on_its_step():
    switch = await make_switch()
    await switch.set_value(DEW_HEATER, 55)
    state = await switch.state()
    assert state.values[DEW_HEATER] == 55.0 and all(state.state_change_complete)


@pytest.mark.parametrize("value", [-1, 101, 150.0])
async def test_value_out_of_range_is_refused(value):
    switch = await make_switch()
    with pytest.raises(InvalidValueError, match=r"not in 0\.\.100"):
        await switch.set_value(DEW_HEATER, value)


async def test_value_off_the_step_is_refused():
    switch = await make_switch()
    with pytest.raises(InvalidValueError, match="step"):
        await switch.set_value(DEW_HEATER, 12.5)


async def test_writing_a_read_only_channel_is_not_implemented():
    switch = await make_switch()
    with pytest.raises(NotImplementedByDeviceError, match="read-only"):
        await switch.set_value(VOLTAGE, 12.0)


@pytest.mark.parametrize("channel", [-1, 10, 99])
async def test_channel_out_of_range_is_refused(channel):
    switch = await make_switch()
    with pytest.raises(InvalidValueError):
        await switch.set_value(channel, 1)
    with pytest.raises(InvalidValueError):
        await switch.set_name(channel, "x")


async def test_set_name_renames_a_channel():
    switch = await make_switch()
    await switch.set_name(7, "weather station")
    assert (await switch.state()).names[7] == "weather station"


async def test_empty_name_is_refused():
    switch = await make_switch()
    with pytest.raises(InvalidValueError):
        await switch.set_name(0, " ")


async def test_value_change_is_published():
    switch = await make_switch()
    subscription = switch.events.subscribe("switch.*")
    await switch.set_value(DEW_HEATER, 20)
    (event,) = subscription.drain()
    assert event.topic == "switch.value.changed" and event.data["value"] == 20.0


@pytest.mark.parametrize("call", [
    lambda s: s.state(),
    lambda s: s.info(),
    lambda s: s.set_value(0, 1),
    lambda s: s.set_name(0, "x"),
], ids=["state", "info", "set_value", "set_name"])
async def test_members_while_disconnected_raise_not_connected(call):
    switch = SimSwitch("power", **device_kwargs(frozen_clock()))
    with pytest.raises(NotConnectedError):
        await call(switch)


async def test_from_config_builds_the_channels():
    switch = SimSwitch.from_config(DeviceConfig(name="pdu", channels=[
        {"name": "heater", "maximum": 10, "value": 3},
        {"name": "sensor", "can_write": False, "maximum": 5, "step": 0.5, "value": 2.5},
    ]))
    await switch.connect()
    assert (await switch.state()).values == [3.0, 2.5]


async def test_from_config_refuses_a_bad_channel_naming_the_key():
    with pytest.raises(ConfigError, match=r"pdu\.channels"):
        SimSwitch.from_config(DeviceConfig(name="pdu", channels=[{"name": "x", "maximum": -1}]))
