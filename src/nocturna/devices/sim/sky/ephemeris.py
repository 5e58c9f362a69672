"""The Sun and the Moon for the sky model, tabulated a day at a time.

:func:`~nocturna.devices.sim.sky.background.sky_conditions` asks astropy for the Sun,
the Moon and the field at one instant, which costs tens of milliseconds: too much for
every frame of a simulated night. :class:`SkyEphemeris` computes the Sun's and the
Moon's positions for a whole day in one vectorised astropy call (every
:data:`STEP_S` seconds) and interpolates between the samples; the field's altitude and
its distance from the Moon follow from spherical trigonometry. Altitudes agree with
astropy to a few hundredths of a degree, far below what the sky brightness notices.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from nocturna.devices.sim.sky.background import SkyConditions

if TYPE_CHECKING:
    from astropy.coordinates import EarthLocation

STEP_S = 300.0
"""Seconds between tabulated samples."""
SPAN_S = 86400.0
"""Seconds one table covers."""


@dataclass(frozen=True)
class _DayTable:
    start_s: float  # POSIX seconds of the first sample
    sun_alt: np.ndarray  # degrees
    moon_alt: np.ndarray  # degrees
    moon_xyz: np.ndarray  # (n, 3) unit vectors of the Moon's apparent RA/Dec
    illumination: np.ndarray  # 0..1
    local_era: np.ndarray  # Earth rotation angle + longitude, radians, unwrapped
    icrs_to_cirs: np.ndarray  # (3, 3) precession-nutation at mid-day


class SkyEphemeris:
    """Sky conditions for one site from tabulated Sun and Moon positions (thread-safe)."""

    def __init__(self, location: EarthLocation) -> None:
        self.location = location
        self.latitude_rad = float(location.lat.rad)
        self._tables: dict[int, _DayTable] = {}
        self._lock = threading.Lock()

    def conditions(self, t_s: float, ra_deg: float, dec_deg: float) -> SkyConditions:
        """The sky conditions for a field (ICRS degrees) at POSIX time ``t_s``."""
        table = self._table(t_s)
        position = (t_s - table.start_s) / STEP_S
        i = min(int(position), table.sun_alt.size - 2)
        f = position - i

        def at(values: np.ndarray) -> float:
            return float((1.0 - f) * values[i] + f * values[i + 1])

        moon = (1.0 - f) * table.moon_xyz[i] + f * table.moon_xyz[i + 1]
        moon /= np.linalg.norm(moon)
        ra, dec = math.radians(ra_deg), math.radians(dec_deg)
        field = np.array([math.cos(dec) * math.cos(ra), math.cos(dec) * math.sin(ra),
                          math.sin(dec)])
        x, y, z = table.icrs_to_cirs @ field  # the field at the epoch of date
        hour_angle = at(table.local_era) - math.atan2(y, x)
        lat = self.latitude_rad
        sin_alt = (math.sin(lat) * z
                   + math.cos(lat) * math.hypot(x, y) * math.cos(hour_angle))
        field_alt = math.degrees(math.asin(max(-1.0, min(1.0, sin_alt))))
        separation = math.degrees(math.acos(max(-1.0, min(1.0, float(field @ moon)))))
        return SkyConditions(
            sun_alt_deg=at(table.sun_alt), moon_alt_deg=at(table.moon_alt),
            moon_illumination=at(table.illumination), moon_separation_deg=separation,
            field_alt_deg=field_alt,
            airmass=1.0 / math.sin(math.radians(max(field_alt, 1.0))))

    def has_table(self, t_s: float) -> bool:
        """Whether the day of ``t_s`` is tabulated already (else the next call computes it)."""
        return math.floor(t_s / SPAN_S) in self._tables

    def _table(self, t_s: float) -> _DayTable:
        key = math.floor(t_s / SPAN_S)
        with self._lock:
            table = self._tables.get(key)
            if table is None:
                table = self._tables[key] = self._compute(key * SPAN_S)
                for old in sorted(self._tables)[:-3]:
                    del self._tables[old]
            return table

    def _compute(self, start_s: float) -> _DayTable:
        from nocturna.core.offline import install_offline_astropy

        install_offline_astropy()
        import astropy.units as u
        import erfa
        from astropy.coordinates import AltAz, get_body
        from astropy.time import Time

        offsets = np.arange(0.0, SPAN_S + 2 * STEP_S, STEP_S)
        times = Time(start_s + offsets, format="unix", scale="utc")
        frame = AltAz(obstime=times, location=self.location)
        sun = get_body("sun", times, self.location)
        moon = get_body("moon", times, self.location)
        elongation = sun.separation(moon).rad
        ra, dec = moon.ra.rad, moon.dec.rad
        xyz = np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)],
                       axis=1)
        era = times.earth_rotation_angle(longitude=self.location.lon).to_value(u.rad)
        middle = times[len(times) // 2].tt
        matrix = erfa.c2i06a(middle.jd1, middle.jd2)
        return _DayTable(start_s, sun.transform_to(frame).alt.deg,
                         moon.transform_to(frame).alt.deg, xyz,
                         (1.0 - np.cos(elongation)) / 2.0, np.unwrap(np.asarray(era)),
                         np.asarray(matrix))


_SITES: dict[tuple[float, float, float], SkyEphemeris] = {}


def site_ephemeris(site: Any) -> SkyEphemeris:
    """The shared ephemeris of a configured site (one per place in the process)."""
    from nocturna.core.astro import site_location

    key = (float(site.latitude.to_value("deg")), float(site.longitude.to_value("deg")),
           float(site.elevation.to_value("m")))
    ephemeris = _SITES.get(key)
    if ephemeris is None:  # the place is read from the site's numbers, once
        ephemeris = _SITES[key] = SkyEphemeris(site_location(site))
    return ephemeris
