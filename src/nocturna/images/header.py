"""The FITS header of one exposure, built from small typed sections.

Each section is a frozen dataclass that checks its fields when it is made (a bad value
raises :class:`~nocturna.core.errors.InvalidValueError` naming ``Section.field``) and
knows its own cards (:meth:`cards`). :func:`header_cards` writes the sections in the
order given, then ``extra`` cards, as :class:`~nocturna.images.cards.HeaderCards` (card
text laid out without astropy: what the frame pipeline writes); :func:`build_header`
gives the same as an astropy Header. Anything with a ``cards() -> list[Card]`` method
is a section, so later code (a rotator, the weather, plate-solve results) adds cards by
passing its own section or ``extra``, without editing this module.

Units: angles in degrees (hour angle in hours), temperatures in °C, lengths as named
(``_um``, ``_mm``, ``_m``), times in seconds; fields accept plain numbers in that unit
or astropy Quantities. Every card has a comment, with the unit first in brackets
(``[deg]``), as the FITS standard recommends. Times are UTC.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from astropy.io import fits

from nocturna.core.clock import get_clock, parse_instant
from nocturna.core.errors import InvalidValueError
from nocturna.core.units import is_quantity
from nocturna.images.cards import HeaderCards
from nocturna.images.wcs import plate_scale_arcsec, tan_wcs, wcs_cards

if TYPE_CHECKING:
    from astropy.wcs import WCS

CardValue = str | int | float | bool

#: Image types (IMAGETYP) accepted: the common amateur names and LATISS/azcam ones.
IMAGE_TYPES = frozenset(
    {"LIGHT", "OBJECT", "DARK", "BIAS", "ZERO", "FLAT", "DARKFLAT", "FOCUS", "ACQ",
     "ENGTEST", "CWFS", "STUTTERED", "TEST", "COMP"}
)
PIER_SIDES = frozenset({"EAST", "WEST", "UNKNOWN"})

_KEYWORD = re.compile(r"^[A-Z0-9_-]{1,8}$")
_MAX_STRING = 68  # a FITS string value fits on one 80-character card


@dataclass(frozen=True)
class Card:
    """One header card: keyword, value, comment."""

    keyword: str
    value: CardValue
    comment: str


@runtime_checkable
class CardSource(Protocol):
    """Anything that contributes cards to a header."""

    def cards(self) -> list[Card]: ...


# --- checking values ---------------------------------------------------------------


def _name(owner: object, field: str) -> str:
    return f"{type(owner).__name__}.{field}"


def _number(owner: object, field: str, unit: str, *, low: float | None = None,
            high: float | None = None, low_open: bool = False) -> None:
    """Check/normalise a numeric field (Quantity → float in ``unit``); None stays None."""
    value = getattr(owner, field)
    if value is None:
        return
    original = value
    if is_quantity(value):
        import astropy.units as u

        try:
            value = value.to_value(unit, equivalencies=u.temperature())
        except (u.UnitsError, ValueError, TypeError) as exc:
            raise InvalidValueError(
                f"{_name(owner, field)} = {original!r} is not convertible to {unit}") from exc
        value = value.item() if hasattr(value, "item") else value
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise InvalidValueError(
            f"{_name(owner, field)} must be a finite number in {unit}, got {original!r}")
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and value > high
    if too_low or too_high:
        span = f"{'>' if low_open else '>='} {low:g}" if low is not None else ""
        span += (" and " if span and high is not None else "") + (
            f"<= {high:g}" if high is not None else "")
        raise InvalidValueError(f"{_name(owner, field)} must be {span} {unit}, got {original!r}")
    object.__setattr__(owner, field, value)


def _integer(owner: object, field: str, *, low: int | None = None) -> None:
    value = getattr(owner, field)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, Integral) or (
            low is not None and value < low):
        bound = f" >= {low}" if low is not None else ""
        raise InvalidValueError(f"{_name(owner, field)} must be an integer{bound}, got {value!r}")
    object.__setattr__(owner, field, int(value))


def _text(owner: object, field: str, *, choices: frozenset[str] | None = None) -> None:
    value = getattr(owner, field)
    if value is None:
        return
    if not isinstance(value, str) or not value.strip():
        raise InvalidValueError(f"{_name(owner, field)} must be a non-empty string, got {value!r}")
    if not value.isascii() or not value.isprintable() or len(value) > _MAX_STRING:
        raise InvalidValueError(
            f"{_name(owner, field)} must be printable ASCII of at most {_MAX_STRING} "
            f"characters (FITS), got {value!r}")
    if choices is not None:
        value = value.strip().upper()
        if value not in choices:
            raise InvalidValueError(
                f"{_name(owner, field)} must be one of {', '.join(sorted(choices))}, "
                f"got {getattr(owner, field)!r}")
        object.__setattr__(owner, field, value)


def _cards(*entries: tuple[str, CardValue | None, str]) -> list[Card]:
    """Cards for the entries whose value is set."""
    return [Card(key, value, comment) for key, value, comment in entries if value is not None]


def _iso_ms(instant: datetime) -> str:
    """``YYYY-MM-DDThh:mm:ss.sss`` (UTC, milliseconds truncated), the FITS date form."""
    return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}"


def _mjd(instant: datetime) -> float:
    from astropy.time import Time  # UTC MJD, leap-second aware

    return float(Time(instant, scale="utc").mjd)


def sexagesimal(value: float, *, hours: bool) -> str:
    """``'HH MM SS.sss'`` for an RA in degrees (``hours=True``) or ``'+DD MM SS.ss'``."""
    if hours:
        units = round((value % 360.0) / 15.0 * 3600_000)  # milliseconds of time
        units %= 24 * 3600_000
        whole, frac = divmod(units, 1000)
        h, rest = divmod(whole, 3600)
        m, s = divmod(rest, 60)
        return f"{h:02d} {m:02d} {s:02d}.{frac:03d}"
    sign = "-" if value < 0 else "+"
    units = round(abs(value) * 3600_00)  # hundredths of an arcsecond
    whole, frac = divmod(units, 100)
    d, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{sign}{d:02d} {m:02d} {s:02d}.{frac:02d}"


# --- sections ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ExposureInfo:
    """When and how long: the only required section.

    ``start`` is the shutter opening (aware datetime or ISO text; naive means UTC);
    ``end`` defaults to ``start + exposure_s``.
    """

    start: datetime | str
    exposure_s: float
    image_type: str = "LIGHT"
    end: datetime | str | None = None

    def __post_init__(self) -> None:
        for field in ("start", "end"):
            value = getattr(self, field)
            if value is None:
                continue
            if not isinstance(value, datetime | str):
                raise InvalidValueError(
                    f"{_name(self, field)} must be a datetime or ISO 8601 text, got {value!r}")
            try:
                object.__setattr__(self, field, parse_instant(value))
            except InvalidValueError as exc:
                raise InvalidValueError(
                    f"{_name(self, field)} = {value!r} is not an ISO 8601 time") from exc
        _number(self, "exposure_s", "s", low=0.0)
        _text(self, "image_type", choices=IMAGE_TYPES)
        if self.end is None:
            object.__setattr__(self, "end", self.start + timedelta(seconds=self.exposure_s))
        elif self.end < self.start:
            raise InvalidValueError(
                f"{_name(self, 'end')} {self.end.isoformat()} is before start "
                f"{self.start.isoformat()}")

    def cards(self) -> list[Card]:
        assert isinstance(self.start, datetime) and isinstance(self.end, datetime)
        return _cards(
            ("TIMESYS", "UTC", "time scale of all times in this header"),
            ("DATE-OBS", _iso_ms(self.start), "[UTC] start of the exposure"),
            ("DATE-END", _iso_ms(self.end), "[UTC] end of the exposure"),
            ("DATE-AVG", _iso_ms(self.start + (self.end - self.start) / 2),
             "[UTC] middle of the exposure"),
            ("MJD-OBS", _mjd(self.start), "[d] MJD (UTC) of the start of the exposure"),
            ("EXPTIME", self.exposure_s, "[s] exposure time"),
            ("IMAGETYP", self.image_type, "image type"),
        )


@dataclass(frozen=True, kw_only=True)
class SiteInfo:
    """The observatory: longitude east-positive, geodetic latitude, height above sea."""

    name: str | None = None
    latitude_deg: float | None = None
    longitude_deg: float | None = None
    elevation_m: float | None = None

    def __post_init__(self) -> None:
        _text(self, "name")
        _number(self, "latitude_deg", "deg", low=-90.0, high=90.0)
        _number(self, "longitude_deg", "deg", low=-180.0, high=360.0)
        if self.longitude_deg is not None and self.longitude_deg > 180.0:
            object.__setattr__(self, "longitude_deg", self.longitude_deg - 360.0)
        _number(self, "elevation_m", "m", low=-500.0, high=10_000.0)

    def cards(self) -> list[Card]:
        return _cards(
            ("OBSERVAT", self.name, "observatory (site) name"),
            ("SITELAT", self.latitude_deg, "[deg] site latitude (geodetic, north +)"),
            ("SITELONG", self.longitude_deg, "[deg] site longitude (east +)"),
            ("SITEELEV", self.elevation_m, "[m] site elevation above sea level"),
        )


@dataclass(frozen=True, kw_only=True)
class CameraInfo:
    """The camera and its settings; ``pixel_size_*_um`` are unbinned (y defaults to x).

    ``instrument`` is the instrument's real name (``INSTRUME``; default: ``name``),
    ``name`` the camera device's (``CAMERA``).
    """

    name: str | None = None
    instrument: str | None = None
    binning_x: int = 1
    binning_y: int | None = None
    gain: float | None = None
    offset: float | None = None
    ccd_temp_c: float | None = None
    set_temp_c: float | None = None
    pixel_size_x_um: float | None = None
    pixel_size_y_um: float | None = None
    readout_mode: str | None = None
    electrons_per_adu: float | None = None
    bayer_pattern: str | None = None
    """A colour sensor's filter pattern (``RGGB``...) at its offsets; None for mono or
    binned pixels (binning mixes the colours)."""
    bayer_offset_x: int = 0
    bayer_offset_y: int = 0

    def __post_init__(self) -> None:
        _text(self, "name")
        _text(self, "bayer_pattern")
        _integer(self, "bayer_offset_x", low=0)
        _integer(self, "bayer_offset_y", low=0)
        _text(self, "instrument")
        _integer(self, "binning_x", low=1)
        if self.binning_y is None:
            object.__setattr__(self, "binning_y", self.binning_x)
        _integer(self, "binning_y", low=1)
        _number(self, "gain", "", low=0.0)
        _number(self, "offset", "", low=0.0)
        _number(self, "ccd_temp_c", "deg_C", low=-273.15, high=150.0)
        _number(self, "set_temp_c", "deg_C", low=-273.15, high=150.0)
        _number(self, "pixel_size_x_um", "um", low=0.0, low_open=True)
        if self.pixel_size_y_um is None:
            object.__setattr__(self, "pixel_size_y_um", self.pixel_size_x_um)
        _number(self, "pixel_size_y_um", "um", low=0.0, low_open=True)
        _text(self, "readout_mode")
        _number(self, "electrons_per_adu", "electron / adu", low=0.0, low_open=True)

    def binned_pixel_um(self) -> tuple[float, float] | None:
        """Pixel size (x, y) in µm including binning, if known."""
        if self.pixel_size_x_um is None or self.pixel_size_y_um is None:
            return None
        assert self.binning_y is not None
        return self.pixel_size_x_um * self.binning_x, self.pixel_size_y_um * self.binning_y

    def cards(self) -> list[Card]:
        binned = self.binned_pixel_um()
        return _cards(
            ("INSTRUME", self.instrument or self.name, "instrument"),
            ("CAMERA", self.name, "camera device"),
            ("XBINNING", self.binning_x, "binning factor in x"),
            ("YBINNING", self.binning_y, "binning factor in y"),
            ("GAIN", self.gain, "camera gain setting"),
            ("OFFSET", self.offset, "camera offset (bias) setting"),
            ("CCD-TEMP", self.ccd_temp_c, "[degC] sensor temperature at the start"),
            ("SET-TEMP", self.set_temp_c, "[degC] sensor cooling set point"),
            ("XPIXSZ", None if binned is None else binned[0], "[um] pixel width, binned"),
            ("YPIXSZ", None if binned is None else binned[1], "[um] pixel height, binned"),
            ("READMODE", self.readout_mode, "readout mode"),
            ("EGAIN", self.electrons_per_adu, "[e-/ADU] electrons per ADU"),
            ("BAYERPAT", self.bayer_pattern, "colour filter pattern of the mosaic"),
            ("XBAYROFF", None if self.bayer_pattern is None else self.bayer_offset_x,
             "x offset of the Bayer pattern"),
            ("YBAYROFF", None if self.bayer_pattern is None else self.bayer_offset_y,
             "y offset of the Bayer pattern"),
        )


@dataclass(frozen=True, kw_only=True)
class MountInfo:
    """Telescope and pointing: ``target_*`` as commanded, ``ra_deg``/``dec_deg`` as read.

    Coordinates are ICRS (J2000); ``hour_angle_h`` in hours, west positive.
    ``telescope`` is the telescope's real name (``TELESCOP``), ``mount`` the mount
    device's (``MOUNT``).
    """

    telescope: str | None = None
    mount: str | None = None
    focal_length_mm: float | None = None
    target_ra_deg: float | None = None
    target_dec_deg: float | None = None
    ra_deg: float | None = None
    dec_deg: float | None = None
    hour_angle_h: float | None = None
    altitude_deg: float | None = None
    azimuth_deg: float | None = None
    airmass: float | None = None
    pier_side: str | None = None

    def __post_init__(self) -> None:
        _text(self, "telescope")
        _text(self, "mount")
        _number(self, "focal_length_mm", "mm", low=0.0, low_open=True)
        for ra in ("target_ra_deg", "ra_deg"):
            _number(self, ra, "deg", low=0.0, high=360.0)
        for dec in ("target_dec_deg", "dec_deg"):
            _number(self, dec, "deg", low=-90.0, high=90.0)
        _number(self, "hour_angle_h", "hourangle", low=-24.0, high=24.0)
        _number(self, "altitude_deg", "deg", low=-90.0, high=90.0)
        _number(self, "azimuth_deg", "deg", low=0.0, high=360.0)
        _number(self, "airmass", "", low=1.0)
        _text(self, "pier_side", choices=PIER_SIDES)
        for ra_field, dec_field in (("target_ra_deg", "target_dec_deg"), ("ra_deg", "dec_deg")):
            if (getattr(self, ra_field) is None) != (getattr(self, dec_field) is None):
                raise InvalidValueError(
                    f"{_name(self, ra_field)} and {_name(self, dec_field)} go together: "
                    "give both or neither")

    def cards(self) -> list[Card]:
        commanded = self.target_ra_deg is not None and self.target_dec_deg is not None
        return _cards(
            ("TELESCOP", self.telescope, "telescope"),
            ("MOUNT", self.mount, "mount device"),
            ("FOCALLEN", self.focal_length_mm, "[mm] focal length"),
            ("OBJCTRA", sexagesimal(self.target_ra_deg, hours=True) if commanded else None,
             "[hms] commanded RA (ICRS)"),
            ("OBJCTDEC", sexagesimal(self.target_dec_deg, hours=False) if commanded else None,
             "[dms] commanded Dec (ICRS)"),
            ("RA", self.ra_deg, "[deg] RA the mount reports (ICRS)"),
            ("DEC", self.dec_deg, "[deg] Dec the mount reports (ICRS)"),
            ("EQUINOX", 2000.0 if commanded or self.ra_deg is not None else None,
             "[yr] equinox of the coordinates"),
            ("HA", self.hour_angle_h, "[h] hour angle (west +)"),
            ("OBJCTALT", self.altitude_deg, "[deg] altitude of the pointing"),
            ("OBJCTAZ", self.azimuth_deg, "[deg] azimuth of the pointing (N=0, E=90)"),
            ("AIRMASS", self.airmass, "airmass at the start"),
            ("PIERSIDE", self.pier_side, "side of the pier the telescope is on"),
        )


@dataclass(frozen=True)
class FilterInfo:
    """The filter in the beam."""

    name: str

    def __post_init__(self) -> None:
        _text(self, "name")

    def cards(self) -> list[Card]:
        return _cards(("FILTER", self.name, "filter"))


@dataclass(frozen=True, kw_only=True)
class FocuserInfo:
    """Focuser position (steps) and temperature."""

    position: int | None = None
    temperature_c: float | None = None

    def __post_init__(self) -> None:
        _integer(self, "position")
        _number(self, "temperature_c", "deg_C", low=-273.15, high=150.0)

    def cards(self) -> list[Card]:
        return _cards(
            ("FOCPOS", self.position, "[step] focuser position"),
            ("FOCTEMP", self.temperature_c, "[degC] focuser temperature"),
        )


@dataclass(frozen=True, kw_only=True)
class SpectrographInfo:
    """The spectrograph in the beam: its grating and linear stage, and (``has_filter``:
    the camera has no filter wheel of its own) its filter as ``FILTER``."""

    name: str
    grating: str | None = None  # None while the grating wheel turns
    stage_position_mm: float
    has_filter: bool = False
    filter_name: str | None = None  # None while the filter wheel turns

    def __post_init__(self) -> None:
        for name in ("name", "grating", "filter_name"):
            _text(self, name)
        _number(self, "stage_position_mm", "mm")

    def cards(self) -> list[Card]:
        return _cards(
            ("SPECTRO", self.name, "spectrograph"),
            ("GRATING", self.grating or "", "grating / disperser"),
            ("LINSPOS", float(self.stage_position_mm), "[mm] linear stage position"),
            ("FILTER", (self.filter_name or "") if self.has_filter else None,
             "filter (spectrograph)"),
        )


@dataclass(frozen=True, kw_only=True)
class ObservationInfo:
    """What the exposure is for: target, field, identifiers, people."""

    object_name: str | None = None
    field: str | None = None
    sequence_id: str | None = None
    image_id: str | None = None
    observer: str | None = None
    program: str | None = None

    def __post_init__(self) -> None:
        for item in fields(self):
            _text(self, item.name)

    def cards(self) -> list[Card]:
        return _cards(
            ("OBJECT", self.object_name, "target name"),
            ("FIELD", self.field, "field name"),
            ("SEQID", self.sequence_id, "observation sequence id"),
            ("IMAGEID", self.image_id, "image id"),
            ("OBSERVER", self.observer, "observer"),
            ("PROGRAM", self.program, "observing program"),
        )


@dataclass(frozen=True, kw_only=True)
class SequenceInfo:
    """Where a frame sits in an instrument sequence: ids, the why, snaps, charge shifts.

    ``EXPID``, ``GROUPID``, ``REASON``, ``PROGRAM``, ``NOTE`` and ``TESTTYPE`` are
    always written (an empty string when not given), so every frame has the same
    keywords.
    """

    exposure_id: int
    group_id: str
    day_obs: int
    sequence_number: int
    reason: str | None = None
    program: str | None = None
    note: str | None = None
    test_type: str | None = None
    visit: int = 1
    snap: int = 1
    n_snaps: int = 1
    n_shift: int | None = None
    row_shift: int | None = None

    def __post_init__(self) -> None:
        for name in ("exposure_id", "day_obs", "sequence_number", "visit", "snap", "n_snaps"):
            _integer(self, name, low=0 if name == "exposure_id" else 1)
        for name in ("n_shift", "row_shift"):
            _integer(self, name, low=0)
        for name in ("group_id", "reason", "program", "note", "test_type"):
            _text(self, name)

    def cards(self) -> list[Card]:
        return _cards(
            ("EXPID", self.exposure_id, "exposure id (observing day, sequence number)"),
            ("DAYOBS", str(self.day_obs), "observing day (local date of the evening)"),
            ("SEQNUM", self.sequence_number, "sequence number within the observing day"),
            ("GROUPID", self.group_id, "id shared by the frames of one sequence"),
            ("REASON", self.reason or "", "why the data were taken"),
            ("PROGRAM", self.program or "", "observing program"),
            ("NOTE", self.note or "", "note"),
            ("TESTTYPE", self.test_type or "", "test type"),
            ("VISIT", self.visit, "visit number within the sequence"),
            ("SNAP", self.snap, "snap number within the visit"),
            ("NSNAPS", self.n_snaps, "snaps per visit"),
            ("NSHIFT", self.n_shift, "charge-shift segments in this frame"),
            ("ROWSHIFT", self.row_shift, "[pixel] rows shifted between segments"),
        )


@dataclass(frozen=True, kw_only=True)
class WeatherInfo:
    """The weather station's readings at the start of the exposure (None: no sensor)."""

    temperature_c: float | None = None
    humidity_pct: float | None = None
    pressure_hpa: float | None = None
    dew_point_c: float | None = None
    wind_speed_m_s: float | None = None
    wind_gust_m_s: float | None = None
    wind_direction_deg: float | None = None
    cloud_cover_pct: float | None = None
    sky_temperature_c: float | None = None
    sky_quality_mag_arcsec2: float | None = None

    def __post_init__(self) -> None:
        for name in ("temperature_c", "dew_point_c", "sky_temperature_c"):
            _number(self, name, "deg_C", low=-273.15, high=150.0)
        for name in ("humidity_pct", "cloud_cover_pct"):
            _number(self, name, "", low=0.0, high=100.0)
        _number(self, "pressure_hpa", "hPa", low=0.0)
        _number(self, "wind_speed_m_s", "m / s", low=0.0)
        _number(self, "wind_gust_m_s", "m / s", low=0.0)
        _number(self, "wind_direction_deg", "deg", low=0.0, high=360.0)
        _number(self, "sky_quality_mag_arcsec2", "")

    def cards(self) -> list[Card]:
        return _cards(
            ("AMBTEMP", self.temperature_c, "[degC] ambient temperature at the start"),
            ("HUMIDITY", self.humidity_pct, "[%] relative humidity at the start"),
            ("PRESSURE", self.pressure_hpa, "[hPa] air pressure at the start"),
            ("DEWPOINT", self.dew_point_c, "[degC] dew point at the start"),
            ("WINDSPD", self.wind_speed_m_s, "[m/s] wind speed at the start"),
            ("WINDGUST", self.wind_gust_m_s, "[m/s] wind gust at the start"),
            ("WINDDIR", self.wind_direction_deg, "[deg] wind direction (N=0, E=90)"),
            ("CLOUDCVR", self.cloud_cover_pct, "[%] cloud cover at the start"),
            ("SKYTEMP", self.sky_temperature_c, "[degC] sky temperature at the start"),
            ("SKYQUAL", self.sky_quality_mag_arcsec2, "[mag/arcsec2] sky quality (SQM)"),
        )


