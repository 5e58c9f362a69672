"""Alpaca rotator client (ASCOM IRotator over HTTP)."""

from __future__ import annotations

from nocturna.devices.alpaca.device import (
    REQUIRED,
    AlpacaDevice,
    as_bool,
    as_float,
)
from nocturna.devices.rotator import Rotator, RotatorInfo, RotatorStatus

_STATE = {"position": REQUIRED, "mechanicalposition": None, "targetposition": None,
          "ismoving": REQUIRED, "reverse": False}


class AlpacaRotator(AlpacaDevice, Rotator):
    """A field rotator on an Alpaca server."""

    alpaca_type = "rotator"
    device_state_since = 4

    async def _read_info(self) -> RotatorInfo:
        v = await self._values({"canreverse": False, "stepsize": 0.0})
        return RotatorInfo(can_reverse=as_bool(v["canreverse"]),
                           step_size_deg=as_float(v["stepsize"]))

    async def info(self) -> RotatorInfo:
        return self._info

    async def state(self) -> RotatorStatus:
        v = await self._values(_STATE, state=True)
        position = as_float(v["position"])
        mechanical, target = v["mechanicalposition"], v["targetposition"]
        return RotatorStatus(
            position_deg=position,
            mechanical_position_deg=position if mechanical is None else as_float(mechanical),
            target_position_deg=position if target is None else as_float(target),
            is_moving=as_bool(v["ismoving"]), reverse=as_bool(v["reverse"]),
        )

    async def move_absolute(self, position_deg: float) -> None:
        await self._put("moveabsolute", Position=float(position_deg))

    async def move_mechanical(self, position_deg: float) -> None:
        await self._put("movemechanical", Position=float(position_deg))

    async def sync(self, position_deg: float) -> None:
        await self._put("sync", Position=float(position_deg))

    async def halt(self) -> None:
        await self._put("halt")

    async def set_reverse(self, reverse: bool) -> None:
        await self._put("reverse", Reverse=bool(reverse))
