"""Enumerations shared by device interfaces, with the ASCOM integer values.

The values are those of the ASCOM standard, so the Alpaca server and client convert
with ``int(x)`` / ``Enum(n)`` and nothing else.
"""

from __future__ import annotations

from enum import IntEnum


class CameraState(IntEnum):
    IDLE = 0
    WAITING = 1
    EXPOSING = 2
    READING = 3
    DOWNLOAD = 4
    ERROR = 5


class SensorType(IntEnum):
    MONOCHROME = 0
    COLOR = 1
    RGGB = 2
    CMYG = 3
    CMYG2 = 4
    LRGB = 5


class GuideDirection(IntEnum):
    NORTH = 0
    SOUTH = 1
    EAST = 2
    WEST = 3


class PierSide(IntEnum):
    EAST = 0
    WEST = 1
    UNKNOWN = -1


class TelescopeAxis(IntEnum):
    PRIMARY = 0
    SECONDARY = 1
    TERTIARY = 2


class AlignmentMode(IntEnum):
    ALT_AZ = 0
    POLAR = 1
    GERMAN_POLAR = 2


class EquatorialSystem(IntEnum):
    OTHER = 0
    TOPOCENTRIC = 1
    J2000 = 2
    J2050 = 3
    B1950 = 4


class DriveRate(IntEnum):
    SIDEREAL = 0
    LUNAR = 1
    SOLAR = 2
    KING = 3


class ShutterState(IntEnum):
    OPEN = 0
    CLOSED = 1
    OPENING = 2
    CLOSING = 3
    ERROR = 4


class CoverState(IntEnum):
    NOT_PRESENT = 0
    CLOSED = 1
    MOVING = 2
    OPEN = 3
    UNKNOWN = 4
    ERROR = 5


class CalibratorState(IntEnum):
    NOT_PRESENT = 0
    OFF = 1
    NOT_READY = 2
    READY = 3
    UNKNOWN = 4
    ERROR = 5
