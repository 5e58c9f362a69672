"""azcam's temperature-controller tool ("tempcon") over a nocturna temperature source.

The source is either a :class:`~nocturna.azcam.tempcon_sim.SimTempController` (a
cryostat with a cold head, a detector heater and a PI loop) or a
:class:`CameraCoolerTempCon`, the cooler of a nocturna :class:`Camera`.

Sensors, azcam style: ``temperature_id`` 0 is the detector (azcam's CAMTEMP, the one
the loop controls), 1 the cold head (DEWTEMP). A sensor the source lacks (a camera has
no cold head) reads azcam's ``bad_temp_value`` -999.9 through :meth:`get_temperature`
and :meth:`get_temperatures`, None in :meth:`get_status`, and has no header card.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

from nocturna.azcam.remote import remote
from nocturna.azcam.tempcon_sim import TempReading
from nocturna.core.errors import InvalidValueError
from nocturna.devices.camera import Camera

BAD_TEMP_VALUE = -999.9
"""What azcam answers for a temperature that cannot be read."""

SENSORS = ("detector", "cold head")


class TempSource(Protocol):
    """What :class:`TempConTool` needs from a temperature controller."""

    async def read(self) -> TempReading: ...

    async def set_control_temperature(self, celsius: float) -> None: ...


class CameraCoolerTempCon:
    """A camera's cooler as a temperature controller.

    Setting the control temperature sets the camera's target and turns its cooler on.
    The detector reading is the camera's sensor temperature; cameras have no cold-head
    sensor (their heat-sink temperature is the warm side of the cooler, so it is not
    reported as one); the cooler's drive appears as ``cooler_pct``.
    """

    def __init__(self, camera: Camera) -> None:
        self.camera = camera

    async def read(self) -> TempReading:
        state = await self.camera.state()
        return TempReading(detector_c=float(state.ccd_temperature_c), cold_head_c=None,
                           set_point_c=float(state.set_ccd_temperature_c),
                           cooler_pct=float(state.cooler_power_pct))

    async def set_control_temperature(self, celsius: float) -> None:
        await self.camera.set_target_temperature(celsius)
        await self.camera.set_cooler(True)


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


class TempConTool:
    """The azcam "tempcon" tool; see the module docstring."""

    name = "tempcon"

    def __init__(self, controller: TempSource, *, tolerance_c: float = 1.0) -> None:
        if not (math.isfinite(tolerance_c) and tolerance_c > 0):
            raise InvalidValueError(f"tempcon tolerance_c must be > 0, got {tolerance_c!r}")
        self.controller = controller
        self.tolerance_c = float(tolerance_c)
        self.control_temperature: float | None = None  # the last set point applied

    @staticmethod
    def _sensor(temperature_id: int, *, allow_default: bool = False) -> int:
        if allow_default and temperature_id == -1:
            return 0
        if isinstance(temperature_id, bool) or temperature_id not in range(len(SENSORS)):
            known = ", ".join(f"{i} ({name})" for i, name in enumerate(SENSORS))
            raise InvalidValueError(f"temperature_id {temperature_id!r} is not a sensor "
                                    f"(sensors: {known})")
        return temperature_id

    @remote
    async def set_control_temperature(self, temperature: float | None = None,
                                      temperature_id: int = -1) -> None:
        """Set the detector's set point in °C (None: apply the current one again).

        Only the detector (``temperature_id`` 0, or -1 for the default) is controlled.
        The source checks the range (:class:`InvalidValueError` naming the limits).
        """
        if self._sensor(temperature_id, allow_default=True) != 0:
            raise InvalidValueError(f"temperature_id {temperature_id} ({SENSORS[1]}) is not "
                                    "controlled; only sensor 0 (detector) has a set point")
        if temperature is None:
            temperature = self.control_temperature
            if temperature is None:
                temperature = (await self.controller.read()).set_point_c
        if isinstance(temperature, bool) or not isinstance(temperature, int | float) \
                or not math.isfinite(temperature):
            raise InvalidValueError(f"temperature {temperature!r} is not a finite number of °C")
        await self.controller.set_control_temperature(float(temperature))
        self.control_temperature = float(temperature)

    @remote
    async def get_control_temperature(self, temperature_id: int = -1) -> float:
        """The set point in °C (of the detector, the only controlled sensor)."""
        self._sensor(temperature_id, allow_default=True)
        return (await self.controller.read()).set_point_c

    @remote
    async def get_temperatures(self) -> list[float]:
        """[detector, cold head] in °C (-999.9 for a sensor the controller lacks)."""
        reading = await self.controller.read()
        return [_value(reading.detector_c), _value(reading.cold_head_c)]

    @remote
    async def get_temperature(self, temperature_id: int = 0) -> float:
        """One sensor in °C: 0 detector, 1 cold head (-999.9 if the controller lacks it)."""
        sensor = self._sensor(temperature_id)
        return (await self.get_temperatures())[sensor]

    @remote
    async def get_status(self) -> dict[str, Any]:
        """Set point, temperatures, heater/cooler output and whether at the set point."""
        reading = await self.controller.read()
        detector = _finite(reading.detector_c)
        within = detector is not None and abs(detector - reading.set_point_c) <= self.tolerance_c
        return {
            "control_temperature": reading.set_point_c,
            "camtemp": detector,
            "dewtemp": _finite(reading.cold_head_c),
            "heater_pct": _finite(reading.heater_pct),
            "cooler_pct": _finite(reading.cooler_pct),
            "tolerance_c": self.tolerance_c,
            "at_set_point": within,
        }

    async def header_cards(self) -> dict[str, tuple[Any, str]]:
        """CAMTEMP, DEWTEMP (when known), SETTEMP and the heater/cooler output."""
        reading = await self.controller.read()
        cards: dict[str, tuple[Any, str]] = {}
        detector, cold = _finite(reading.detector_c), _finite(reading.cold_head_c)
        if detector is not None:
            cards["CAMTEMP"] = (round(detector, 3), "[degC] detector temperature")
        if cold is not None:
            cards["DEWTEMP"] = (round(cold, 3), "[degC] dewar (cold head) temperature")
        cards["SETTEMP"] = (round(reading.set_point_c, 3), "[degC] detector set point")
        heater, cooler = _finite(reading.heater_pct), _finite(reading.cooler_pct)
        if heater is not None:
            cards["HEATER"] = (round(heater, 2), "[%] detector heater output")
        if cooler is not None:
            cards["COOLPWR"] = (round(cooler, 2), "[%] cooler power")
        return cards


def _value(celsius: float | None) -> float:
    value = _finite(celsius)
    return BAD_TEMP_VALUE if value is None else value
