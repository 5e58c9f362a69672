"""Dome or roll-off roof interface (ASCOM IDomeV3 semantics). Angles in degrees."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass

from nocturna.devices.base import Device, Snapshot, command
from nocturna.devices.types import ShutterState


@dataclass(frozen=True)
class DomeInfo(Snapshot):
    is_roof: bool  # a roll-off roof: a shutter, no azimuth
    can_find_home: bool
    can_park: bool
    can_set_altitude: bool
    can_set_azimuth: bool
    can_set_park: bool
    can_set_shutter: bool
    can_slave: bool
    can_sync_azimuth: bool


@dataclass(frozen=True)
class DomeStatus(Snapshot):
    shutter_status: ShutterState
    azimuth_deg: float | None  # None when the dome has no azimuth (roof)
    altitude_deg: float | None
    at_home: bool
    at_park: bool
    slewing: bool
    slaved: bool


class Dome(Device):
    """A rotating dome or a roll-off roof."""

    kind = "dome"
    interface_version = 3

    @abstractmethod
    @command
    async def info(self) -> DomeInfo:
        """Capabilities."""

    @abstractmethod
    @command
    async def state(self) -> DomeStatus:
        """Shutter and azimuth."""

    @command
    async def open_shutter(self) -> None:
        """Start opening (returns at once; watch ``shutter_status``)."""
        raise self.not_implemented("open_shutter")

    @command
    async def close_shutter(self) -> None:
        raise self.not_implemented("close_shutter")

    @command
    async def abort_slew(self) -> None:
        """Stop any motion, including the shutter."""
        raise self.not_implemented("abort_slew")

    @command
    async def slew_to_azimuth(self, azimuth_deg: float) -> None:
        raise self.not_implemented("slew_to_azimuth")

    @command
    async def slew_to_altitude(self, altitude_deg: float) -> None:
        raise self.not_implemented("slew_to_altitude")

    @command
    async def sync_to_azimuth(self, azimuth_deg: float) -> None:
        raise self.not_implemented("sync_to_azimuth")

    @command
    async def find_home(self) -> None:
        raise self.not_implemented("find_home")

    @command
    async def park(self) -> None:
        raise self.not_implemented("park")

    @command
    async def set_park(self) -> None:
        raise self.not_implemented("set_park")

    @command
    async def set_slaved(self, slaved: bool) -> None:
        """Follow the mount's azimuth (rotating domes)."""
        raise self.not_implemented("set_slaved")

    async def open_and_wait(self, *, timeout_s: float = 600.0) -> DomeStatus:
        await self.open_shutter()
        return await self.wait_until(lambda s: s.shutter_status == ShutterState.OPEN,
                                     timeout_s=timeout_s, what="opening the shutter")

    async def close_and_wait(self, *, timeout_s: float = 600.0) -> DomeStatus:
        await self.close_shutter()
        return await self.wait_until(lambda s: s.shutter_status == ShutterState.CLOSED,
                                     timeout_s=timeout_s, what="closing the shutter")
