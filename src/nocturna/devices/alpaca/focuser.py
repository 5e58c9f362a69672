"""Alpaca focuser client (ASCOM IFocuser over HTTP)."""

from __future__ import annotations

from nocturna.devices.alpaca.device import (
    REQUIRED,
    AlpacaDevice,
    as_bool,
    as_int,
    optional_float,
)
from nocturna.devices.focuser import Focuser, FocuserInfo, FocuserStatus

_INFO = {"absolute": True, "maxstep": REQUIRED, "maxincrement": None, "stepsize": None,
         "tempcompavailable": False}
_STATE = {"position": 0, "ismoving": REQUIRED, "temperature": None, "tempcomp": False}


class AlpacaFocuser(AlpacaDevice, Focuser):
    """A focuser on an Alpaca server.

    A relative focuser (``absolute`` false) moves by steps: :meth:`move_by` sends the
    step count, :meth:`move_to` is refused and ``position`` reads 0.
    """

    alpaca_type = "focuser"
    device_state_since = 4

    async def _read_info(self) -> FocuserInfo:
        v = await self._values(_INFO)
        max_step = as_int(v["maxstep"])
        increment = v["maxincrement"]
        return FocuserInfo(
            absolute=as_bool(v["absolute"]), max_step=max_step,
            max_increment=max_step if increment is None else as_int(increment),
            step_size_um=optional_float(v["stepsize"]),
            temp_comp_available=as_bool(v["tempcompavailable"]),
        )

    async def info(self) -> FocuserInfo:
        return self._info

    async def state(self) -> FocuserStatus:
        v = await self._values(_STATE, state=True)
        return FocuserStatus(position=as_int(v["position"]), is_moving=as_bool(v["ismoving"]),
                             temperature_c=optional_float(v["temperature"]),
                             temp_comp=as_bool(v["tempcomp"]))

    async def move_to(self, position: int) -> None:
        if not self._info.absolute:
            raise self.not_implemented("move_to (a relative focuser moves by steps: move_by)")
        await self._put("move", Position=int(position))

    async def move_by(self, steps: int) -> None:
        if self._info.absolute:
            await super().move_by(steps)
        else:
            await self._put("move", Position=int(steps))

    async def halt(self) -> None:
        await self._put("halt")

    async def set_temp_comp(self, on: bool) -> None:
        await self._put("tempcomp", TempComp=bool(on))