@dataclass(frozen=True, kw_only=True)
class SkyInfo:
    """Sidereal time and the Moon at the start of the exposure."""

    lst_h: float | None = None
    moon_altitude_deg: float | None = None
    moon_illumination: float | None = None
    moon_separation_deg: float | None = None

    def __post_init__(self) -> None:
        _number(self, "lst_h", "hourangle", low=0.0, high=24.0)
        _number(self, "moon_altitude_deg", "deg", low=-90.0, high=90.0)
        _number(self, "moon_illumination", "", low=0.0, high=1.0)
        _number(self, "moon_separation_deg", "deg", low=0.0, high=180.0)

    def cards(self) -> list[Card]:
        lst = None if self.lst_h is None else sexagesimal(self.lst_h * 15.0, hours=True)
        return _cards(
            ("LST", lst, "[hms] local apparent sidereal time at the start"),
            ("MOONALT", _rounded(self.moon_altitude_deg, 3), "[deg] Moon altitude"),
            ("MOONILLU", _rounded(self.moon_illumination, 4),
             "Moon illuminated fraction (0..1)"),
            ("MOONSEP", _rounded(self.moon_separation_deg, 3),
             "[deg] Moon separation from the pointing"),
        )


@dataclass(frozen=True)
class SoftwareInfo:
    """The software that wrote the file (``SWCREATE``)."""

    name: str
    version: str

    def __post_init__(self) -> None:
        _text(self, "name")
        _text(self, "version")

    def cards(self) -> list[Card]:
        return _cards(("SWCREATE", f"{self.name} {self.version}",
                       "software that wrote this file"))


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


