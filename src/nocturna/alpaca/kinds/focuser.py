"""Alpaca ``focuser`` members over nocturna's :class:`~nocturna.devices.focuser.Focuser`.

IFocuserV3 semantics: ``Move(Position)`` goes to an absolute position on an absolute
focuser and moves by ``Position`` steps on a relative one; an absolute target beyond
0..MaxStep goes to the limit instead (ASCOM's conformance checker requires a focuser
to "fail gracefully" there, not to raise). ``Position`` of a relative focuser, a
missing step size or temperature probe, and switching temperature compensation on a
focuser without it answer "not implemented".
"""

from __future__ import annotations

from typing import Any

from nocturna.alpaca.kinds.base import Args, Table
from nocturna.core.errors import NotImplementedByDeviceError
from nocturna.devices.focuser import Focuser

table = Table()


@table.get("absolute")
async def absolute(device: Focuser, args: Args) -> bool:
    return (await device.info()).absolute


@table.get("maxstep")
async def max_step(device: Focuser, args: Args) -> int:
    return int((await device.info()).max_step)


@table.get("maxincrement")
async def max_increment(device: Focuser, args: Args) -> int:
    return int((await device.info()).max_increment)


@table.get("stepsize")
async def step_size(device: Focuser, args: Args) -> float:
    value = (await device.info()).step_size_um
    if value is None:
        raise device.not_implemented("StepSize (its step size is unknown)")
    return float(value)


@table.get("tempcompavailable")
async def temp_comp_available(device: Focuser, args: Args) -> bool:
    return (await device.info()).temp_comp_available


@table.get("ismoving")
async def is_moving(device: Focuser, args: Args) -> bool:
    return (await device.state()).is_moving


@table.get("position")
async def position(device: Focuser, args: Args) -> int:
    if not (await device.info()).absolute:
        raise device.not_implemented("Position (it is a relative focuser)")
    return int((await device.state()).position)


@table.get("temperature")
async def temperature(device: Focuser, args: Args) -> float:
    value = (await device.state()).temperature_c
    if value is None:
        raise device.not_implemented("Temperature (it has no temperature probe)")
    return float(value)


@table.get("tempcomp")
async def temp_comp(device: Focuser, args: Args) -> bool:
    return (await device.state()).temp_comp


@table.put("tempcomp")
async def set_temp_comp(device: Focuser, args: Args) -> None:
    if not (await device.info()).temp_comp_available:
        raise NotImplementedByDeviceError(
            f"focuser {device.name!r} does not implement TempComp (TempCompAvailable is false)")
    await device.set_temp_comp(bool(args["TempComp"]))


@table.put("halt")
async def halt(device: Focuser, args: Args) -> None:
    await device.halt()


@table.put("move")
async def move(device: Focuser, args: Args) -> None:
    steps = int(args["Position"])
    info = await device.info()
    if info.absolute:
        await device.move_to(min(max(steps, 0), int(info.max_step)))
    else:
        await device.move_by(steps)


HANDLERS = table.handlers


async def device_state(device: Focuser) -> dict[str, Any]:
    """IsMoving, Position (absolute focusers), Temperature (with a probe)."""
    info = await device.info()
    state = await device.state()
    values: dict[str, Any] = {"IsMoving": state.is_moving}
    if info.absolute:
        values["Position"] = int(state.position)
    if state.temperature_c is not None:
        values["Temperature"] = float(state.temperature_c)
    return values
