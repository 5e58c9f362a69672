"""Astronomy helpers on astropy, always offline.

Importing this module imports astropy.coordinates (heavy); import it where it is
needed, not at package import. The offline settings of :mod:`nocturna.core.offline`
are in force before any astropy time computation here.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import astropy.units as u
from astropy.coordinates import AltAz, Angle, EarthLocation, get_sun
from astropy.time import Time

from nocturna.core.offline import install_offline_astropy

if TYPE_CHECKING:
    from nocturna.core.config.models import Site

install_offline_astropy()


def site_location(site: Site) -> EarthLocation:
    """The EarthLocation of a configured site."""
    return EarthLocation.from_geodetic(
        lon=site.longitude.to(u.deg), lat=site.latitude.to(u.deg), height=site.elevation.to(u.m)
    )


def as_time(instant: datetime | Time) -> Time:
    """An astropy Time (UTC) for a datetime or Time."""
    return instant if isinstance(instant, Time) else Time(instant, scale="utc")


def local_sidereal_time(location: EarthLocation, instant: datetime | Time) -> Angle:
    """Apparent local sidereal time at ``location``."""
    return as_time(instant).sidereal_time("apparent", longitude=location.lon)


def zenith_radec_deg(site: Site, instant: datetime | Time) -> tuple[float, float]:
    """(RA, Dec) of date, degrees, of the site's zenith at ``instant``."""
    lst = local_sidereal_time(site_location(site), instant)
    return float(lst.deg), float(site.latitude.to_value(u.deg))


def sun_altitude(location: EarthLocation, instant: datetime | Time) -> Angle:
    """Altitude of the Sun's centre (no refraction)."""
    time = as_time(instant)
    frame = AltAz(obstime=time, location=location)
    return get_sun(time).transform_to(frame).alt
