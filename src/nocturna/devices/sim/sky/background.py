"""Sky brightness (twilight, night, moonlight) and the photometry of the simulated sky.

Photometry: a star of G magnitude ``m`` delivers :data:`ZERO_POINT_PHOTONS` ×
10^(−0.4 m) photons s⁻¹ m⁻² at the top of the telescope: 1.0e10 for m = 0, about
Vega's photon flux in V (1000 photons s⁻¹ cm⁻² Å⁻¹ × 880 Å = 8.8e9). A clear filter
on a silicon sensor collects 2-3× more photons than a V filter; the ``throughput``
(optics × filter × quantum efficiency, default 0.5) absorbs such choices. The sky uses
the same zero point per arcsec², with sky surface brightness in V mag arcsec⁻²
treated as G.

Sky surface brightness, all in V mag arcsec⁻²:

* night: 21.5 at the zenith on a dark moonless site, brightening with airmass as in
  Krisciunas & Schaefer (1991): B(Z) = B_zen · X · 10^(−0.4 k (X − 1));
* twilight: the zenith sky as a function of the Sun's altitude, interpolated in
  :data:`TWILIGHT_TABLE`, from typical horizontal illuminances for a uniform sky
  (L = E/π: about 500 lx at sunset, 3 lx at the end of civil twilight, 0.008 lx
  at the end of nautical twilight); it adds to the night sky and vanishes at −18°;
* the Moon: the Krisciunas & Schaefer (1991) model (phase, lunar and sky zenith
  distances, Moon-field separation, extinction coefficient ``k`` = 0.172 in V).

The functions take plain numbers; :func:`sky_conditions` computes those numbers for a
time, a site and a field with astropy (offline).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from nocturna.core.errors import InvalidValueError

if TYPE_CHECKING:
    from astropy.coordinates import EarthLocation

ZERO_POINT_PHOTONS = 1.0e10
"""Photons s⁻¹ m⁻² from a G = 0 star (also per arcsec² for 0 mag arcsec⁻² of sky)."""

DARK_SKY_MAG = 21.5
"""Zenith V sky brightness of a dark site, no Moon, no twilight (mag arcsec⁻²)."""

EXTINCTION_V = 0.172
"""Extinction coefficient in V, mag per airmass (Krisciunas & Schaefer 1991)."""

TWILIGHT_TABLE: tuple[tuple[float, float], ...] = (
    (-90.0, DARK_SKY_MAG), (-18.0, DARK_SKY_MAG), (-15.0, 20.8), (-12.0, 19.0),
    (-9.0, 15.9), (-6.0, 12.6), (-3.0, 9.8), (0.0, 7.1), (5.0, 5.0), (10.0, 4.3),
    (20.0, 3.8), (90.0, 3.3),
)
"""(Sun altitude deg, zenith sky V mag arcsec⁻²) with no Moon."""

_TW_ALT = np.array([a for a, _ in TWILIGHT_TABLE])
_TW_MAG = np.array([m for _, m in TWILIGHT_TABLE])


def collecting_area_m2(aperture_mm: float, central_obstruction: float = 0.0) -> float:
    """Clear aperture area; ``central_obstruction`` is a fraction of the diameter."""
    if aperture_mm <= 0 or not 0.0 <= central_obstruction < 1.0:
        raise InvalidValueError(f"bad aperture {aperture_mm} mm / obstruction "
                                f"{central_obstruction}")
    radius_m = aperture_mm / 2000.0
    return math.pi * radius_m * radius_m * (1.0 - central_obstruction**2)


def star_rate_e_per_s(mag: Any, *, aperture_mm: float, throughput: float = 0.5,
                      central_obstruction: float = 0.0) -> Any:
    """Detected electrons per second from a star of G magnitude ``mag`` (array or float)."""
    area = collecting_area_m2(aperture_mm, central_obstruction)
    return ZERO_POINT_PHOTONS * area * throughput * np.power(10.0, -0.4 * np.asarray(mag))


def sky_rate_e_per_s_per_px(sky_mag_arcsec2: float, *, aperture_mm: float,
                            pixel_scale_arcsec: float, throughput: float = 0.5,
                            central_obstruction: float = 0.0) -> float:
    """Detected sky electrons per second in one (unbinned) pixel."""
    per_arcsec2 = star_rate_e_per_s(sky_mag_arcsec2, aperture_mm=aperture_mm,
                                    throughput=throughput,
                                    central_obstruction=central_obstruction)
    return float(per_arcsec2) * pixel_scale_arcsec**2


def nanolamberts(mag_arcsec2: float) -> float:
    """V surface brightness to nanolamberts (Krisciunas & Schaefer 1991, eq. 1)."""
    return 34.08 * math.exp(20.7233 - 0.92104 * mag_arcsec2)


def mag_arcsec2(nanolambert: float) -> float:
    """Nanolamberts to V mag arcsec⁻² (inverse of :func:`nanolamberts`)."""
    return (20.7233 - math.log(nanolambert / 34.08)) / 0.92104


def _ks_airmass(zenith_deg: float) -> float:
    """Krisciunas & Schaefer's airmass for scattered light, X = (1 − 0.96 sin²Z)^−½."""
    s = math.sin(math.radians(min(zenith_deg, 90.0)))
    return 1.0 / math.sqrt(1.0 - 0.96 * s * s)