WCS_SOURCES = frozenset({"mount", "solve"})
WCS_SOURCE_CARD = "WCSSRC"


@dataclass(frozen=True)
class WcsInfo:
    """A world coordinate system and where it came from (``WCSSRC``): ``mount`` (the
    pointing the mount reports) or ``solve`` (a plate solve)."""

    wcs: WCS
    source: str = "mount"

    def __post_init__(self) -> None:
        if self.source not in WCS_SOURCES:
            raise InvalidValueError(f"WcsInfo.source must be one of "
                                    f"{', '.join(sorted(WCS_SOURCES))}, got {self.source!r}")

    def cards(self) -> list[Card]:
        return [*(Card(keyword, value, comment or "world coordinate system")
                  for keyword, value, comment in wcs_cards(self.wcs)),
                Card(WCS_SOURCE_CARD, self.source, "WCS from: mount (pointing) or solve")]


def pointing_wcs(mount: MountInfo, camera: CameraInfo, *, width: int, height: int,
                 rotation_deg: float = 0.0) -> WcsInfo:
    """The TAN WCS the pointing implies (see :func:`nocturna.images.wcs.tan_wcs`).

    Centre: the mount's reported ``ra_deg``/``dec_deg`` (else the commanded target);
    scale from the binned pixel size and the focal length; ``width``×``height`` is the
    image size in (binned) pixels; ``rotation_deg`` the position angle of +y.
    """
    ra, dec = mount.ra_deg, mount.dec_deg
    if ra is None or dec is None:
        ra, dec = mount.target_ra_deg, mount.target_dec_deg
    if ra is None or dec is None:
        raise InvalidValueError("MountInfo.ra_deg/dec_deg (or target_*) are needed for a WCS")
    if mount.focal_length_mm is None:
        raise InvalidValueError("MountInfo.focal_length_mm is needed for a WCS")
    binned = camera.binned_pixel_um()
    if binned is None:
        raise InvalidValueError("CameraInfo.pixel_size_x_um is needed for a WCS")
    for name, value in (("width", width), ("height", height)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidValueError(f"pointing_wcs {name} must be an integer >= 1, got {value!r}")
    if not math.isfinite(rotation_deg):
        raise InvalidValueError(f"pointing_wcs rotation_deg must be finite, got {rotation_deg!r}")
    if not math.isclose(binned[0], binned[1]):
        raise InvalidValueError("pointing_wcs needs square (binned) pixels")
    scale = plate_scale_arcsec(binned[0], mount.focal_length_mm)
    return WcsInfo(tan_wcs(ra, dec, scale_arcsec=scale, width=width, height=height,
                           rotation_deg=rotation_deg))


# --- the builder ---------------------------------------------------------------------


def _check_extra(key: str, entry: Any) -> Card:
    keyword = key.upper() if isinstance(key, str) else key
    if not isinstance(keyword, str) or not _KEYWORD.match(keyword):
        raise InvalidValueError(
            f"extra card keyword {key!r} must be 1-8 characters of A-Z, 0-9, '-' or '_'")
    if not (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[1], str)
            and entry[1].strip()):
        raise InvalidValueError(f"extra card {keyword} must be (value, comment), got {entry!r}")
    value, comment = entry
    if not isinstance(value, str | bool) and isinstance(value, Integral):
        value = int(value)
    elif not isinstance(value, str | bool) and isinstance(value, Real):
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidValueError(f"extra card {keyword} value must be finite, got {value!r}")
    if not isinstance(value, str | int | float | bool):
        raise InvalidValueError(
            f"extra card {keyword} value must be a string, number or bool, got {value!r}")
    return Card(keyword, value, comment)


