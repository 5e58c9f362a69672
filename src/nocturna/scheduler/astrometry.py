"""Apparent places and altitudes for many fields at many times, with erfa and numpy.

astropy's ICRS → AltAz transform does, for every (field, time): light deflection,
aberration (annual and diurnal), precession-nutation to the equator and origin of
date (CIRS), the Earth's rotation, polar motion, and the turn to the horizon. All but
the rotation change by less than 0.1″ over a night, so a :class:`SkyFrame` does the
slow part once per night with erfa (``apci13`` + ``atciq``: geocentric CIRS places of
every field at the middle of the night) and keeps the site's constants of ``apio``
(polar motion, latitude, diurnal aberration). The observed direction of a field at
Earth rotation angle θ is then affine in (cos θ, sin θ): three coefficients per axis
and field, so a whole night is one matrix product (the same steps as erfa's
``atioq`` with refraction off: astropy's AltAz with ``pressure=0``).

Skipping the move to the equator of date would cost 0.4° of altitude in 2026
(25 years of precession); skipping aberration 20″. The difference from astropy is
below 0.2″ over a night (measured by the tests; the aberration drift from the
mid-night place is the largest term).

Times inside are POSIX seconds (UTC); angles in radians unless named ``_deg``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

_UNIX_JD = 2440587.5
_DAY_S = 86400.0

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class SkyFrame:
    """The per-night constants that turn field positions into altitude and azimuth."""

    mid_s: float  # POSIX time the apparent places are computed for
    astrom: np.ndarray  # erfa ASTROM (geocentric CIRS) at mid_s
    eo: float  # equation of the origins at mid_s: sidereal time = ERA - eo
    along: float  # longitude + s' + polar motion adjustment (erfa apio)
    rotation: FloatArray  # 3×3: CIRS -HA/Dec cartesian (after polar motion) → (x, y, z) aet
    aberration: FloatArray  # 3: the diurnal aberration term in aet coordinates
    dut1_s: tuple[float, float, float, float]  # (t0, dut1 at t0, t1, dut1 at t1)

    @classmethod
    def for_site(cls, lon_deg: float, lat_deg: float, height_m: float, start_s: float,
                 end_s: float) -> SkyFrame:
        """The frame for a site (WGS84 geodetic) for times between ``start_s``, ``end_s``."""
        import erfa
        from astropy.coordinates.builtin_frames.utils import get_polar_motion
        from astropy.time import Time

        import nocturna.core.astro  # noqa: F401  (offline astropy settings first)

        mid = 0.5 * (start_s + end_s)
        times = Time([start_s, mid, end_s], format="unix", scale="utc")
        dut1 = np.asarray(times.delta_ut1_utc, dtype=float)
        tdb = times[1].tdb
        astrom, eo = erfa.apci13(tdb.jd1, tdb.jd2)
        tt = times[1].tt
        xp, yp = get_polar_motion(times[1])
        sp = erfa.sp00(tt.jd1, tt.jd2)
        theta = float(era(mid, dut1[1]))
        site = erfa.apio(sp, theta, math.radians(lon_deg), math.radians(lat_deg), height_m,
                         xp, yp, 0.0, 0.0)
        sx, cx = math.sin(site["xpl"]), math.cos(site["xpl"])
        sy, cy = math.sin(site["ypl"]), math.cos(site["ypl"])
        polar = np.array([[cx, 0.0, sx],
                          [sx * sy, cy, -cx * sy],
                          [-sx * cy, sy, cx * cy]])
        sphi, cphi = float(site["sphi"]), float(site["cphi"])
        horizon = np.array([[sphi, 0.0, -cphi],
                            [0.0, 1.0, 0.0],
                            [cphi, 0.0, sphi]])
        aberration = horizon @ np.array([0.0, float(site["diurab"]), 0.0])
        return cls(mid_s=mid, astrom=astrom, eo=float(eo), along=float(site["along"]),
                   rotation=horizon @ polar, aberration=aberration,
                   dut1_s=(start_s, float(dut1[0]), end_s, float(dut1[2])))

    def dut1(self, t_s: ArrayLike) -> FloatArray:
        """UT1 − UTC (s), linear over the night."""
        t0, d0, t1, d1 = self.dut1_s
        slope = (d1 - d0) / (t1 - t0) if t1 > t0 else 0.0
        return d0 + slope * (np.asarray(t_s, dtype=float) - t0)

    def local_era(self, t_s: ArrayLike) -> FloatArray:
        """The Earth rotation angle plus the site's longitude terms (erfa ``eral``)."""
        t = np.asarray(t_s, dtype=float)
        return era(t, self.dut1(t)) + self.along

    def apparent(self, ra_deg: ArrayLike, dec_deg: ArrayLike) -> FloatArray:
        """Geocentric CIRS unit vectors (N×3) of ICRS positions at the night's middle."""
        import erfa

        ra = np.radians(np.asarray(ra_deg, dtype=float))
        dec = np.radians(np.asarray(dec_deg, dtype=float))
        ri, di = erfa.atciq(ra, dec, 0.0, 0.0, 0.0, 0.0, self.astrom)
        cos_d = np.cos(di)
        return np.stack([cos_d * np.cos(ri), cos_d * np.sin(ri), np.sin(di)], axis=-1)

    def coefficients(self, vectors: FloatArray) -> FloatArray:
        """Per field, the observed direction as ``K @ (cos eral, sin eral, 1)``: (N, 3, 3).

        ``K[i, c]`` holds the coefficients of component c (0: x, 1: y, 2: z of erfa's
        "aet" frame, z towards the zenith) of field i.
        """
        v = np.asarray(vectors, dtype=float).reshape(-1, 3)
        fx, fy, fz = v[:, 0], v[:, 1], v[:, 2]
        zero = np.zeros_like(fx)
        # -HA/Dec cartesian: x = fx cos e + fy sin e, y = fy cos e - fx sin e, z = fz
        cos_part = np.stack([fx, fy, zero], axis=-1) @ self.rotation.T
        sin_part = np.stack([fy, -fx, zero], axis=-1) @ self.rotation.T
        const = np.stack([zero, zero, fz], axis=-1) @ self.rotation.T + self.aberration
        return np.stack([cos_part, sin_part, const], axis=-1)