def _zenith_from_airmass(airmass: float) -> float:
    if airmass < 1.0:
        raise InvalidValueError(f"airmass must be ≥ 1, got {airmass}")
    return math.degrees(math.acos(1.0 / airmass))


def twilight_mag(sun_alt_deg: float) -> float:
    """Zenith sky brightness (mag arcsec⁻²) with no Moon, for the Sun at ``sun_alt_deg``."""
    return float(np.interp(sun_alt_deg, _TW_ALT, _TW_MAG))


def moon_nanolamberts(moon_alt_deg: float, moon_illumination: float,
                      moon_separation_deg: float, airmass: float = 1.0, *,
                      extinction: float = EXTINCTION_V) -> float:
    """Moonlight scattered into the field (Krisciunas & Schaefer 1991), nanolamberts.

    ``moon_illumination`` is the illuminated fraction (0 new, 1 full); ``airmass`` is
    the field's (plane-parallel sec z). Zero with the Moon below the horizon.
    """
    if not 0.0 <= moon_illumination <= 1.0:
        raise InvalidValueError(f"moon illumination must be in [0, 1], got {moon_illumination}")
    if moon_alt_deg <= 0.0 or moon_illumination == 0.0:
        return 0.0
    phase = math.degrees(math.acos(2.0 * moon_illumination - 1.0))  # 0 at full Moon
    intensity = 10.0 ** (-0.4 * (3.84 + 0.026 * phase + 4e-9 * phase**4))
    rho = max(moon_separation_deg, 0.25)  # not inside the lunar disc
    rayleigh = 10.0**5.36 * (1.06 + math.cos(math.radians(rho)) ** 2)
    mie = 10.0 ** (6.15 - rho / 40.0) if rho >= 10.0 else 6.2e7 / rho**2
    x_moon = _ks_airmass(90.0 - moon_alt_deg)
    x_sky = _ks_airmass(_zenith_from_airmass(airmass))
    return ((rayleigh + mie) * intensity * 10.0 ** (-0.4 * extinction * x_moon)
            * (1.0 - 10.0 ** (-0.4 * extinction * x_sky)))


def sky_brightness(sun_alt_deg: float, moon_alt_deg: float = -90.0,
                   moon_illumination: float = 0.0, moon_separation_deg: float = 180.0,
                   airmass: float = 1.0, *, dark_sky_mag: float = DARK_SKY_MAG,
                   extinction: float = EXTINCTION_V) -> float:
    """Sky surface brightness in the field, V mag arcsec⁻² (smaller is brighter)."""
    x_sky = _ks_airmass(_zenith_from_airmass(airmass))
    night = nanolamberts(dark_sky_mag) * x_sky * 10.0 ** (-0.4 * extinction * (x_sky - 1.0))
    twilight = max(nanolamberts(twilight_mag(sun_alt_deg)) - nanolamberts(DARK_SKY_MAG), 0.0)
    moon = moon_nanolamberts(moon_alt_deg, moon_illumination, moon_separation_deg, airmass,
                             extinction=extinction)
    return mag_arcsec2(night + twilight + moon)


@dataclass(frozen=True)
class SkyConditions:
    """The plain numbers the sky model needs, for one field at one time."""

    sun_alt_deg: float
    moon_alt_deg: float
    moon_illumination: float
    moon_separation_deg: float
    field_alt_deg: float
    airmass: float

    def sky_brightness(self, **kwargs: float) -> float:
        """:func:`sky_brightness` for these conditions (mag arcsec⁻²)."""
        return sky_brightness(self.sun_alt_deg, self.moon_alt_deg, self.moon_illumination,
                              self.moon_separation_deg, self.airmass, **kwargs)


def sky_conditions(time: Any, location: EarthLocation, ra_deg: float,
                   dec_deg: float) -> SkyConditions:
    """Sun and Moon altitudes, Moon phase and separation, airmass for a field (astropy).

    ``time``: datetime (naive = UTC) or astropy Time. The field's airmass is sec z,
    held at its value for 1° altitude when the field is lower than that.
    """
    from nocturna.core.offline import install_offline_astropy

    install_offline_astropy()
    import astropy.units as u
    from astropy.coordinates import AltAz, SkyCoord, get_body
    from astropy.time import Time

    t = time if isinstance(time, Time) else Time(time, scale="utc")
    frame = AltAz(obstime=t, location=location)
    sun = get_body("sun", t, location)
    moon = get_body("moon", t, location)
    sun_altaz = sun.transform_to(frame)
    moon_altaz = moon.transform_to(frame)
    field_altaz = SkyCoord(ra=ra_deg * u.deg, dec=dec_deg * u.deg,
                           frame="icrs").transform_to(frame)
    elongation = float(sun.separation(moon).rad)
    field_alt = float(field_altaz.alt.deg)
    return SkyConditions(
        sun_alt_deg=float(sun_altaz.alt.deg),
        moon_alt_deg=float(moon_altaz.alt.deg),
        moon_illumination=(1.0 - math.cos(elongation)) / 2.0,
        moon_separation_deg=float(moon_altaz.separation(field_altaz).deg),
        field_alt_deg=field_alt,
        airmass=1.0 / math.sin(math.radians(max(field_alt, 1.0))),
    )
