"""INDI safety monitor client: the verdict of an INDI weather station.

Properties: ``WEATHER_STATUS`` (one light per critical parameter: Ok, Busy for a
warning, Alert when out of its safe range) and ``WEATHER_PARAMETERS`` for the values
quoted in the reasons.

The rule: **unsafe exactly when at least one light of ``WEATHER_STATUS`` is Alert**;
Ok, Busy (warning) and Idle lights are safe. Each Alert light is one reason, naming
the light and, when ``WEATHER_PARAMETERS`` has an element of the same name, its value.
The vector's own state is not consulted: a station's ``WEATHER_OVERRIDE`` turns it Ok
while a light stays Alert, and an override in INDI does not make nocturna open.
"""

from __future__ import annotations

from nocturna.devices.indi.conditions import PARAMETERS
from nocturna.devices.indi.device import IndiDevice
from nocturna.devices.safety import SafetyInfo, SafetyMonitor, SafetyStatus

STATUS = "WEATHER_STATUS"


class IndiSafetyMonitor(IndiDevice, SafetyMonitor):
    """Says unsafe when a light of an INDI weather station's status is Alert."""

    required = ("CONNECTION", STATUS)

    async def _read_info(self) -> SafetyInfo:
        lights = self.vector(STATUS).elements.values()
        return SafetyInfo(checks=[
            f"{light.label} ({light.name}) of INDI device {self.indi_device!r} at "
            f"{self.address} is not Alert" for light in lights])

    async def state(self) -> SafetyStatus:
        alerts = [light for light in self.vector(STATUS).elements.values()
                  if light.value == "Alert"]
        values = self.vector(PARAMETERS).elements if alerts and self.has(PARAMETERS) else {}
        reasons = []
        for light in alerts:
            reading = values.get(light.name)
            quoted = f" at {reading.value:g}" if reading is not None else ""
            reasons.append(f"{light.label or light.name}{quoted} is Alert on INDI weather "
                           f"station {self.indi_device!r}")
        return SafetyStatus(is_safe=not alerts, reasons=reasons)
