"""Alpaca cover calibrator client (ASCOM ICoverCalibrator over HTTP)."""

from __future__ import annotations

from typing import Any

from nocturna.devices.alpaca.device import AlpacaDevice, as_bool, as_enum, as_int
from nocturna.devices.covercalibrator import (
    CoverCalibrator,
    CoverCalibratorInfo,
    CoverCalibratorStatus,
)
from nocturna.devices.types import CalibratorState, CoverState

_STATE: dict[str, Any] = {
    "coverstate": int(CoverState.NOT_PRESENT),
    "calibratorstate": int(CalibratorState.NOT_PRESENT), "brightness": 0,
    "covermoving": None, "calibratorchanging": None,
}


class AlpacaCoverCalibrator(AlpacaDevice, CoverCalibrator):
    """A flat panel and/or dust cover on an Alpaca server.

    Servers older than ICoverCalibratorV2 have no ``covermoving`` and
    ``calibratorchanging``: they are then derived from the states (moving / not ready).
    """

    alpaca_type = "covercalibrator"
    device_state_since = 2

    async def _read_info(self) -> CoverCalibratorInfo:
        v = await self._values({"maxbrightness": 0})
        return CoverCalibratorInfo(max_brightness=as_int(v["maxbrightness"]))

    async def info(self) -> CoverCalibratorInfo:
        return self._info

    async def state(self) -> CoverCalibratorStatus:
        v = await self._values(_STATE, state=True)
        cover = as_enum(CoverState, v["coverstate"])
        calibrator = as_enum(CalibratorState, v["calibratorstate"])
        moving, changing = v["covermoving"], v["calibratorchanging"]
        return CoverCalibratorStatus(
            cover_state=cover, calibrator_state=calibrator,
            brightness=as_int(v["brightness"]),
            cover_moving=cover == CoverState.MOVING if moving is None else as_bool(moving),
            calibrator_changing=calibrator == CalibratorState.NOT_READY if changing is None
            else as_bool(changing),
        )

    async def open_cover(self) -> None:
        await self._put("opencover")

    async def close_cover(self) -> None:
        await self._put("closecover")

    async def halt_cover(self) -> None:
        await self._put("haltcover")

    async def calibrator_on(self, brightness: int) -> None:
        await self._put("calibratoron", Brightness=int(brightness))

    async def calibrator_off(self) -> None:
        await self._put("calibratoroff")
