"""INDI telescope client (an INDI device with the telescope interface).

Coordinates: nocturna's mounts take and report **J2000** right ascension and declination
(``equatorial_system`` J2000, as the simulated mount; the observatory slews to catalogue
positions as they are). INDI's ``EQUATORIAL_EOD_COORD`` is of date ("JNow"), so this
driver converts both ways with the IAU 2006/2000A precession-nutation matrix
(:mod:`nocturna.devices.sim.equatorial`, computed by ERFA once per UTC day; aberration
is ignored, under 20″). Altitude/azimuth come from ``HORIZONTAL_COORD`` where offered,
otherwise from the coordinates of date, the sidereal time and the site.

Properties used:

* ``EQUATORIAL_EOD_COORD`` (``RA`` hours, ``DEC`` degrees, of date): where the mount
  points; Busy while it slews or parks. A slew or sync sets it after ``ON_COORD_SET``
  (``TRACK`` for a slew that ends tracking, ``SYNC`` for a sync, then ``TRACK`` again so
  coordinates sent by other clients still slew).
* ``HORIZONTAL_COORD`` (``ALT``, ``AZ``) where offered: alt/az reading and slews.
* ``TELESCOPE_ABORT_MOTION`` (``ABORT``).
* ``TELESCOPE_PARK`` (``PARK``/``UNPARK``; at park = ``PARK`` on and not Busy),
  ``TELESCOPE_PARK_OPTION`` (``PARK_CURRENT``) for set_park. While parked, slews, syncs,
  pulses and tracking are refused with :class:`InvalidWhileParkedError` before anything
  is sent (INDI drivers refuse them too, some only with a log message).
* ``TELESCOPE_TRACK_STATE`` (``TRACK_ON``/``TRACK_OFF``), ``TELESCOPE_TRACK_MODE``
  (``TRACK_SIDEREAL``/``TRACK_SOLAR``/``TRACK_LUNAR``/``TRACK_KING``; ``TRACK_CUSTOM`` is
  reported as sidereal).
* ``TELESCOPE_PIER_SIDE`` (``PIER_EAST``/``PIER_WEST``: the same meaning as ASCOM's).
* ``TELESCOPE_TIMED_GUIDE_NS`` (``TIMED_GUIDE_N``/``_S``) and ``TELESCOPE_TIMED_GUIDE_WE``
  (``TIMED_GUIDE_W``/``_E``), milliseconds; Busy while pulsing. ``GUIDE_RATE``
  (``GUIDE_RATE_WE``/``_NS``, or ``RA_GUIDE_RATE``/``DE_GUIDE_RATE`` as INDI's iOptron
  drivers name them; fractions of sidereal) for the guide rates.
* ``GEOGRAPHIC_COORD`` (``LAT``, ``LONG`` east 0-360, ``ELEV``): the site, and set_site.
* ``TELESCOPE_INFO`` (``TELESCOPE_APERTURE``, ``TELESCOPE_FOCAL_LENGTH``, millimetres).
* ``MOUNT_TYPE`` (``ALTAZ``/``EQ_FORK``/``EQ_GEM``) where offered, for the alignment mode.

Not implemented (:class:`NotImplementedByDeviceError`): axis moves (INDI's
``TELESCOPE_MOTION_*`` move at named rates, not at a rate in degrees per second),
RA/Dec rate offsets, find_home, setting the pier side, alt/az syncs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math

from nocturna.core.errors import (
    InvalidValueError,
    InvalidWhileParkedError,
)
from nocturna.devices.indi.device import IndiDevice
from nocturna.devices.indi.properties import Vector
from nocturna.devices.mount import Mount, MountInfo, MountStatus
from nocturna.devices.sim.equatorial import (
    SIDEREAL_DEG_PER_S,
    apparent_to_j2000,
    hadec_to_altaz,
    j2000_to_apparent,
    local_sidereal_deg,
    prepare_day,
)
from nocturna.devices.types import (
    AlignmentMode,
    DriveRate,
    EquatorialSystem,
    GuideDirection,
    PierSide,
)

EQUATORIAL = "EQUATORIAL_EOD_COORD"
HORIZONTAL = "HORIZONTAL_COORD"
PARK = "TELESCOPE_PARK"
TRACK_STATE = "TELESCOPE_TRACK_STATE"
TRACK_MODE = "TELESCOPE_TRACK_MODE"
GUIDE_NS, GUIDE_WE = "TELESCOPE_TIMED_GUIDE_NS", "TELESCOPE_TIMED_GUIDE_WE"
SITE = "GEOGRAPHIC_COORD"
MOTION_S = 600.0
"""The longest a park may take (real seconds)."""
ARRIVED_DEG = 1.0 / 60.0
"""Coordinates this close to those sent show that a goto or sync was done."""

TRACK_MODES = {"TRACK_SIDEREAL": DriveRate.SIDEREAL, "TRACK_SOLAR": DriveRate.SOLAR,
               "TRACK_LUNAR": DriveRate.LUNAR, "TRACK_KING": DriveRate.KING}
MOUNT_TYPES = {"ALTAZ": AlignmentMode.ALT_AZ, "EQ_FORK": AlignmentMode.POLAR,
               "EQ_GEM": AlignmentMode.GERMAN_POLAR}
GUIDES = {GuideDirection.NORTH: (GUIDE_NS, "TIMED_GUIDE_N", "TIMED_GUIDE_S"),
          GuideDirection.SOUTH: (GUIDE_NS, "TIMED_GUIDE_S", "TIMED_GUIDE_N"),
          GuideDirection.EAST: (GUIDE_WE, "TIMED_GUIDE_E", "TIMED_GUIDE_W"),
          GuideDirection.WEST: (GUIDE_WE, "TIMED_GUIDE_W", "TIMED_GUIDE_E")}


def _check_radec(ra_hours: float, dec_deg: float) -> None:
    if isinstance(ra_hours, bool) or not isinstance(ra_hours, int | float) \
            or not 0.0 <= ra_hours < 24.0:
        raise InvalidValueError(f"right ascension {ra_hours!r} h is not in [0, 24)")
    if isinstance(dec_deg, bool) or not isinstance(dec_deg, int | float) \
            or not -90.0 <= dec_deg <= 90.0:
        raise InvalidValueError(f"declination {dec_deg!r}° is not in [-90, 90]")


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


class IndiMount(IndiDevice, Mount):
    """A telescope mount on an INDI server (J2000 in the interface; see the module
    docstring)."""

    required = (EQUATORIAL,)
    _target: tuple[float, float] | None = None
    """The last J2000 target (slew, sync or set_target)."""

    async def _connect_device(self) -> None:
        await super()._connect_device()
        # the first use of astropy/ERFA costs seconds: paid here, off the event loop
        await asyncio.to_thread(prepare_day, self.clock.timestamp(), self._longitude())

    # ---------------------------------------------------------------- reading
    def _longitude(self) -> float:
        """Site longitude east, degrees in [-180, 180) (0 before the device says)."""
        east = self.value(SITE, "LONG", 0.0) if self._connection is not None else 0.0
        return (float(east) + 180.0) % 360.0 - 180.0

    def _on(self, name: str, element: str) -> bool:
        return bool(self.value(name, element, False))

    def _parked(self) -> bool:
        if not self.has(PARK):
            return False
        vector = self.vector(PARK)
        return vector["PARK"] is True and vector.state != "Busy"

    def _refuse_if_parked(self, what: str) -> None:
        if self._parked():
            raise InvalidWhileParkedError(f"{self.kind} {self.name!r} is parked: cannot {what} "
                                          "(unpark it first)")

    async def _read_info(self) -> MountInfo:
        aperture = self.value("TELESCOPE_INFO", "TELESCOPE_APERTURE", None)
        focal = self.value("TELESCOPE_INFO", "TELESCOPE_FOCAL_LENGTH", None)
        diameter = aperture / 1000.0 if aperture else math.nan
        on = self.vector("MOUNT_TYPE").on() if self.has("MOUNT_TYPE") else []
        alignment = MOUNT_TYPES.get(on[0] if on else "", AlignmentMode.GERMAN_POLAR
                                    if self.has("TELESCOPE_PIER_SIDE") else AlignmentMode.POLAR)
        modes = self.vector(TRACK_MODE).elements if self.has(TRACK_MODE) else {}
        rates = [TRACK_MODES[m] for m in modes if m in TRACK_MODES] or [DriveRate.SIDEREAL]
        coord_set = self.vector("ON_COORD_SET").elements if self.has("ON_COORD_SET") else {}
        writable = self.vector(EQUATORIAL).perm != "ro"
        horizontal = self.has(HORIZONTAL) and self.vector(HORIZONTAL).perm != "ro"
        tracking = self.has(TRACK_STATE) and self.vector(TRACK_STATE).perm != "ro"
        return MountInfo(
            alignment_mode=alignment,
            equatorial_system=EquatorialSystem.J2000,
            aperture_diameter_m=diameter,
            aperture_area_m2=math.pi * (diameter / 2) ** 2,
            focal_length_m=focal / 1000.0 if focal else math.nan,
            **self._site(),
            min_altitude_deg=-90.0, max_altitude_deg=90.0,
            tracking_rates=rates,
            axis_rates=[[], [], []],
            can_find_home=False,
            can_park=self.has(PARK), can_unpark=self.has(PARK),
            can_set_park=self.has("TELESCOPE_PARK_OPTION"),
            can_pulse_guide=self.has(GUIDE_NS) and self.has(GUIDE_WE),
            can_set_tracking=tracking,
            can_set_guide_rates=self.has("GUIDE_RATE"),
            can_set_pier_side=False, can_set_ra_rate=False, can_set_dec_rate=False,
            can_slew=False, can_slew_async=writable and "TRACK" in coord_set,
            can_slew_alt_az=False, can_slew_alt_az_async=horizontal,
            can_sync=writable and "SYNC" in coord_set, can_sync_alt_az=False,
            can_move_axis=[False, False, False],
        )

    def _site(self) -> dict[str, float]:
        return {"site_latitude_deg": _nan(self.value(SITE, "LAT", None)),
                "site_longitude_deg": self._longitude() if self.has(SITE) else math.nan,
                "site_elevation_m": _nan(self.value(SITE, "ELEV", None))}

    async def info(self) -> MountInfo:
        """Capabilities and optics read at connect, with the site as the device has it now."""
        return dataclasses.replace(self._info, **self._site())

    async def state(self) -> MountStatus:
        t = self.clock.timestamp()
        position = self.vector(EQUATORIAL)
        ra_app, dec_app = position["RA"] * 15.0, position["DEC"]
        ra, dec = apparent_to_j2000(ra_app, dec_app, t)
        lst = local_sidereal_deg(t, self._longitude())
        if self.has(HORIZONTAL):
            alt, az = self.value(HORIZONTAL, "ALT"), self.value(HORIZONTAL, "AZ")
        elif self.has(SITE):
            alt, az = hadec_to_altaz(lst - ra_app, dec_app, self.value(SITE, "LAT"))
        else:
            alt = az = math.nan
        slewing = position.state == "Busy" or (
            self.has(PARK) and self.vector(PARK).state == "Busy")
        if self.has(TRACK_STATE):
            tracking = self._on(TRACK_STATE, "TRACK_ON")
        else:  # INDI's convention: the coordinates are Ok while tracking, Idle when not
            tracking = position.state == "Ok"
        on = self.vector(TRACK_MODE).on() if self.has(TRACK_MODE) else []
        side = PierSide.UNKNOWN
        if self._on("TELESCOPE_PIER_SIDE", "PIER_EAST"):
            side = PierSide.EAST
        elif self._on("TELESCOPE_PIER_SIDE", "PIER_WEST"):
            side = PierSide.WEST
        target = self._target
        guide = self._guide_rate_elements()
        return MountStatus(
            ra_hours=ra / 15.0, dec_deg=dec, alt_deg=float(alt), az_deg=float(az),
            sidereal_time_hours=lst / 15.0,
            side_of_pier=side, slewing=slewing, tracking=tracking,
            tracking_rate=TRACK_MODES.get(on[0] if on else "", DriveRate.SIDEREAL),
            ra_rate=0.0, dec_rate_arcsec_s=0.0,
            guide_rate_ra_deg_s=_nan(self.value("GUIDE_RATE", guide[0], None))
            * SIDEREAL_DEG_PER_S,
            guide_rate_dec_deg_s=_nan(self.value("GUIDE_RATE", guide[1], None))
            * SIDEREAL_DEG_PER_S,
            at_park=self._parked(), at_home=False,
            is_pulse_guiding=any(self.has(n) and self.vector(n).state == "Busy"
                                 for n in (GUIDE_NS, GUIDE_WE)),
            target_ra_hours=None if target is None else target[0],
            target_dec_deg=None if target is None else target[1],
            slew_settle_time_s=0.0, does_refraction=False,
            utc_date=self.clock.now(),
        )

    # ---------------------------------------------------------------- slews
    async def _goto(self, mode: str, ra_hours: float, dec_deg: float) -> None:
        """Send J2000 (ra, dec) as of date with ``ON_COORD_SET`` = ``mode``; return once
        the driver has started the slew (Busy), or shows the coordinates."""
        ra_app, dec_app = j2000_to_apparent(ra_hours * 15.0, dec_deg, self.clock.timestamp())
        coord_set = self.vector("ON_COORD_SET")
        if coord_set.on() != [mode]:
            await self.send("ON_COORD_SET", {m: m == mode for m in coord_set.elements},
                            wait=True)

        def there(vector: Vector) -> bool:  # a driver may finish a tiny slew within a poll
            d_ra = (vector["RA"] * 15.0 - ra_app + 180.0) % 360.0 - 180.0
            return math.hypot(d_ra * math.cos(math.radians(dec_app)),
                              vector["DEC"] - dec_app) < ARRIVED_DEG

        await self.send(EQUATORIAL, {"RA": ra_app / 15.0, "DEC": dec_app}, wait=True,
                        busy_ok=mode == "TRACK", done=there)

    async def slew_to_coordinates(self, ra_hours: float, dec_deg: float) -> None:
        """Start a slew to J2000 (ra, dec); the mount tracks when it arrives."""
        _check_radec(ra_hours, dec_deg)
        self._refuse_if_parked("slew")
        self._target = (float(ra_hours), float(dec_deg))
        await self._goto("TRACK", ra_hours, dec_deg)

    async def set_target(self, ra_hours: float, dec_deg: float) -> None:
        _check_radec(ra_hours, dec_deg)
        self._target = (float(ra_hours), float(dec_deg))

    async def slew_to_target(self) -> None:
        if self._target is None:
            raise InvalidValueError(f"{self.kind} {self.name!r}: no target has been set")
        await self.slew_to_coordinates(*self._target)

    async def slew_to_alt_az(self, alt_deg: float, az_deg: float) -> None:
        if not self.has(HORIZONTAL):
            raise self.not_implemented("slew_to_alt_az (no HORIZONTAL_COORD)")
        if not -90.0 <= alt_deg <= 90.0 or not 0.0 <= az_deg < 360.0:
            raise InvalidValueError(f"alt/az ({alt_deg!r}°, {az_deg!r}°) is not in "
                                    "[-90, 90] × [0, 360)")
        self._refuse_if_parked("slew")
        await self.send(HORIZONTAL, {"ALT": float(alt_deg), "AZ": float(az_deg)}, wait=True,
                        busy_ok=True)

    async def sync_to_coordinates(self, ra_hours: float, dec_deg: float) -> None:
        """Declare that the mount points at J2000 (ra, dec) now."""
        _check_radec(ra_hours, dec_deg)
        self._refuse_if_parked("sync")
        if "SYNC" not in self.vector("ON_COORD_SET").elements:
            raise self.not_implemented("sync_to_coordinates")
        try:
            await self._goto("SYNC", ra_hours, dec_deg)
        finally:
            # leave coordinates sent by other clients (a planetarium) slewing, not syncing
            await self.send("ON_COORD_SET", {m: m == "TRACK"
                                             for m in self.vector("ON_COORD_SET").elements},
                            wait=True)
        self._target = (float(ra_hours), float(dec_deg))

    async def sync_to_target(self) -> None:
        if self._target is None:
            raise InvalidValueError(f"{self.kind} {self.name!r}: no target has been set")
        await self.sync_to_coordinates(*self._target)

    async def abort_slew(self) -> None:
        await self.send("TELESCOPE_ABORT_MOTION", {"ABORT": True}, wait=True)

    # ------------------------------------------------------------- tracking
    async def set_tracking(self, on: bool) -> None:
        if on:
            self._refuse_if_parked("start tracking")
        before = self.vector(TRACK_STATE).updates
        await self.send(TRACK_STATE, {"TRACK_ON": bool(on), "TRACK_OFF": not on})
        # the switch itself is the answer (drivers show tracking as Busy or Ok)
        await self.connection.wait_for(
            lambda: self._on(TRACK_STATE, "TRACK_ON") is bool(on)
            or self.vector(TRACK_STATE).state == "Alert", self.timeout_s,
            f"{self.indi_device!r} tracking {'on' if on else 'off'}")
        await self.wait_answered(TRACK_STATE, before, busy_ok=True)  # raises on Alert

    async def set_tracking_rate(self, rate: DriveRate) -> None:
        try:
            rate = DriveRate(rate)
        except ValueError:
            raise InvalidValueError(f"{rate!r} is not a tracking rate") from None
        modes = self.vector(TRACK_MODE).elements
        name = next((m for m, r in TRACK_MODES.items() if r == rate and m in modes), None)
        if name is None:
            raise InvalidValueError(f"{self.kind} {self.name!r} cannot track at the "
                                    f"{rate.name.lower()} rate (it offers "
                                    f"{', '.join(modes)})")
        await self.send(TRACK_MODE, {m: m == name for m in modes}, wait=True, busy_ok=True)

    def _guide_rate_elements(self) -> tuple[str, str]:
        """The (RA, Dec) elements of ``GUIDE_RATE``: the standard names, or iOptron's."""
        if self.has("GUIDE_RATE") and "RA_GUIDE_RATE" in self.vector("GUIDE_RATE").elements:
            return "RA_GUIDE_RATE", "DE_GUIDE_RATE"
        return "GUIDE_RATE_WE", "GUIDE_RATE_NS"

    async def set_guide_rates(self, ra_deg_s: float, dec_deg_s: float) -> None:
        vector = self.vector("GUIDE_RATE")
        ra_element, dec_element = self._guide_rate_elements()
        values = {ra_element: ra_deg_s / SIDEREAL_DEG_PER_S,
                  dec_element: dec_deg_s / SIDEREAL_DEG_PER_S}
        for element, fraction in values.items():
            limits = vector.elements[element]
            low, high = limits.minimum or 0.0, limits.maximum or math.inf
            if not low < fraction <= high:
                raise InvalidValueError(
                    f"{self.kind} {self.name!r}: guide rate {fraction * SIDEREAL_DEG_PER_S:g} "
                    f"deg/s is not in ({low * SIDEREAL_DEG_PER_S:g}, "
                    f"{high * SIDEREAL_DEG_PER_S:g}]")
        await self.send("GUIDE_RATE", values, wait=True)

    # ------------------------------------------------------------ park
    async def park(self) -> None:
        """Park, and return once the device reports the mount parked."""
        if self._parked():
            return
        await self.send(PARK, {"PARK": True, "UNPARK": False}, wait=True, timeout_s=MOTION_S,
                        done=lambda v: v["PARK"] is True)
        # the driver may report the coordinates still Busy just after the park switch
        await self.connection.wait_for(
            lambda: self._parked() and self.vector(EQUATORIAL).state != "Busy",
            self.timeout_s, f"{self.indi_device!r} parked and still")

    async def unpark(self) -> None:
        if self.vector(PARK)["UNPARK"] is True:
            return
        await self.send(PARK, {"PARK": False, "UNPARK": True}, wait=True,
                        done=lambda v: v["UNPARK"] is True)

    async def set_park(self) -> None:
        """Make where the mount points now its park position."""
        await self.send("TELESCOPE_PARK_OPTION", {"PARK_CURRENT": True}, wait=True)

    # -------------------------------------------------------------- the rest
    async def pulse_guide(self, direction: GuideDirection, duration_ms: int) -> None:
        """Start a guide pulse (returns at once; ``is_pulse_guiding`` while it lasts)."""
        try:
            direction = GuideDirection(direction)
        except ValueError:
            raise InvalidValueError(f"{direction!r} is not a guide direction") from None
        name, element, opposite = GUIDES[direction]
        limit = self.vector(name).elements[element].maximum or math.inf
        if isinstance(duration_ms, bool) or not isinstance(duration_ms, int | float) \
                or not 0 <= duration_ms <= limit:
            raise InvalidValueError(f"pulse duration {duration_ms!r} ms is not in "
                                    f"0..{limit:g}")
        self._refuse_if_parked("pulse guide")
        await self.send(name, {element: float(duration_ms), opposite: 0.0}, wait=True,
                        busy_ok=True)

    async def set_site(self, latitude_deg: float, longitude_deg: float,
                       elevation_m: float) -> None:
        if not -90.0 <= latitude_deg <= 90.0 or not -180.0 <= longitude_deg <= 360.0:
            raise InvalidValueError(f"site ({latitude_deg!r}°, {longitude_deg!r}°) is not a "
                                    "latitude in [-90, 90] and a longitude in [-180, 360]")
        await self.send(SITE, {"LAT": float(latitude_deg),
                               "LONG": float(longitude_deg) % 360.0,
                               "ELEV": float(elevation_m)}, wait=True)
        await asyncio.to_thread(prepare_day, self.clock.timestamp(), self._longitude())
