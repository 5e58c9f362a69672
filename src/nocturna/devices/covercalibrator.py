"""Cover calibrator interface (ASCOM ICoverCalibratorV2): a flat panel and/or a dust cover."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass

from nocturna.devices.base import Device, Snapshot, command
from nocturna.devices.types import CalibratorState, CoverState


@dataclass(frozen=True)
class CoverCalibratorInfo(Snapshot):
    max_brightness: int  # 0 when there is no calibrator


@dataclass(frozen=True)
class CoverCalibratorStatus(Snapshot):
    cover_state: CoverState
    calibrator_state: CalibratorState
    brightness: int
    cover_moving: bool
    calibrator_changing: bool


class CoverCalibrator(Device):
    """A flat-field panel and/or a telescope cover."""

    kind = "covercalibrator"
    interface_version = 2

    @abstractmethod
    @command
    async def info(self) -> CoverCalibratorInfo:
        """Brightness range."""

    @abstractmethod
    @command
    async def state(self) -> CoverCalibratorStatus:
        """Cover and light."""

    @command
    async def open_cover(self) -> None:
        raise self.not_implemented("open_cover")

    @command
    async def close_cover(self) -> None:
        raise self.not_implemented("close_cover")

    @command
    async def halt_cover(self) -> None:
        raise self.not_implemented("halt_cover")

    @command
    async def calibrator_on(self, brightness: int) -> None:
        raise self.not_implemented("calibrator_on")

    @command
    async def calibrator_off(self) -> None:
        raise self.not_implemented("calibrator_off")
