"""Alpaca ``rotator`` members over nocturna's :class:`~nocturna.devices.rotator.Rotator`.

IRotatorV3: absolute angles (MoveAbsolute, MoveMechanical, Sync) must be in [0, 360),
else "invalid value"; ``Move`` takes any finite relative angle. ``Reverse`` answers
"not implemented" when ``CanReverse`` is false.
"""

from __future__ import annotations

import math
from typing import Any

from nocturna.alpaca.kinds.base import Args, Table
from nocturna.core.errors import InvalidValueError, NotImplementedByDeviceError
from nocturna.devices.rotator import Rotator

table = Table()


def _angle(value: float) -> float:
    if not math.isfinite(value) or not 0.0 <= value < 360.0:
        raise InvalidValueError(f"rotator position {value!r} is not in the range "
                                f"0 <= position < 360")
    return float(value)


async def _require_reverse(device: Rotator) -> None:
    if not (await device.info()).can_reverse:
        raise NotImplementedByDeviceError(
            f"rotator {device.name!r} does not implement Reverse (CanReverse is false)")


@table.get("canreverse")
async def can_reverse(device: Rotator, args: Args) -> bool:
    return (await device.info()).can_reverse


@table.get("stepsize")
async def step_size(device: Rotator, args: Args) -> float:
    return float((await device.info()).step_size_deg)


@table.get("ismoving")
async def is_moving(device: Rotator, args: Args) -> bool:
    return (await device.state()).is_moving


@table.get("position")
async def position(device: Rotator, args: Args) -> float:
    return float((await device.state()).position_deg)


@table.get("mechanicalposition")
async def mechanical_position(device: Rotator, args: Args) -> float:
    return float((await device.state()).mechanical_position_deg)


@table.get("targetposition")
async def target_position(device: Rotator, args: Args) -> float:
    return float((await device.state()).target_position_deg)


@table.get("reverse")
async def reverse(device: Rotator, args: Args) -> bool:
    await _require_reverse(device)
    return (await device.state()).reverse


@table.put("reverse")
async def set_reverse(device: Rotator, args: Args) -> None:
    await _require_reverse(device)
    await device.set_reverse(bool(args["Reverse"]))


@table.put("move")
async def move(device: Rotator, args: Args) -> None:
    delta = float(args["Position"])
    if not math.isfinite(delta):
        raise InvalidValueError(f"relative rotator move {delta!r} is not a finite angle")
    await device.move(delta)


@table.put("moveabsolute")
async def move_absolute(device: Rotator, args: Args) -> None:
    await device.move_absolute(_angle(args["Position"]))


@table.put("movemechanical")
async def move_mechanical(device: Rotator, args: Args) -> None:
    await device.move_mechanical(_angle(args["Position"]))


@table.put("sync")
async def sync(device: Rotator, args: Args) -> None:
    await device.sync(_angle(args["Position"]))


@table.put("halt")
async def halt(device: Rotator, args: Args) -> None:
    await device.halt()


HANDLERS = table.handlers


async def device_state(device: Rotator) -> dict[str, Any]:
    """IsMoving, MechanicalPosition, Position."""
    state = await device.state()
    return {"IsMoving": state.is_moving,
            "MechanicalPosition": float(state.mechanical_position_deg),
            "Position": float(state.position_deg)}
