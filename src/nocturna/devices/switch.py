"""Switch interface (ASCOM ISwitchV3): power outlets and other controllable channels."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass

from nocturna.core.errors import InvalidValueError
from nocturna.devices.base import Device, Snapshot, command


@dataclass(frozen=True)
class SwitchChannel(Snapshot):
    name: str
    description: str
    can_write: bool
    minimum: float
    maximum: float
    step: float
    can_async: bool = False


@dataclass(frozen=True)
class SwitchInfo(Snapshot):
    channels: list[SwitchChannel]


@dataclass(frozen=True)
class SwitchStatus(Snapshot):
    values: list[float]
    names: list[str]
    state_change_complete: list[bool]

    def is_on(self, channel: int) -> bool:
        return self.values[channel] > 0


class Switch(Device):
    """A set of switch channels (boolean outlets or multi-valued controls)."""

    kind = "switch"
    interface_version = 3

    @abstractmethod
    @command
    async def info(self) -> SwitchInfo:
        """The channels."""

    @abstractmethod
    @command
    async def state(self) -> SwitchStatus:
        """Channel values."""

    @abstractmethod
    @command
    async def set_value(self, channel: int, value: float) -> None:
        """Set a channel's value (within min..max, on its step)."""

    async def set_switch(self, channel: int, on: bool) -> None:
        """Switch a channel fully on (maximum) or off (minimum)."""
        info = (await self.info()).channels
        if not 0 <= channel < len(info):
            raise InvalidValueError(f"switch channel {channel} is not in 0..{len(info) - 1}")
        await self.set_value(channel, info[channel].maximum if on else info[channel].minimum)

    @command
    async def set_name(self, channel: int, name: str) -> None:
        raise self.not_implemented("set_name")
