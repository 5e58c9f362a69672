"""The Sun and the Moon on a coarse time grid (astropy), interpolated in between.

Both are computed once per night as topocentric CIRS unit vectors every 10 minutes
(the Moon moves 0.1° in that time; interpolating the vectors linearly errs by under
1″), in the frame :mod:`nocturna.scheduler.astrometry` uses for the fields.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from nocturna.scheduler.astrometry import FloatArray, SkyFrame, rotation_basis

STEP_S = 600.0


@dataclass(frozen=True)
class Ephemeris:
    """Sun and Moon directions (N×3 CIRS unit vectors) at ``times_s`` (POSIX seconds)."""

    times_s: FloatArray
    sun: FloatArray
    moon: FloatArray | None

    @classmethod
    def compute(cls, location: object, start_s: float, end_s: float, *,
                moon: bool = True, step_s: float = STEP_S) -> Ephemeris:
        from astropy.coordinates import CIRS, get_body, get_sun
        from astropy.time import Time

        import nocturna.core.astro  # noqa: F401  (offline astropy settings first)

        count = int(np.ceil((end_s - start_s) / step_s)) + 1
        times_s = start_s + step_s * np.arange(count)
        times = Time(times_s, format="unix", scale="utc")
        frame = CIRS(obstime=times, location=location)
        sun = get_sun(times).transform_to(frame)
        sun_vectors = _normalized(np.asarray(sun.cartesian.xyz.value).T)
        moon_vectors = None
        if moon:
            body = get_body("moon", times, location).transform_to(frame)
            moon_vectors = _normalized(np.asarray(body.cartesian.xyz.value).T)
        return cls(times_s=times_s, sun=sun_vectors, moon=moon_vectors)

    def _at(self, table: FloatArray, t_s: ArrayLike) -> FloatArray:
        t = np.asarray(t_s, dtype=float)
        position = np.clip((t - self.times_s[0]) / (self.times_s[1] - self.times_s[0]),
                           0.0, len(self.times_s) - 1.0)
        index = np.minimum(position.astype(int), len(self.times_s) - 2)
        fraction = (position - index)[..., None]
        return _normalized(table[index] * (1.0 - fraction) + table[index + 1] * fraction)

    def sun_at(self, t_s: ArrayLike) -> FloatArray:
        """The Sun's CIRS unit vector(s) at ``t_s``."""
        return self._at(self.sun, t_s)

    def moon_at(self, t_s: ArrayLike) -> FloatArray:
        """The Moon's topocentric CIRS unit vector(s) at ``t_s``."""
        if self.moon is None:
            raise ValueError("this ephemeris has no Moon")
        return self._at(self.moon, t_s)

    def covers(self, t_s: float) -> bool:
        return bool(self.times_s[0] <= t_s <= self.times_s[-1])


def body_altitudes_deg(frame: SkyFrame, vectors: FloatArray, t_s: ArrayLike) -> FloatArray:
    """Altitudes (degrees) of moving bodies: vector i seen at time i."""
    coefficients = frame.coefficients(vectors)  # (T, 3, 3)
    basis = rotation_basis(frame.local_era(t_s))  # (3, T)
    xyz = np.einsum("tcj,jt->tc", coefficients, basis)
    return np.degrees(np.arctan2(xyz[:, 2], np.hypot(xyz[:, 0], xyz[:, 1])))


def _normalized(vectors: FloatArray) -> FloatArray:
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)
