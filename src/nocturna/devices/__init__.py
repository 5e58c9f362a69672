"""Devices: one interface per kind with ASCOM semantics, and drivers that fill them in.

Nothing above this package knows which driver it talks to: ``sim/`` (simulators),
and later ``alpaca/`` (network devices) and ``serial/``.
"""

from nocturna.devices.base import Device, DeviceIdentity, command
from nocturna.devices.camera import Camera, CameraImage, CameraInfo, CameraStatus
from nocturna.devices.conditions import ConditionsInfo, ConditionsStatus, ObservingConditions
from nocturna.devices.covercalibrator import (
    CoverCalibrator,
    CoverCalibratorInfo,
    CoverCalibratorStatus,
)
from nocturna.devices.dome import Dome, DomeInfo, DomeStatus
from nocturna.devices.filterwheel import FilterWheel, FilterWheelInfo, FilterWheelStatus
from nocturna.devices.focuser import Focuser, FocuserInfo, FocuserStatus
from nocturna.devices.mount import AxisRate, Mount, MountInfo, MountStatus
from nocturna.devices.rotator import Rotator, RotatorInfo, RotatorStatus
from nocturna.devices.safety import SafetyInfo, SafetyMonitor, SafetyStatus
from nocturna.devices.spectrograph import Spectrograph, SpectrographInfo, SpectrographStatus
from nocturna.devices.switch import Switch, SwitchChannel, SwitchInfo, SwitchStatus

KINDS: dict[str, type[Device]] = {
    cls.kind: cls
    for cls in (Camera, Mount, Dome, Focuser, FilterWheel, Rotator, Switch, SafetyMonitor,
                ObservingConditions, CoverCalibrator)
}
"""Every device kind by its ASCOM device type name (the spectrograph is not an ASCOM
kind: it is nocturna's own, for instruments like LATISS)."""

__all__ = [
    "KINDS", "AxisRate", "Camera", "CameraImage", "CameraInfo", "CameraStatus",
    "ConditionsInfo", "ConditionsStatus", "CoverCalibrator", "CoverCalibratorInfo",
    "CoverCalibratorStatus", "Device", "DeviceIdentity", "Dome", "DomeInfo", "DomeStatus",
    "FilterWheel", "FilterWheelInfo", "FilterWheelStatus", "Focuser", "FocuserInfo",
    "FocuserStatus", "Mount", "MountInfo", "MountStatus", "ObservingConditions", "Rotator",
    "RotatorInfo", "RotatorStatus", "SafetyInfo", "SafetyMonitor", "SafetyStatus",
    "Spectrograph", "SpectrographInfo", "SpectrographStatus", "Switch",
    "SwitchChannel", "SwitchInfo", "SwitchStatus", "command",
]
