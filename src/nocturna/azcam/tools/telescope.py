"""azcam's telescope tool ("telescope") over a nocturna mount and telescope focuser.

``get_coordinates`` reports where the mount points; ``offset`` moves it by arcseconds
on the sky (east, north); ``move`` slews to coordinates (checked first: a valid RA and
Dec, above the mount's altitude limit is the mount's own check); focus moves the
telescope focuser. Every call that needs the mount (or the focuser) says so clearly
when none is configured.

Header cards follow nocturna's: RA and DEC in degrees (as the mount section of every
nocturna header), with the sexagesimal forms in TELRA / TELDEC, HA in hours, AIRMASS,
EQUINOX and TELFOCUS.
"""

from __future__ import annotations

import math
from typing import Any

from nocturna.azcam.remote import remote
from nocturna.azcam.tools.instrument import move_focuser
from nocturna.core.errors import InvalidOperationError, InvalidValueError
from nocturna.core.skyoffsets import offset_position
from nocturna.devices.focuser import Focuser
from nocturna.devices.mount import Mount, MountStatus
from nocturna.devices.types import EquatorialSystem
from nocturna.images.header import sexagesimal

MIN_AIRMASS_ALTITUDE_DEG = 5.0  # below this the airmass is not reported (as frame headers)


def _number(text: str, what: str, unit: str) -> float:
    from astropy.coordinates import Angle

    cleaned = text.strip()
    try:
        return float(cleaned)
    except ValueError:
        pass
    try:
        angle = Angle(cleaned, unit=unit)
    except (ValueError, TypeError):
        raise InvalidValueError(f"{what} {text!r} is not sexagesimal (e.g. "
                                f"{'05:35:17.3' if unit == 'hourangle' else '-05:23:28'}) "
                                "nor a decimal number") from None
    return float(angle.hour if unit == "hourangle" else angle.degree)


def parse_ra_hours(ra: str | float) -> float:
    """RA in hours from ``"HH:MM:SS.s"`` or decimal hours; 0 ≤ RA < 24."""
    hours = float(ra) if isinstance(ra, int | float) and not isinstance(ra, bool) \
        else _number(str(ra), "ra", "hourangle")
    if not (math.isfinite(hours) and 0.0 <= hours < 24.0):
        raise InvalidValueError(f"ra {ra!r} is outside 0..24 h")
    return hours


def parse_dec_deg(dec: str | float) -> float:
    """Dec in degrees from ``"±DD:MM:SS"`` or decimal degrees; -90 ≤ Dec ≤ 90."""
    degrees = float(dec) if isinstance(dec, int | float) and not isinstance(dec, bool) \
        else _number(str(dec), "dec", "deg")
    if not (math.isfinite(degrees) and -90.0 <= degrees <= 90.0):
        raise InvalidValueError(f"dec {dec!r} is outside -90..90 deg")
    return degrees


def _colons(text: str) -> str:
    return text.replace(" ", ":")


def airmass(altitude_deg: float) -> float | None:
    """1 / sin(altitude), None near or below the horizon."""
    if altitude_deg <= MIN_AIRMASS_ALTITUDE_DEG:
        return None
    return 1.0 / math.sin(math.radians(altitude_deg))


def hour_angle_hours(status: MountStatus) -> float:
    """Local hour angle in -12..12 h (west positive)."""
    return (status.sidereal_time_hours - status.ra_hours + 12.0) % 24.0 - 12.0


