"""INDI focuser client (an INDI device with the focuser interface).

Properties: ``ABS_FOCUS_POSITION`` (``FOCUS_ABSOLUTE_POSITION``; its limits give the
range), ``FOCUS_MAX`` (``FOCUS_MAX_VALUE``) where offered, ``REL_FOCUS_POSITION`` with
``FOCUS_MOTION`` for a focuser that only moves relative, ``FOCUS_ABORT_MOTION``,
``FOCUS_TEMPERATURE`` (``TEMPERATURE``). A move is in progress while the position
property is Busy.
"""

from __future__ import annotations

from nocturna.core.errors import InvalidValueError
from nocturna.devices.focuser import Focuser, FocuserInfo, FocuserStatus
from nocturna.devices.indi.device import IndiDevice

ABSOLUTE = "ABS_FOCUS_POSITION"
RELATIVE = "REL_FOCUS_POSITION"


class IndiFocuser(IndiDevice, Focuser):
    """A focuser on an INDI server."""

    required = ("CONNECTION",)

    async def _connect_device(self) -> None:
        await super()._connect_device()
        await self.connection.wait_for(
            lambda: self.has(ABSOLUTE) or self.has(RELATIVE), self.connect_timeout_s,
            f"a focus position property of INDI device {self.indi_device!r}")

    async def _read_info(self) -> FocuserInfo:
        absolute = self.has(ABSOLUTE)
        position = self.vector(ABSOLUTE if absolute else RELATIVE)
        element = next(iter(position.elements.values()))
        maximum = self.value("FOCUS_MAX", "FOCUS_MAX_VALUE", None)
        if maximum is None:
            maximum = element.maximum if element.maximum is not None else 0
        return FocuserInfo(absolute=absolute, max_step=int(maximum),
                           max_increment=int(maximum), step_size_um=None,
                           temp_comp_available=False)

    async def state(self) -> FocuserStatus:
        absolute = self._info.absolute
        position = self.vector(ABSOLUTE if absolute else RELATIVE)
        return FocuserStatus(
            position=round(position["FOCUS_ABSOLUTE_POSITION"]) if absolute else 0,
            is_moving=position.state == "Busy",
            temperature_c=self.value("FOCUS_TEMPERATURE", "TEMPERATURE", None),
            temp_comp=False)

    async def move_to(self, position: int) -> None:
        if not self._info.absolute:
            raise self.not_implemented("move_to (a relative focuser moves by steps: move_by)")
        if not 0 <= position <= self._info.max_step:
            raise InvalidValueError(f"focuser {self.name!r}: position {position} is outside "
                                    f"0..{self._info.max_step}")
        await self.send(ABSOLUTE, {"FOCUS_ABSOLUTE_POSITION": int(position)}, wait=True,
                        busy_ok=True)

    async def move_by(self, steps: int) -> None:
        if self._info.absolute:
            await super().move_by(steps)
            return
        if steps == 0:
            return
        await self.send("FOCUS_MOTION", {"FOCUS_INWARD": steps < 0,
                                         "FOCUS_OUTWARD": steps > 0}, wait=True)
        await self.send(RELATIVE, {"FOCUS_RELATIVE_POSITION": abs(int(steps))}, wait=True,
                        busy_ok=True)

    async def halt(self) -> None:
        await self.send("FOCUS_ABORT_MOTION", {"ABORT": True}, wait=True)
