"""INDI rotator client (an INDI device with the rotator interface).

Properties: ``ABS_ROTATOR_ANGLE`` (``ANGLE``, degrees; Busy while turning),
``ROTATOR_ABORT_MOTION`` (``ABORT``), ``SYNC_ROTATOR_ANGLE`` (``ANGLE``) and
``ROTATOR_REVERSE`` (``INDI_ENABLED`` / ``INDI_DISABLED``) where offered.

INDI reports one angle, already corrected by a sync: it is both the sky position angle
and the mechanical one here. The target is the angle this client last asked for while
the rotator turns, else where it is. A rotator without ``ROTATOR_REVERSE`` cannot
reverse; a member whose property the device lacks raises
:class:`NotImplementedByDeviceError` naming it.
"""

from __future__ import annotations

from nocturna.core.errors import InvalidOperationError
from nocturna.devices.indi.device import IndiDevice
from nocturna.devices.rotator import Rotator, RotatorInfo, RotatorStatus
from nocturna.devices.sim.motion import check_angle

ANGLE = "ABS_ROTATOR_ANGLE"
SYNC = "SYNC_ROTATOR_ANGLE"
ABORT = "ROTATOR_ABORT_MOTION"
REVERSE = "ROTATOR_REVERSE"


class IndiRotator(IndiDevice, Rotator):
    """A field rotator on an INDI server."""

    required = ("CONNECTION", ANGLE)
    _target: float | None = None
    """The angle last asked for (None before any move)."""

    async def info(self) -> RotatorInfo:
        """Read live: ``ROTATOR_REVERSE`` may be defined after the angle."""
        return RotatorInfo(can_reverse=self.has(REVERSE), step_size_deg=0.0)

    async def state(self) -> RotatorStatus:
        angle = self.vector(ANGLE)
        position = angle["ANGLE"] % 360.0
        moving = angle.state == "Busy"
        target = self._target if moving and self._target is not None else position
        return RotatorStatus(position_deg=position, mechanical_position_deg=position,
                             target_position_deg=target, is_moving=moving,
                             reverse="INDI_ENABLED" in self.vector(REVERSE).on()
                             if self.has(REVERSE) else False)

    async def move_absolute(self, position_deg: float) -> None:
        target = check_angle(position_deg, f"rotator {self.name!r}: angle")
        self._target = target
        await self.send(ANGLE, {"ANGLE": target}, wait=True, busy_ok=True)

    async def move_mechanical(self, position_deg: float) -> None:
        await self.move_absolute(position_deg)

    async def sync(self, position_deg: float) -> None:
        angle = check_angle(position_deg, f"rotator {self.name!r}: angle")
        if self.vector(ANGLE).state == "Busy":
            raise InvalidOperationError(f"rotator {self.name!r}: cannot sync while moving")
        await self.send(SYNC, {"ANGLE": angle}, wait=True)

    async def halt(self) -> None:
        await self.send(ABORT, {"ABORT": True}, wait=True)

    async def set_reverse(self, reverse: bool) -> None:
        await self.send(REVERSE, {"INDI_ENABLED": bool(reverse),
                                  "INDI_DISABLED": not reverse}, wait=True)