def era(t_s: ArrayLike, dut1_s: ArrayLike = 0.0) -> FloatArray:
    """Earth rotation angle (radians) at POSIX time ``t_s`` (UTC) with UT1 − UTC."""
    import erfa

    ut1_days = (np.asarray(t_s, dtype=float) + np.asarray(dut1_s, dtype=float)) / _DAY_S
    return np.asarray(erfa.era00(_UNIX_JD, ut1_days), dtype=float)


def rotation_basis(eral: ArrayLike) -> FloatArray:
    """(3, T) rows cos eral, sin eral, 1: multiply coefficients by this."""
    angle = np.asarray(eral, dtype=float).reshape(-1)
    return np.stack([np.cos(angle), np.sin(angle), np.ones_like(angle)])


def altaz_deg(coefficients: FloatArray, eral: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Altitude and azimuth (degrees, N from E) of fields (N) at angles ``eral`` (T): N×T."""
    basis = rotation_basis(eral)
    n = coefficients.shape[0]
    xyz = (coefficients.reshape(n * 3, 3) @ basis).reshape(n, 3, -1)
    x, y, z = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    alt = np.degrees(np.arctan2(z, np.hypot(x, y)))
    az = np.degrees(np.arctan2(y, -x)) % 360.0
    return alt, az


def unit_vectors(ra_deg: ArrayLike, dec_deg: ArrayLike) -> FloatArray:
    """Cartesian unit vectors (…×3) of spherical positions in degrees."""
    ra = np.radians(np.asarray(ra_deg, dtype=float))
    dec = np.radians(np.asarray(dec_deg, dtype=float))
    cos_d = np.cos(dec)
    return np.stack([cos_d * np.cos(ra), cos_d * np.sin(ra), np.sin(dec)], axis=-1)
