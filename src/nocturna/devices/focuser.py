"""Focuser interface (ASCOM IFocuserV3 semantics). Positions in steps."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass

from nocturna.devices.base import Device, Snapshot, command


@dataclass(frozen=True)
class FocuserInfo(Snapshot):
    absolute: bool
    max_step: int  # positions 0..max_step
    max_increment: int  # largest single move
    step_size_um: float | None  # None if unknown
    temp_comp_available: bool


@dataclass(frozen=True)
class FocuserStatus(Snapshot):
    position: int
    is_moving: bool
    temperature_c: float | None
    temp_comp: bool


class Focuser(Device):
    """A focuser moving at finite speed between limits."""

    kind = "focuser"
    interface_version = 3

    @abstractmethod
    @command
    async def info(self) -> FocuserInfo:
        """Limits and capabilities."""

    @abstractmethod
    @command
    async def state(self) -> FocuserStatus:
        """Position, motion, temperature."""

    @abstractmethod
    @command
    async def move_to(self, position: int) -> None:
        """Start a move to an absolute position (returns at once)."""

    async def move_by(self, steps: int) -> None:
        """Start a move relative to the current position."""
        current = (await self.state()).position
        await self.move_to(current + steps)

    @command
    async def halt(self) -> None:
        raise self.not_implemented("halt")

    @command
    async def set_temp_comp(self, on: bool) -> None:
        raise self.not_implemented("set_temp_comp")

    async def move_and_wait(self, position: int, *, timeout_s: float = 600.0) -> FocuserStatus:
        await self.move_to(position)
        return await self.wait_until(lambda s: not s.is_moving, timeout_s=timeout_s,
                                     poll_s=0.2, what="the focuser move")
