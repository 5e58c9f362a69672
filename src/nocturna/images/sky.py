"""Sidereal time and the Moon for frame headers, from astropy, cheap per frame.

Computing the Moon with astropy costs tens of milliseconds, too much for every frame.
A :class:`SkyAtSite` asks astropy once per ``step`` (10 minutes by default) for the
local apparent sidereal time, the Moon's apparent RA/Dec and its illuminated fraction,
and keeps those samples. For a frame it takes the nearest sample and

* advances the sidereal time from the sample's by the sidereal rate (exact to well
  below a millisecond over the step);
* takes the Moon's altitude from its hour angle and the site's latitude (geometric, no
  refraction) and its separation from the pointing. The Moon moves about 0.1° on the
  sky in 10 minutes, so both are within about 0.05° of astropy's.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from nocturna.core.skyoffsets import angular_separation_arcsec

SIDEREAL_PER_SOLAR = 1.002737909350795
"""Sidereal seconds per SI second (the rate of Earth's rotation against the stars)."""


@dataclass(frozen=True)
class SkySample:
    """What astropy said at ``when``."""

    when: datetime
    lst_h: float  # local apparent sidereal time, hours
    moon_ra_deg: float  # GCRS (ICRS-aligned), topocentric: for separations
    moon_dec_deg: float
    moon_ra_date_deg: float  # true equator and equinox of date: for the hour angle
    moon_dec_date_deg: float
    moon_illumination: float  # 0..1


@dataclass(frozen=True)
class SkyNow:
    """Sidereal time and the Moon at one instant (Moon separation if a pointing was given)."""

    lst_h: float
    moon_altitude_deg: float
    moon_illumination: float
    moon_separation_deg: float | None


class SkyAtSite:
    """Sidereal time and the Moon at one site, sampled from astropy every ``step_s``."""

    def __init__(self, latitude_deg: float, longitude_deg: float, elevation_m: float = 0.0,
                 *, step_s: float = 600.0) -> None:
        self.latitude_deg = float(latitude_deg)
        self.longitude_deg = float(longitude_deg)
        self.elevation_m = float(elevation_m)
        self.step_s = float(step_s)
        self._samples: dict[int, SkySample] = {}
        self._lock = threading.Lock()

    def sample(self, when: datetime) -> SkySample:
        """The astropy sample nearest ``when`` (computed on first use, then kept)."""
        when = _utc(when)
        slot = round(when.timestamp() / self.step_s)
        with self._lock:
            found = self._samples.get(slot)
        if found is None:
            found = self._compute(datetime.fromtimestamp(slot * self.step_s, UTC))
            with self._lock:
                if len(self._samples) > 1000:  # a long run: forget old nights
                    self._samples.clear()
                self._samples[slot] = found
        return found

    def at(self, when: datetime, ra_deg: float | None = None,
           dec_deg: float | None = None) -> SkyNow:
        """Sidereal time and the Moon at ``when``; the Moon's separation from
        (``ra_deg``, ``dec_deg``) when given."""
        when = _utc(when)
        sample = self.sample(when)
        elapsed_s = (when - sample.when).total_seconds()
        lst_h = (sample.lst_h + elapsed_s * SIDEREAL_PER_SOLAR / 3600.0) % 24.0
        hour_angle = math.radians(lst_h * 15.0 - sample.moon_ra_date_deg)
        lat, dec = math.radians(self.latitude_deg), math.radians(sample.moon_dec_date_deg)
        sin_alt = math.sin(lat) * math.sin(dec) + math.cos(lat) * math.cos(dec) * \
            math.cos(hour_angle)
        altitude = math.degrees(math.asin(max(-1.0, min(1.0, sin_alt))))
        separation = None
        if ra_deg is not None and dec_deg is not None:
            separation = angular_separation_arcsec(ra_deg, dec_deg, sample.moon_ra_deg,
                                                   sample.moon_dec_deg) / 3600.0
        return SkyNow(lst_h, altitude, sample.moon_illumination, separation)

    def _compute(self, when: datetime) -> SkySample:
        import astropy.units as u
        from astropy.coordinates import TETE, EarthLocation, get_body
        from astropy.time import Time

        time = Time(when)
        location = EarthLocation.from_geodetic(self.longitude_deg * u.deg,
                                               self.latitude_deg * u.deg,
                                               self.elevation_m * u.m)
        lst = time.sidereal_time("apparent", longitude=self.longitude_deg * u.deg)
        moon = get_body("moon", time, location)
        sun = get_body("sun", time, location)
        elongation = sun.separation(moon)
        phase_angle = math.atan2(
            float((sun.distance * math.sin(elongation.rad)).to_value(u.km)),
            float((moon.distance - sun.distance * math.cos(elongation.rad)).to_value(u.km)))
        of_date = moon.transform_to(TETE(obstime=time, location=location))
        return SkySample(when, float(lst.hour), float(moon.ra.deg), float(moon.dec.deg),
                         float(of_date.ra.deg), float(of_date.dec.deg),
                         (1.0 + math.cos(phase_angle)) / 2.0)


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


_SITES: dict[tuple[float, float, float], SkyAtSite] = {}
_SITES_LOCK = threading.Lock()


def sky_at_site(latitude_deg: float, longitude_deg: float,
                elevation_m: float = 0.0) -> SkyAtSite:
    """The shared :class:`SkyAtSite` of a site (one cache per site per process)."""
    key = (float(latitude_deg), float(longitude_deg), float(elevation_m))
    with _SITES_LOCK:
        found = _SITES.get(key)
        if found is None:
            found = _SITES[key] = SkyAtSite(*key)
        return found
