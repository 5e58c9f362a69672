"""Alpaca ``switch`` members over nocturna's :class:`~nocturna.devices.switch.Switch`.

ISwitchV3: every member taking ``Id`` answers "invalid value" for an Id outside
0..MaxSwitch-1. ``GetSwitch`` of a multi-valued channel is false at its minimum and
true above it; ``SetSwitch`` sets the maximum (true) or the minimum (false). Writing a
channel whose ``CanWrite`` is false, or the asynchronous setters of a channel whose
``CanAsync`` is false, answers "not implemented"; a value outside
MinSwitchValue..MaxSwitchValue answers "invalid value".
"""

from __future__ import annotations

import math
from typing import Any

from nocturna.alpaca.kinds.base import Args, Table
from nocturna.core.errors import InvalidValueError, NotImplementedByDeviceError
from nocturna.devices.switch import Switch, SwitchChannel

table = Table()


async def _channel(device: Switch, args: Args) -> tuple[int, SwitchChannel]:
    """The ``Id`` argument, checked, and its channel."""
    channels = (await device.info()).channels
    index = int(args["Id"])
    if not 0 <= index < len(channels):
        raise InvalidValueError(f"switch Id {index} is not in the range 0..{len(channels) - 1}")
    return index, channels[index]


def _writable(device: Switch, index: int, channel: SwitchChannel, *, asynchronous: bool) -> None:
    if asynchronous and not channel.can_async:
        raise NotImplementedByDeviceError(f"switch {device.name!r}: channel {index} "
                                          f"({channel.name}) cannot be set asynchronously "
                                          f"(CanAsync is false)")
    if not channel.can_write:
        raise NotImplementedByDeviceError(f"switch {device.name!r}: channel {index} "
                                          f"({channel.name}) is read-only (CanWrite is false)")


def _value(index: int, channel: SwitchChannel, value: float) -> float:
    if not math.isfinite(value) or not channel.minimum <= value <= channel.maximum:
        raise InvalidValueError(f"switch {index} value {value!r} is not in the range "
                                f"{channel.minimum:g}..{channel.maximum:g}")
    return float(value)


@table.get("maxswitch")
async def max_switch(device: Switch, args: Args) -> int:
    return len((await device.info()).channels)


@table.get("canasync")
async def can_async(device: Switch, args: Args) -> bool:
    return (await _channel(device, args))[1].can_async


@table.get("canwrite")
async def can_write(device: Switch, args: Args) -> bool:
    return (await _channel(device, args))[1].can_write


@table.get("getswitchname")
async def get_switch_name(device: Switch, args: Args) -> str:
    index, _ = await _channel(device, args)
    return (await device.state()).names[index]


@table.get("getswitchdescription")
async def get_switch_description(device: Switch, args: Args) -> str:
    return (await _channel(device, args))[1].description


@table.get("minswitchvalue")
async def min_switch_value(device: Switch, args: Args) -> float:
    return float((await _channel(device, args))[1].minimum)


@table.get("maxswitchvalue")
async def max_switch_value(device: Switch, args: Args) -> float:
    return float((await _channel(device, args))[1].maximum)


@table.get("switchstep")
async def switch_step(device: Switch, args: Args) -> float:
    return float((await _channel(device, args))[1].step)


@table.get("getswitchvalue")
async def get_switch_value(device: Switch, args: Args) -> float:
    index, _ = await _channel(device, args)
    return float((await device.state()).values[index])


@table.get("getswitch")
async def get_switch(device: Switch, args: Args) -> bool:
    index, channel = await _channel(device, args)
    return (await device.state()).values[index] > channel.minimum


@table.get("statechangecomplete")
async def state_change_complete(device: Switch, args: Args) -> bool:
    index, _ = await _channel(device, args)
    return bool((await device.state()).state_change_complete[index])


async def _set_state(device: Switch, args: Args, *, asynchronous: bool) -> None:
    index, channel = await _channel(device, args)
    _writable(device, index, channel, asynchronous=asynchronous)
    await device.set_value(index, channel.maximum if args["State"] else channel.minimum)


async def _set_value(device: Switch, args: Args, *, asynchronous: bool) -> None:
    index, channel = await _channel(device, args)
    _writable(device, index, channel, asynchronous=asynchronous)
    await device.set_value(index, _value(index, channel, args["Value"]))


@table.put("setswitch")
async def set_switch(device: Switch, args: Args) -> None:
    await _set_state(device, args, asynchronous=False)


@table.put("setasync")
async def set_async(device: Switch, args: Args) -> None:
    await _set_state(device, args, asynchronous=True)


@table.put("setswitchvalue")
async def set_switch_value(device: Switch, args: Args) -> None:
    await _set_value(device, args, asynchronous=False)


@table.put("setasyncvalue")
async def set_async_value(device: Switch, args: Args) -> None:
    await _set_value(device, args, asynchronous=True)


@table.put("setswitchname")
async def set_switch_name(device: Switch, args: Args) -> None:
    index, _ = await _channel(device, args)
    await device.set_name(index, str(args["Name"]))


HANDLERS = table.handlers


async def device_state(device: Switch) -> dict[str, Any]:
    """GetSwitchN for every channel, then GetSwitchValueN, then StateChangeCompleteN."""
    channels = (await device.info()).channels
    state = await device.state()
    values: dict[str, Any] = {}
    for index, channel in enumerate(channels):
        values[f"GetSwitch{index}"] = state.values[index] > channel.minimum
    for index in range(len(channels)):
        values[f"GetSwitchValue{index}"] = float(state.values[index])
    for index in range(len(channels)):
        values[f"StateChangeComplete{index}"] = bool(state.state_change_complete[index])
    return values
