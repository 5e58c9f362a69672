"""Fast spherical astronomy for the simulated mount (and the dome that follows it).

astropy is exact but takes milliseconds per transformation; a mount's state is
read many times a second. So astropy (offline) is asked once per UTC day for the
sidereal time at 0h and for the precession-nutation matrix, and everything in
between is plain trigonometry:

* local apparent sidereal time = LAST(day start) + sidereal rate × elapsed seconds;
* J2000 ↔ apparent (true equator and equinox of date) by the IAU 2006/2000A
  precession-nutation matrix (aberration is ignored: ≤ 20″);
* hour angle/declination ↔ altitude/azimuth (azimuth from north through east,
  no refraction).

Every function is a pure function of its arguments, so results depend only on the
clock time. Angles are degrees, times POSIX seconds (UTC).
"""

from __future__ import annotations

import math
from functools import lru_cache

from nocturna.devices.sim.motion import wrap

SIDEREAL_DEG_PER_S = 360.98564736629 / 86400.0
"""How fast the sidereal time advances, degrees per SI second."""

SIDEREAL_ARCSEC_PER_S = 15.041067
"""The sidereal tracking rate in arcseconds of hour angle per SI second."""

_DAY_S = 86400.0

Matrix = tuple[tuple[float, float, float], tuple[float, float, float],
               tuple[float, float, float]]


@lru_cache(maxsize=64)
def _day_sidereal_time(day: int, longitude_deg: float) -> float:
    """Local apparent sidereal time (degrees) at 0h UTC of POSIX day ``day``."""
    import astropy.units as u
    from astropy.coordinates import EarthLocation

    from nocturna.core.astro import local_sidereal_time

    location = EarthLocation.from_geodetic(lon=longitude_deg * u.deg, lat=0 * u.deg)
    from astropy.time import Time

    instant = Time(day * _DAY_S, format="unix", scale="utc")
    return float(local_sidereal_time(location, instant).to_value(u.deg))


def local_sidereal_deg(t: float, longitude_deg: float) -> float:
    """Local apparent sidereal time at POSIX time ``t``, in degrees [0, 360)."""
    day = math.floor(t / _DAY_S)
    start = _day_sidereal_time(day, float(longitude_deg))
    return wrap(start + SIDEREAL_DEG_PER_S * (t - day * _DAY_S), 360.0)


@lru_cache(maxsize=16)
def _day_matrix(day: int) -> Matrix:
    """Precession-nutation matrix (J2000 → true of date) at noon of POSIX day ``day``."""
    import erfa
    from astropy.time import Time

    tt = Time((day + 0.5) * _DAY_S, format="unix", scale="utc").tt
    rows = erfa.pnm06a(tt.jd1, tt.jd2)
    return tuple(tuple(float(x) for x in row) for row in rows)  # type: ignore[return-value]


def precession_matrix(t: float) -> Matrix:
    """J2000 → apparent rotation for the UTC day of ``t`` (changes ≈0.14″ a day)."""
    return _day_matrix(math.floor(t / _DAY_S))


def prepare_day(t: float, longitude_deg: float) -> None:
    """Ask astropy now for the tables of the UTC day of ``t`` (the first use in a process
    costs seconds: imports, Earth orientation data), so later calls are plain arithmetic."""
    local_sidereal_deg(t, longitude_deg)
    precession_matrix(t)


def _vector(ra_deg: float, dec_deg: float) -> tuple[float, float, float]:
    ra, dec = math.radians(ra_deg), math.radians(dec_deg)
    return (math.cos(dec) * math.cos(ra), math.cos(dec) * math.sin(ra), math.sin(dec))


def _angles(x: float, y: float, z: float) -> tuple[float, float]:
    ra = math.degrees(math.atan2(y, x)) if (x or y) else 0.0
    dec = math.degrees(math.atan2(z, math.hypot(x, y)))
    return wrap(ra, 360.0), dec


def j2000_to_apparent(ra_deg: float, dec_deg: float, t: float) -> tuple[float, float]:
    """J2000 (ra, dec) → (ra, dec) of date at ``t``."""
    m = precession_matrix(t)
    v = _vector(ra_deg, dec_deg)
    return _angles(*(sum(m[i][k] * v[k] for k in range(3)) for i in range(3)))


def apparent_to_j2000(ra_deg: float, dec_deg: float, t: float) -> tuple[float, float]:
    """(ra, dec) of date at ``t`` → J2000 (the transpose rotation)."""
    m = precession_matrix(t)
    v = _vector(ra_deg, dec_deg)
    return _angles(*(sum(m[k][i] * v[k] for k in range(3)) for i in range(3)))


def hadec_to_altaz(ha_deg: float, dec_deg: float, lat_deg: float) -> tuple[float, float]:
    """Hour angle and declination → (altitude, azimuth N→E), no refraction."""
    ha, dec, lat = math.radians(ha_deg), math.radians(dec_deg), math.radians(lat_deg)
    sin_alt = math.sin(dec) * math.sin(lat) + math.cos(dec) * math.cos(lat) * math.cos(ha)
    alt = math.asin(max(-1.0, min(1.0, sin_alt)))
    y = -math.cos(dec) * math.sin(ha)
    x = math.sin(dec) * math.cos(lat) - math.cos(dec) * math.sin(lat) * math.cos(ha)
    az = math.degrees(math.atan2(y, x)) if abs(x) > 1e-12 or abs(y) > 1e-12 else 0.0
    return math.degrees(alt), wrap(az, 360.0)


def altaz_to_hadec(alt_deg: float, az_deg: float, lat_deg: float) -> tuple[float, float]:
    """Altitude and azimuth → (hour angle in [-180, 180), declination)."""
    alt, az, lat = math.radians(alt_deg), math.radians(az_deg), math.radians(lat_deg)
    sin_dec = math.sin(alt) * math.sin(lat) + math.cos(alt) * math.cos(lat) * math.cos(az)
    dec = math.asin(max(-1.0, min(1.0, sin_dec)))
    y = -math.cos(alt) * math.sin(az)
    x = math.sin(alt) * math.cos(lat) - math.cos(alt) * math.sin(lat) * math.cos(az)
    ha = math.degrees(math.atan2(y, x)) if abs(x) > 1e-12 or abs(y) > 1e-12 else 0.0
    return signed_angle(ha), math.degrees(dec)


def signed_angle(angle_deg: float) -> float:
    """An angle folded into [-180, 180)."""
    return wrap(angle_deg + 180.0, 360.0) - 180.0
