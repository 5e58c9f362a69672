"""Alpaca ``filterwheel`` members over :class:`~nocturna.devices.filterwheel.FilterWheel`.

IFilterWheelV2: ``Position`` reads -1 while the wheel turns; setting a slot outside
0..N-1 answers "invalid value".
"""

from __future__ import annotations

from typing import Any

from nocturna.alpaca.kinds.base import Args, Table
from nocturna.core.errors import InvalidValueError
from nocturna.devices.filterwheel import FilterWheel

table = Table()


@table.get("names")
async def names(device: FilterWheel, args: Args) -> list[str]:
    return [str(name) for name in (await device.info()).names]


@table.get("focusoffsets")
async def focus_offsets(device: FilterWheel, args: Args) -> list[int]:
    return [int(offset) for offset in (await device.info()).focus_offsets]


@table.get("position")
async def position(device: FilterWheel, args: Args) -> int:
    return int((await device.state()).position)


@table.put("position")
async def set_position(device: FilterWheel, args: Args) -> None:
    slot = int(args["Position"])
    count = len((await device.info()).names)
    if not 0 <= slot < count:
        raise InvalidValueError(f"filter wheel position {slot} is not in the range "
                                f"0..{count - 1}")
    await device.set_position(slot)


HANDLERS = table.handlers


async def device_state(device: FilterWheel) -> dict[str, Any]:
    """Position (-1 while moving)."""
    return {"Position": int((await device.state()).position)}
