"""Which devices a server presents: numbered per device type, with stable UniqueIDs.

Devices are numbered 0..n-1 per ASCOM device type in configuration order. A
device's UniqueID is a UUID5 of the unit's name, the device type and the device's
name, so it is the same on every start (and on every network interface) as long as
the configuration names the same device the same way.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from nocturna.devices.alpaca import SITE_KEYS
from nocturna.devices.base import Device
from nocturna.devices.factory import DeviceSet

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:nocturna:alpaca")

DEVICE_TYPES = {
    "camera": "Camera", "telescope": "Telescope", "dome": "Dome", "focuser": "Focuser",
    "filterwheel": "FilterWheel", "rotator": "Rotator", "switch": "Switch",
    "safetymonitor": "SafetyMonitor", "observingconditions": "ObservingConditions",
    "covercalibrator": "CoverCalibrator",
}
"""URL device type → the ASCOM device type name the management API reports."""


@dataclass(frozen=True, slots=True)
class ServedDevice:
    kind: str  # URL device type, e.g. "telescope"
    number: int
    device: Device
    unique_id: str

    @property
    def device_type(self) -> str:
        return DEVICE_TYPES[self.kind]

    @property
    def path(self) -> str:
        return f"{self.kind}/{self.number}"


def unique_id(unit: str, kind: str, name: str) -> str:
    """The stable UniqueID of device ``name`` of type ``kind`` in unit ``unit``."""
    return str(uuid.uuid5(NAMESPACE, f"{unit}\x1f{kind}\x1f{name}"))


def device_groups(devices: DeviceSet) -> dict[str, list[Device]]:
    """The served devices of a unit per device type, in configuration order."""
    groups: dict[str, list[Device]] = {}
    for kind, key in SITE_KEYS.items():
        group = getattr(devices, key)
        groups[kind] = (list(group.values()) if isinstance(group, dict)
                        else [] if group is None else [group])
    return groups


def serve_list(devices: DeviceSet | dict[str, list[Device]], unit: str,
               kinds: Iterable[str] | None = None) -> list[ServedDevice]:
    """Every served device (only types in ``kinds`` when given), numbered per type."""
    groups = device_groups(devices) if isinstance(devices, DeviceSet) else devices
    wanted = set(DEVICE_TYPES if kinds is None else kinds)
    served = []
    for kind, group in groups.items():
        if kind not in wanted:
            continue
        for number, device in enumerate(group):
            served.append(ServedDevice(kind, number, device, unique_id(unit, kind, device.name)))
    return served
