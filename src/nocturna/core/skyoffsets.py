"""Small-angle sky geometry: separations and (east, north) offsets on the tangent plane.

Positions are (RA, Dec) in degrees; offsets in arcseconds, east = increasing RA on the
sky (already multiplied by cos Dec), north = increasing Dec. Plain ``math``: the loops
call these per frame, where building astropy coordinates would cost more than the rest.
"""

from __future__ import annotations

import math


def angular_separation_arcsec(ra1: float, dec1: float, ra2: float, dec2: float) -> float:
    """Great-circle distance between two positions (haversine), arcseconds."""
    r1, d1, r2, d2 = map(math.radians, (ra1, dec1, ra2, dec2))
    sdd, sdr = math.sin((d2 - d1) / 2), math.sin((r2 - r1) / 2)
    a = sdd * sdd + math.cos(d1) * math.cos(d2) * sdr * sdr
    return math.degrees(2 * math.asin(min(1.0, math.sqrt(a)))) * 3600.0


def sky_offset_arcsec(ra0: float, dec0: float, ra1: float, dec1: float) -> tuple[float, float]:
    """(east, north) of (ra1, dec1) from (ra0, dec0), gnomonic projection about the first."""
    r0, d0, r1, d1 = map(math.radians, (ra0, dec0, ra1, dec1))
    cos_c = math.sin(d0) * math.sin(d1) + math.cos(d0) * math.cos(d1) * math.cos(r1 - r0)
    east = math.cos(d1) * math.sin(r1 - r0) / cos_c
    north = (math.cos(d0) * math.sin(d1) - math.sin(d0) * math.cos(d1) * math.cos(r1 - r0)) \
        / cos_c
    return math.degrees(east) * 3600.0, math.degrees(north) * 3600.0


def offset_position(ra0: float, dec0: float, east_arcsec: float,
                    north_arcsec: float) -> tuple[float, float]:
    """The position (ra, dec) at (east, north) from (ra0, dec0): inverse of the above."""
    xi, eta = math.radians(east_arcsec / 3600.0), math.radians(north_arcsec / 3600.0)
    r0, d0 = math.radians(ra0), math.radians(dec0)
    denominator = math.cos(d0) - eta * math.sin(d0)
    ra = r0 + math.atan2(xi, denominator)
    dec = math.atan2(math.sin(d0) + eta * math.cos(d0), math.hypot(xi, denominator))
    return math.degrees(ra) % 360.0, math.degrees(dec)
