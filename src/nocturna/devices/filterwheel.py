"""Filter wheel interface (ASCOM IFilterWheelV2 semantics) with names and focus offsets."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass

from nocturna.core.errors import InvalidValueError
from nocturna.devices.base import Device, Snapshot, command


@dataclass(frozen=True)
class FilterWheelInfo(Snapshot):
    names: list[str]
    focus_offsets: list[int]  # focuser steps to add for each filter
    dark_position: int | None  # an opaque slot for darks, if any


@dataclass(frozen=True)
class FilterWheelStatus(Snapshot):
    position: int  # -1 while moving
    name: str | None  # None while moving


def resolve_filter(names: list[str], wanted: str | int) -> int:
    """The slot for an index, an exact name, or a unique name prefix (case-insensitive)."""
    if isinstance(wanted, int) and not isinstance(wanted, bool):
        if not 0 <= wanted < len(names):
            raise InvalidValueError(f"filter position {wanted} is not in 0..{len(names) - 1}")
        return wanted
    if not isinstance(wanted, str) or not wanted:
        raise InvalidValueError(f"filter must be a name or a position, got {wanted!r}")
    lowered = wanted.lower()
    exact = [i for i, name in enumerate(names) if name.lower() == lowered]
    if exact:
        return exact[0]
    matches = [i for i, name in enumerate(names) if name.lower().startswith(lowered)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise InvalidValueError(f"no filter named {wanted!r} (filters: {', '.join(names)})")
    raise InvalidValueError(
        f"filter {wanted!r} is ambiguous: {', '.join(names[i] for i in matches)}"
    )


class FilterWheel(Device):
    """A filter wheel that turns at finite speed."""

    kind = "filterwheel"
    interface_version = 2

    @abstractmethod
    @command
    async def info(self) -> FilterWheelInfo:
        """Names, focus offsets, dark slot."""

    @abstractmethod
    @command
    async def state(self) -> FilterWheelStatus:
        """Current slot (-1 while moving)."""

    @abstractmethod
    @command
    async def set_position(self, position: int) -> None:
        """Start turning to a slot (returns at once)."""

    async def move_to(self, wanted: str | int, *, wait: bool = True,
                      timeout_s: float = 120.0) -> FilterWheelStatus:
        """Turn to a filter by slot, name or unique prefix; optionally wait."""
        position = resolve_filter((await self.info()).names, wanted)
        await self.set_position(position)
        if not wait:
            return await self.state()
        return await self.wait_until(lambda s: s.position == position, timeout_s=timeout_s,
                                     poll_s=0.2, what="the filter change")
