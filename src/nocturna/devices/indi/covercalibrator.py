"""INDI flat panel and dust cap client (the light box and dust cap interfaces).

Properties: ``DRIVER_INFO`` (``DRIVER_INTERFACE``: which parts to wait for at
connect), ``FLAT_LIGHT_CONTROL`` (``FLAT_LIGHT_ON`` / ``FLAT_LIGHT_OFF``) and
``FLAT_LIGHT_INTENSITY`` (``FLAT_LIGHT_INTENSITY_VALUE``; its maximum is the maximum
brightness) for the panel; ``CAP_PARK`` (``PARK`` closes, ``UNPARK`` opens; Busy while
moving) and ``CAP_ABORT`` (``ABORT``) for a dust cap, where offered.

A part the device lacks reads NOT_PRESENT and its members raise
:class:`NotImplementedByDeviceError` (the light panel simulator has no cap). The panel
is NOT_READY while either light property is Busy, ERROR when one is Alert, READY when
on, OFF otherwise; its brightness reads 0 while off.
"""

from __future__ import annotations

from nocturna.core.errors import InvalidValueError
from nocturna.devices.covercalibrator import (
    CoverCalibrator,
    CoverCalibratorInfo,
    CoverCalibratorStatus,
)
from nocturna.devices.indi.device import IndiDevice
from nocturna.devices.types import CalibratorState, CoverState

LIGHT = "FLAT_LIGHT_CONTROL"
INTENSITY = "FLAT_LIGHT_INTENSITY"
CAP = "CAP_PARK"
CAP_ABORT = "CAP_ABORT"
DUSTCAP, LIGHTBOX = 512, 1024
"""Bits of ``DRIVER_INFO.DRIVER_INTERFACE`` (libindi's DeviceInterface)."""


class IndiCoverCalibrator(IndiDevice, CoverCalibrator):
    """A flat panel and/or dust cap on an INDI server (see the module docstring)."""

    required = ("CONNECTION", "DRIVER_INFO")

    async def _connect_device(self) -> None:
        """Wait for the properties of the parts the device declares in
        ``DRIVER_INTERFACE`` (without it: for either part's first property)."""
        await super()._connect_device()
        declared = self.vector("DRIVER_INFO").values().get("DRIVER_INTERFACE", "")
        interface = int(declared) if str(declared).isdigit() else 0
        wanted = [names for bit, names in ((DUSTCAP, (CAP,)), (LIGHTBOX, (LIGHT, INTENSITY)))
                  if interface & bit]

        def defined() -> bool:
            if not wanted:
                return self.has(LIGHT) or self.has(CAP)
            return all(self.has(name) for names in wanted for name in names)

        await self.connection.wait_for(
            defined, self.connect_timeout_s,
            f"the flat light or dust cap properties of INDI device {self.indi_device!r}")

    async def _read_info(self) -> CoverCalibratorInfo:
        if not self.has(LIGHT):
            return CoverCalibratorInfo(max_brightness=0)
        maximum = self.vector(INTENSITY).elements["FLAT_LIGHT_INTENSITY_VALUE"].maximum \
            if self.has(INTENSITY) else None
        return CoverCalibratorInfo(max_brightness=int(maximum or 1))

    def _cover_state(self) -> CoverState:
        if not self.has(CAP):
            return CoverState.NOT_PRESENT
        cap = self.vector(CAP)
        if cap.state == "Busy":
            return CoverState.MOVING
        if cap.state == "Alert":
            return CoverState.ERROR
        on = cap.on()
        if on == ["PARK"]:
            return CoverState.CLOSED
        if on == ["UNPARK"]:
            return CoverState.OPEN
        return CoverState.UNKNOWN

    def _calibrator(self) -> tuple[CalibratorState, int]:
        if not self.has(LIGHT):
            return CalibratorState.NOT_PRESENT, 0
        light = self.vector(LIGHT)
        intensity = self.vector(INTENSITY) if self.has(INTENSITY) else None
        states = {light.state, intensity.state if intensity is not None else "Idle"}
        if "Alert" in states:
            return CalibratorState.ERROR, 0
        if "FLAT_LIGHT_ON" not in light.on():
            return CalibratorState.OFF, 0
        brightness = round(intensity["FLAT_LIGHT_INTENSITY_VALUE"]) if intensity else 1
        if "Busy" in states:
            return CalibratorState.NOT_READY, brightness
        return CalibratorState.READY, brightness

    async def state(self) -> CoverCalibratorStatus:
        cover = self._cover_state()
        calibrator, brightness = self._calibrator()
        return CoverCalibratorStatus(
            cover_state=cover, calibrator_state=calibrator, brightness=brightness,
            cover_moving=cover == CoverState.MOVING,
            calibrator_changing=calibrator == CalibratorState.NOT_READY)

    async def open_cover(self) -> None:
        await self.send(CAP, {"PARK": False, "UNPARK": True}, wait=True, busy_ok=True)

    async def close_cover(self) -> None:
        await self.send(CAP, {"PARK": True, "UNPARK": False}, wait=True, busy_ok=True)

    async def halt_cover(self) -> None:
        await self.send(CAP_ABORT, {"ABORT": True}, wait=True)

    async def calibrator_on(self, brightness: int) -> None:
        maximum = self._info.max_brightness
        self.vector(LIGHT)  # NotImplementedByDeviceError without a panel
        if isinstance(brightness, bool) or not isinstance(brightness, int | float) \
                or not float(brightness).is_integer() or not 0 <= brightness <= maximum:
            raise InvalidValueError(
                f"brightness {brightness!r} is not a whole number in 0..{maximum}")
        await self.send(LIGHT, {"FLAT_LIGHT_ON": True, "FLAT_LIGHT_OFF": False}, wait=True)
        if self.has(INTENSITY):
            await self.send(INTENSITY, {"FLAT_LIGHT_INTENSITY_VALUE": int(brightness)},
                            wait=True)

    async def calibrator_off(self) -> None:
        await self.send(LIGHT, {"FLAT_LIGHT_ON": False, "FLAT_LIGHT_OFF": True}, wait=True)
