"""The iOptron "v3" RS-232 command language: formats and parsers, no I/O.

Every command is ASCII, starts with ``:`` and ends with ``#``. Replies are either read
up to ``#`` (getters), or a fixed number of bytes without ``#`` (``:MountInfo#``: 4;
setters and motions: one ``1`` for done, ``0`` for refused), or nothing at all (manual
moves and guide pulses). Angles travel in units of 0.01 arcsecond; right ascension as an
*angle* (hours × 15). Coordinates are of date (JNow), as the hand controller shows them.

The encoders build commands (and, for the simulator, replies); the parsers read
replies and raise :class:`SerialProtocolError` naming the command and the raw bytes
when a reply does not follow the format, never anything else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import TypeVar

from nocturna.devices.serial.line import SerialProtocolError
from nocturna.devices.types import PierSide

E = TypeVar("E", bound=IntEnum)

CENTI_ARCSEC_PER_DEG = 360_000
RA_FULL_CIRCLE = 360 * CENTI_ARCSEC_PER_DEG  # 129 600 000
J2000 = datetime(2000, 1, 1, 12, tzinfo=UTC)
"""Epoch of ``:GUT#``/``:SUT``: milliseconds since JD 2451545.0, counted in UTC (as INDI)."""

MODELS: dict[str, str] = {
    "0010": "Cube II EQ", "0011": "SmartEQ Pro+", "0025": "CEM25", "0026": "CEM26",
    "0027": "CEM26-EC", "0028": "GEM28", "0029": "GEM28-EC", "0030": "iEQ30 Pro",
    "0040": "CEM40", "0041": "CEM40-EC", "0043": "GEM45", "0045": "iEQ45 Pro EQ",
    "0046": "iEQ45 Pro AA", "0060": "CEM60", "0061": "CEM60-EC", "0070": "CEM70",
    "0071": "CEM70-EC", "0120": "CEM120", "0121": "CEM120-EC", "0122": "CEM120-EC2",
    "5010": "Cube II AA", "5035": "AZ Mount Pro", "5045": "iEQ45 Pro AA",
}
"""``:MountInfo#`` codes → model names (the table INDI 1.9.9's ioptronv3 driver knows)."""

SLEW_SPEEDS = (1, 2, 8, 16, 64, 128, 256, 512, 1024)
"""Multiples of the sidereal rate of slew speeds 1..9 (9 is the mount's maximum)."""


class Gps(IntEnum):
    OFF = 0
    NO_DATA = 1
    OK = 2


class SystemState(IntEnum):
    STOPPED = 0
    TRACKING = 1  # PEC off
    SLEWING = 2
    GUIDING = 3
    FLIPPING = 4  # meridian flip
    TRACKING_PEC = 5
    PARKED = 6
    HOMED = 7  # stopped at the zero (home) position


class TrackingRate(IntEnum):
    SIDEREAL = 0
    LUNAR = 1
    SOLAR = 2
    KING = 3
    CUSTOM = 4


class TimeSource(IntEnum):
    RS232 = 0
    HAND_CONTROLLER = 1
    GPS = 2


@dataclass(frozen=True, slots=True)
class Status:
    """``:GLS#``: site, GPS and what the mount is doing."""

    longitude_deg: float  # east positive
    latitude_deg: float
    gps: Gps
    system: SystemState
    tracking_rate: TrackingRate
    slew_speed: int  # 1..9
    time_source: TimeSource
    northern: bool  # hemisphere

    @property
    def tracking(self) -> bool:
        return self.system in (SystemState.TRACKING, SystemState.TRACKING_PEC,
                               SystemState.GUIDING)

    @property
    def slewing(self) -> bool:
        return self.system in (SystemState.SLEWING, SystemState.FLIPPING)


@dataclass(frozen=True, slots=True)
class Position:
    """``:GEP#``: where the axes point (of date) and on which side of the pier."""

    ra_hours: float
    dec_deg: float
    pier_side: PierSide
    counterweight_up: bool


@dataclass(frozen=True, slots=True)
class MountTime:
    """``:GUT#``: the mount's clock (UTC) and its time zone."""

    utc: datetime
    utc_offset_min: int
    dst: bool


