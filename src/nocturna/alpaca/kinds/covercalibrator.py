"""Alpaca ``covercalibrator`` members over
:class:`~nocturna.devices.covercalibrator.CoverCalibrator` (ICoverCalibratorV2).

Without a calibrator (CalibratorState NotPresent) ``Brightness``, ``MaxBrightness``,
``CalibratorOn`` and ``CalibratorOff`` answer "not implemented"; without a cover
(CoverState NotPresent) so do ``OpenCover``, ``CloseCover`` and ``HaltCover``. A
brightness outside 0..MaxBrightness answers "invalid value".
"""

from __future__ import annotations

from typing import Any

from nocturna.alpaca.kinds.base import Args, Table
from nocturna.core.errors import InvalidValueError, NotImplementedByDeviceError
from nocturna.devices.covercalibrator import CoverCalibrator, CoverCalibratorStatus
from nocturna.devices.types import CalibratorState, CoverState

table = Table()


async def _with_calibrator(device: CoverCalibrator, member: str) -> CoverCalibratorStatus:
    state = await device.state()
    if state.calibrator_state == CalibratorState.NOT_PRESENT:
        raise NotImplementedByDeviceError(
            f"cover calibrator {device.name!r} has no calibrator ({member})")
    return state


async def _with_cover(device: CoverCalibrator, member: str) -> None:
    if (await device.state()).cover_state == CoverState.NOT_PRESENT:
        raise NotImplementedByDeviceError(
            f"cover calibrator {device.name!r} has no cover ({member})")


@table.get("coverstate")
async def cover_state(device: CoverCalibrator, args: Args) -> CoverState:
    return (await device.state()).cover_state


@table.get("covermoving")
async def cover_moving(device: CoverCalibrator, args: Args) -> bool:
    return (await device.state()).cover_moving


@table.get("calibratorstate")
async def calibrator_state(device: CoverCalibrator, args: Args) -> CalibratorState:
    return (await device.state()).calibrator_state


@table.get("calibratorchanging")
async def calibrator_changing(device: CoverCalibrator, args: Args) -> bool:
    return (await device.state()).calibrator_changing


@table.get("brightness")
async def brightness(device: CoverCalibrator, args: Args) -> int:
    return int((await _with_calibrator(device, "Brightness")).brightness)


@table.get("maxbrightness")
async def max_brightness(device: CoverCalibrator, args: Args) -> int:
    await _with_calibrator(device, "MaxBrightness")
    return int((await device.info()).max_brightness)


@table.put("calibratoron")
async def calibrator_on(device: CoverCalibrator, args: Args) -> None:
    await _with_calibrator(device, "CalibratorOn")
    level = int(args["Brightness"])
    top = int((await device.info()).max_brightness)
    if not 0 <= level <= top:
        raise InvalidValueError(f"brightness {level} is not in the range 0..{top}")
    await device.calibrator_on(level)


@table.put("calibratoroff")
async def calibrator_off(device: CoverCalibrator, args: Args) -> None:
    await _with_calibrator(device, "CalibratorOff")
    await device.calibrator_off()


@table.put("opencover")
async def open_cover(device: CoverCalibrator, args: Args) -> None:
    await _with_cover(device, "OpenCover")
    await device.open_cover()


@table.put("closecover")
async def close_cover(device: CoverCalibrator, args: Args) -> None:
    await _with_cover(device, "CloseCover")
    await device.close_cover()


@table.put("haltcover")
async def halt_cover(device: CoverCalibrator, args: Args) -> None:
    await _with_cover(device, "HaltCover")
    await device.halt_cover()


HANDLERS = table.handlers


async def device_state(device: CoverCalibrator) -> dict[str, Any]:
    """Brightness (with a calibrator), CalibratorState, CalibratorChanging, CoverState,
    CoverMoving."""
    state = await device.state()
    values: dict[str, Any] = {}
    if state.calibrator_state != CalibratorState.NOT_PRESENT:
        values["Brightness"] = int(state.brightness)
    values["CalibratorState"] = state.calibrator_state
    values["CalibratorChanging"] = state.calibrator_changing
    values["CoverState"] = state.cover_state
    values["CoverMoving"] = state.cover_moving
    return values