class TelescopeTool:
    """The azcam "telescope" tool; see the module docstring."""

    name = "telescope"

    def __init__(self, mount: Mount | None, focuser: Focuser | None = None, *,
                 max_offset_arcsec: float = 3600.0) -> None:
        if not (math.isfinite(max_offset_arcsec) and max_offset_arcsec > 0):
            raise InvalidValueError(f"max_offset_arcsec must be > 0, got {max_offset_arcsec!r}")
        self.mount = mount
        self.focuser = focuser
        self.max_offset_arcsec = float(max_offset_arcsec)

    def _mount(self) -> Mount:
        if self.mount is None:
            raise InvalidOperationError("no telescope mount is configured")
        return self.mount

    def _focuser(self) -> Focuser:
        if self.focuser is None:
            raise InvalidOperationError("no telescope focuser is configured")
        return self.focuser

    @remote
    async def get_coordinates(self) -> dict[str, Any]:
        """Where the telescope points, and how: RA/Dec (sexagesimal and degrees), HA,
        altitude, azimuth, airmass, equinox, pier side, tracking, slewing, parked."""
        mount = self._mount()
        status = await mount.state()
        system = (await mount.info()).equatorial_system
        ra_deg = (status.ra_hours * 15.0) % 360.0
        ha = hour_angle_hours(status)
        return {
            "ra": _colons(sexagesimal(ra_deg, hours=True)),
            "dec": _colons(sexagesimal(status.dec_deg, hours=False)),
            "ra_deg": ra_deg,
            "dec_deg": status.dec_deg,
            "ha": ("-" if ha < 0 else "+") + _colons(sexagesimal(abs(ha) * 15.0, hours=True)),
            "ha_hours": ha,
            "alt": status.alt_deg,
            "az": status.az_deg % 360.0,
            "airmass": airmass(status.alt_deg),
            "epoch": _equinox(system),
            "pier_side": status.side_of_pier.name.lower(),
            "tracking": status.tracking,
            "slewing": status.slewing,
            "parked": status.at_park,
        }

    @remote
    async def offset(self, ra: float, dec: float) -> None:
        """Move the telescope by ``ra`` arcseconds east on the sky (already × cos Dec) and
        ``dec`` arcseconds north; waits for the move to end."""
        for what, value in (("ra", ra), ("dec", dec)):
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not math.isfinite(value) or abs(value) > self.max_offset_arcsec:
                raise InvalidValueError(f"{what} offset {value!r} arcsec is not a number within "
                                        f"±{self.max_offset_arcsec:g}")
        mount = self._mount()
        status = await mount.state()
        ra_deg, dec_deg = offset_position(status.ra_hours * 15.0, status.dec_deg,
                                          float(ra), float(dec))
        await mount.slew_and_wait((ra_deg / 15.0) % 24.0, max(-90.0, min(90.0, dec_deg)))

    @remote
    async def move(self, ra: str, dec: str) -> None:
        """Slew to ``ra`` (HH:MM:SS or decimal hours) and ``dec`` (±DD:MM:SS or decimal
        degrees) in the mount's equinox; waits for the slew to end."""
        ra_hours, dec_deg = parse_ra_hours(ra), parse_dec_deg(dec)
        await self._mount().slew_and_wait(ra_hours, dec_deg)

    @remote
    async def get_focus(self, focus_id: int = 0) -> int:
        """The telescope focuser position, steps."""
        _only_zero(focus_id)
        return int((await self._focuser().state()).position)

    @remote
    async def set_focus(self, focus_value: float, focus_id: int = 0,
                        focus_type: str = "absolute") -> None:
        """Move the telescope focuser to (``absolute``) or by (``step``) ``focus_value``."""
        _only_zero(focus_id)
        await move_focuser(self._focuser(), focus_value, focus_type)

    async def header_cards(self) -> dict[str, tuple[Any, str]]:
        """RA, DEC, TELRA, TELDEC, HA, AIRMASS, EQUINOX, TELFOCUS (what is known)."""
        cards: dict[str, tuple[Any, str]] = {}
        if self.mount is not None and self.mount.connected:
            c = await self.get_coordinates()
            cards["RA"] = (round(c["ra_deg"], 6), "[deg] telescope right ascension")
            cards["DEC"] = (round(c["dec_deg"], 6), "[deg] telescope declination")
            cards["TELRA"] = (c["ra"], "telescope right ascension (h:m:s)")
            cards["TELDEC"] = (c["dec"], "telescope declination (d:m:s)")
            cards["HA"] = (round(c["ha_hours"], 6), "[h] hour angle (west +)")
            if c["airmass"] is not None:
                cards["AIRMASS"] = (round(c["airmass"], 4), "airmass")
            if isinstance(c["epoch"], float):
                cards["EQUINOX"] = (c["epoch"], "equinox of the coordinates")
        if self.focuser is not None and self.focuser.connected:
            cards["TELFOCUS"] = ((await self.focuser.state()).position,
                                 "[step] telescope focus position")
        return cards


def _only_zero(focus_id: int) -> None:
    if focus_id != 0:
        raise InvalidValueError(f"focus_id {focus_id!r}: the telescope has one focuser, "
                                "focus_id 0")


def _equinox(system: EquatorialSystem) -> float | str:
    return {EquatorialSystem.J2000: 2000.0, EquatorialSystem.J2050: 2050.0,
            EquatorialSystem.B1950: 1950.0}.get(system, "apparent"
                                                if system == EquatorialSystem.TOPOCENTRIC
                                                else "unknown")