@dataclass(frozen=True, slots=True)
class Firmware:
    """``:FW1#`` and ``:FW2#``: four 6-character dates (YYMMDD)."""

    mainboard: str
    hand_controller: str
    ra_motor: str
    dec_motor: str


# ------------------------------------------------------------------- helpers
def _fail(command: bytes, raw: bytes, why: str) -> SerialProtocolError:
    return SerialProtocolError(f"iOptron {command.decode('ascii', 'replace')}: {why}, "
                               f"got {raw!r}")


def _body(command: bytes, raw: bytes, length: int) -> str:
    """The reply to ``command`` without its ``#``, checked to be ``length`` ASCII chars."""
    if not raw.endswith(b"#"):
        raise _fail(command, raw, "the reply does not end with '#'")
    body = raw[:-1]
    if len(body) != length:
        raise _fail(command, raw, f"expected {length} characters before '#'")
    if not body.isascii():
        raise _fail(command, raw, "the reply is not ASCII")
    return body.decode("ascii")


def _digits(command: bytes, raw: bytes, text: str, what: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise _fail(command, raw, f"{what} {text!r} is not a number")
    return int(text)


def _signed(command: bytes, raw: bytes, text: str, what: str) -> int:
    if text[:1] not in ("+", "-"):
        raise _fail(command, raw, f"{what} {text!r} has no sign")
    value = _digits(command, raw, text[1:], what)
    return -value if text[0] == "-" else value


def _enum(kind: type[E], command: bytes, raw: bytes, char: str, what: str) -> E:
    try:
        return kind(_digits(command, raw, char, what))
    except ValueError:
        raise _fail(command, raw, f"{what} {char!r} is not one of "
                                  f"{', '.join(str(int(m)) for m in kind)}") from None


def _centi(deg: float) -> int:
    return round(abs(deg) * CENTI_ARCSEC_PER_DEG)


def _sign(value: float) -> str:
    return "-" if value < 0 else "+"


def _check(value: float, low: float, high: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{what} {value!r} is not in [{low:g}, {high:g}]")
    return float(value)


# ------------------------------------------------------------------ commands
def set_ra(ra_hours: float) -> bytes:
    """``:SRA<9 digits>#``: the target right ascension (of date)."""
    ra = _check(ra_hours, 0.0, 24.0, "right ascension (h)")
    return b":SRA%09d#" % (round(ra * 15 * CENTI_ARCSEC_PER_DEG) % RA_FULL_CIRCLE)


def set_dec(dec_deg: float) -> bytes:
    """``:Sd±<8 digits>#``: the target declination (of date)."""
    dec = _check(dec_deg, -90.0, 90.0, "declination (deg)")
    return b":Sd%s%08d#" % (_sign(dec).encode(), _centi(dec))


def set_longitude(longitude_deg: float) -> bytes:
    """``:SLO±<8 digits>#``, east positive, in -180..180."""
    lon = (_check(longitude_deg, -180.0, 360.0, "longitude (deg)") + 180.0) % 360.0 - 180.0
    return b":SLO%s%08d#" % (_sign(lon).encode(), _centi(lon))


def set_hemisphere(northern: bool) -> bytes:
    """``:SHE1#`` northern, ``:SHE0#`` southern hemisphere."""
    return b":SHE1#" if northern else b":SHE0#"


def set_latitude(latitude_deg: float) -> bytes:
    """``:SLA±<8 digits>#``."""
    lat = _check(latitude_deg, -90.0, 90.0, "latitude (deg)")
    return b":SLA%s%08d#" % (_sign(lat).encode(), _centi(lat))


def set_utc(instant: datetime) -> bytes:
    """``:SUT<13 digits>#``: milliseconds since J2000.0 (UTC)."""
    if instant.tzinfo is None:
        raise ValueError(f"{instant!r} has no time zone")
    ms = round((instant - J2000) / timedelta(milliseconds=1))
    if not 0 <= ms < 10**13:
        raise ValueError(f"{instant.isoformat()} is before J2000 or too far ahead")
    return b":SUT%013d#" % ms


def set_utc_offset(minutes: int) -> bytes:
    """``:SG±mmm#``: the time zone, minutes east of UTC."""
    offset = int(_check(minutes, -720, 840, "UTC offset (min)"))
    return b":SG%s%03d#" % (_sign(offset).encode(), abs(offset))


def set_dst(on: bool) -> bytes:
    return b":SDS1#" if on else b":SDS0#"


def set_tracking_rate(rate: TrackingRate) -> bytes:
    return b":RT%d#" % int(TrackingRate(rate))


def set_custom_rate(multiple: float) -> bytes:
    """``:RR<5 digits>#``: the custom RA tracking rate, 0.1..1.9 × sidereal, ×10000."""
    return b":RR%05d#" % round(_check(multiple, 0.1, 1.9, "custom rate (× sidereal)") * 10000)


def set_guide_rates(ra_fraction: float, dec_fraction: float) -> bytes:
    """``:RG<RR><DD>#``: guide rates as hundredths of sidereal, each 0.01..0.90."""
    ra = _check(ra_fraction, 0.01, 0.9, "RA guide rate (× sidereal)")
    dec = _check(dec_fraction, 0.01, 0.9, "Dec guide rate (× sidereal)")
    return b":RG%02d%02d#" % (round(ra * 100), round(dec * 100))


def set_slew_speed(speed: int) -> bytes:
    return b":SR%d#" % int(_check(speed, 1, 9, "slew speed"))


GUIDE_CODES = {"north": b"E", "south": b"C", "west": b"Q", "east": b"S"}
"""Guide pulse letters: north Dec+, south Dec-, west RA-, east RA+."""


def guide_pulse(direction: str, duration_ms: int) -> bytes:
    """``:Z<c><5 digits>#``: a guide pulse of up to 99 999 ms (no reply)."""
    ms = int(_check(duration_ms, 0, 99_999, "pulse duration (ms)"))
    return b":Z%s%05d#" % (GUIDE_CODES[direction], ms)


def set_meridian(flip: bool, degrees: int) -> bytes:
    """``:SMT<action><2 digits>#``: at the meridian limit, stop (0) or flip (1)."""
    return b":SMT%d%02d#" % (int(flip), int(_check(degrees, 0, 99, "meridian limit (deg)")))


# ------------------------------------------------------------------- replies
def parse_ok(command: bytes, raw: bytes) -> bool:
    """A setter's one-byte reply: ``1`` done (True), ``0`` refused (False)."""
    if raw == b"1":
        return True
    if raw == b"0":
        return False
    raise _fail(command, raw, "expected '1' or '0'")


def parse_model(raw: bytes) -> str:
    """``:MountInfo#``: the 4-digit model code (no ``#``)."""
    command = b":MountInfo#"
    if len(raw) != 4 or not (raw.isascii() and raw.isdigit()):
        raise _fail(command, raw, "expected a 4-digit model code")
    return raw.decode("ascii")


def model_name(code: str) -> str:
    return MODELS.get(code, f"unknown model {code}")


def parse_firmware(fw1: bytes, fw2: bytes) -> Firmware:
    """``:FW1#`` (main board + hand controller) and ``:FW2#`` (RA + Dec motors)."""
    one = _body(b":FW1#", fw1, 12)
    two = _body(b":FW2#", fw2, 12)
    return Firmware(one[:6], one[6:], two[:6], two[6:])


def parse_status(raw: bytes) -> Status:
    """``:GLS#``: 23 characters + ``#`` (see the module docstring of the simulator)."""
    command = b":GLS#"
    body = _body(command, raw, 23)
    longitude = _signed(command, raw, body[0:9], "longitude")
    latitude = _digits(command, raw, body[9:17], "latitude + 90°") / CENTI_ARCSEC_PER_DEG - 90
    if not -90.0 <= latitude <= 90.0 or abs(longitude) > 180 * CENTI_ARCSEC_PER_DEG:
        raise _fail(command, raw, "the site is off the globe")
    speed = _digits(command, raw, body[20], "slew speed")
    if not 1 <= speed <= 9:
        raise _fail(command, raw, f"slew speed {speed} is not in 1..9")
    if body[22] not in "01":
        raise _fail(command, raw, f"hemisphere {body[22]!r} is not 0 or 1")
    return Status(
        longitude_deg=longitude / CENTI_ARCSEC_PER_DEG,
        latitude_deg=latitude,
        gps=_enum(Gps, command, raw, body[17], "GPS state"),
        system=_enum(SystemState, command, raw, body[18], "system state"),
        tracking_rate=_enum(TrackingRate, command, raw, body[19], "tracking rate"),
        slew_speed=speed,
        time_source=_enum(TimeSource, command, raw, body[21], "time source"),
        northern=body[22] == "1",
    )


def format_status(status: Status) -> bytes:
    lon = _centi(status.longitude_deg)
    lat = round((status.latitude_deg + 90.0) * CENTI_ARCSEC_PER_DEG)
    return b"%s%08d%08d%d%d%d%d%d%d#" % (
        _sign(status.longitude_deg).encode(), lon, lat, status.gps, status.system,
        status.tracking_rate, status.slew_speed, status.time_source, int(status.northern))


PIER_CODES = {PierSide.EAST: 0, PierSide.WEST: 1, PierSide.UNKNOWN: 2}


def parse_position(raw: bytes) -> Position:
    """``:GEP#``: ±Dec (8 digits), RA angle (9 digits), pier side, counterweight state."""
    command = b":GEP#"
    body = _body(command, raw, 20)
    dec = _signed(command, raw, body[0:9], "declination") / CENTI_ARCSEC_PER_DEG
    ra = _digits(command, raw, body[9:18], "right ascension")
    if abs(dec) > 90.0 or ra >= RA_FULL_CIRCLE:
        raise _fail(command, raw, "the coordinates are off the sky")
    pier = _digits(command, raw, body[18], "pier side")
    if pier not in (0, 1, 2):
        raise _fail(command, raw, f"pier side {pier} is not 0, 1 or 2")
    if body[19] not in "01":
        raise _fail(command, raw, f"counterweight state {body[19]!r} is not 0 or 1")
    side = next(s for s, code in PIER_CODES.items() if code == pier)
    return Position(ra / (15 * CENTI_ARCSEC_PER_DEG), dec, side, body[19] == "0")


def format_position(position: Position) -> bytes:
    ra = round(position.ra_hours * 15 * CENTI_ARCSEC_PER_DEG) % RA_FULL_CIRCLE
    return b"%s%08d%09d%d%d#" % (_sign(position.dec_deg).encode(), _centi(position.dec_deg),
                                 ra, PIER_CODES[position.pier_side],
                                 0 if position.counterweight_up else 1)


def parse_time(raw: bytes) -> MountTime:
    """``:GUT#``: ±mmm UTC offset, DST digit, 13 digits of ms since J2000 (UTC)."""
    command = b":GUT#"
    body = _body(command, raw, 18)
    offset = _signed(command, raw, body[0:4], "UTC offset")
    if body[4] not in "01":
        raise _fail(command, raw, f"DST flag {body[4]!r} is not 0 or 1")
    ms = _digits(command, raw, body[5:18], "time")
    return MountTime(J2000 + timedelta(milliseconds=ms), offset, body[4] == "1")


def format_time(time: MountTime) -> bytes:
    ms = max(0, round((time.utc - J2000) / timedelta(milliseconds=1)))
    return b"%s%03d%d%013d#" % (_sign(time.utc_offset_min).encode(), abs(time.utc_offset_min),
                                int(time.dst), ms)


def parse_guide_rates(raw: bytes) -> tuple[float, float]:
    """``:AG#``: (RA, Dec) guide rates as fractions of sidereal."""
    command = b":AG#"
    body = _body(command, raw, 4)
    return (_digits(command, raw, body[:2], "RA guide rate") / 100,
            _digits(command, raw, body[2:], "Dec guide rate") / 100)


def format_guide_rates(ra_fraction: float, dec_fraction: float) -> bytes:
    return b"%02d%02d#" % (round(ra_fraction * 100), round(dec_fraction * 100))


def parse_meridian(raw: bytes) -> tuple[bool, int]:
    """``:GMT#``: (flip at the limit, limit in degrees past the meridian)."""
    command = b":GMT#"
    body = _body(command, raw, 3)
    if body[0] not in "01":
        raise _fail(command, raw, f"meridian action {body[0]!r} is not 0 or 1")
    return body[0] == "1", _digits(command, raw, body[1:], "meridian limit")
