"""Rotator interface (ASCOM IRotatorV3 semantics). Angles in degrees, 0..360."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass

from nocturna.devices.base import Device, Snapshot, command


@dataclass(frozen=True)
class RotatorInfo(Snapshot):
    can_reverse: bool
    step_size_deg: float


@dataclass(frozen=True)
class RotatorStatus(Snapshot):
    position_deg: float  # sky position angle (after sync offset)
    mechanical_position_deg: float
    target_position_deg: float
    is_moving: bool
    reverse: bool


class Rotator(Device):
    """A field rotator."""

    kind = "rotator"
    interface_version = 3

    @abstractmethod
    @command
    async def info(self) -> RotatorInfo:
        """Capabilities."""

    @abstractmethod
    @command
    async def state(self) -> RotatorStatus:
        """Angles and motion."""

    @abstractmethod
    @command
    async def move_absolute(self, position_deg: float) -> None:
        """Start a move to a sky position angle."""

    async def move(self, delta_deg: float) -> None:
        """Start a move relative to the current target position."""
        target = (await self.state()).target_position_deg
        await self.move_absolute((target + delta_deg) % 360.0)

    @command
    async def move_mechanical(self, position_deg: float) -> None:
        raise self.not_implemented("move_mechanical")

    @command
    async def sync(self, position_deg: float) -> None:
        """Declare the current sky position angle."""
        raise self.not_implemented("sync")

    @command
    async def halt(self) -> None:
        raise self.not_implemented("halt")

    @command
    async def set_reverse(self, reverse: bool) -> None:
        raise self.not_implemented("set_reverse")