def header_cards(
    exposure: ExposureInfo,
    *sections: CardSource | None,
    extra: Mapping[str, tuple[CardValue, str]] | None = None,
    defaults: Mapping[str, tuple[CardValue, str]] | None = None,
) -> HeaderCards:
    """The cards of a FITS header: ``DATE`` (now, on the nocturna clock), ``exposure``,
    each section (``None`` is skipped) in order, then ``extra``
    (``{"KEYWORD": (value, comment)}``), then those ``defaults`` whose keyword no
    section nor ``extra`` wrote.

    A keyword given twice keeps its first position and takes the last value.
    """
    header = HeaderCards()
    header.set("DATE", _iso_ms(get_clock().now()), "[UTC] time this header was made")
    extra_cards = [_check_extra(key, entry) for key, entry in (extra or {}).items()]
    default_cards = [_check_extra(key, entry) for key, entry in (defaults or {}).items()]
    for source in (exposure, *sections):
        if source is None:
            continue
        cards = getattr(source, "cards", None)  # a CardSource (isinstance() is slow)
        if not callable(cards):
            raise InvalidValueError(f"header section {source!r} has no cards() method")
        for card in cards():
            header.set(card.keyword, card.value, card.comment)
    for card in extra_cards:
        header.set(card.keyword, card.value, card.comment)
    for card in default_cards:
        if card.keyword not in header:
            header.set(card.keyword, card.value, card.comment)
    return header


def build_header(
    exposure: ExposureInfo,
    *sections: CardSource | None,
    extra: Mapping[str, tuple[CardValue, str]] | None = None,
    defaults: Mapping[str, tuple[CardValue, str]] | None = None,
) -> fits.Header:
    """:func:`header_cards` as an astropy Header."""
    return header_cards(exposure, *sections, extra=extra, defaults=defaults).to_fits()


def header_values(header: fits.Header | HeaderCards) -> dict[str, CardValue]:
    """Keyword → value of a header, for a database row (no COMMENT/HISTORY/blank cards)."""
    if isinstance(header, HeaderCards):
        return header.values()
    skip = {"", "COMMENT", "HISTORY"}
    return {card.keyword: card.value for card in header.cards
            if card.keyword not in skip and isinstance(card.value, str | int | float | bool)}
