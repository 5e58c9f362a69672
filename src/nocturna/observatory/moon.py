"""Where the Moon is and how much of it is lit, cheaply and often.

The status board shows the Moon several times a second of real time while a night on
virtual time races by; astropy takes milliseconds per call. :class:`MoonPositions`
computes one day at a time on a ten-minute grid (vectorized) and interpolates: the Moon
moves about 0.1° in ten minutes, and its phase far less.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from astropy.coordinates import EarthLocation

_STEP_S = 600.0
_DAY_S = 86400.0


@dataclass(frozen=True)
class MoonNow:
    alt_deg: float
    az_deg: float
    illumination: float  # lit fraction of the disc, 0..1


class MoonPositions:
    """The Moon's altitude, azimuth and illumination at ``location``."""

    def __init__(self, location: EarthLocation) -> None:
        self.location = location
        self._days: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}

    def _day(self, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        table = self._days.get(day)
        if table is None:
            import astropy.units as u
            from astropy.coordinates import AltAz, get_body, get_sun
            from astropy.time import Time

            import nocturna.core.astro  # noqa: F401  (offline astropy settings)

            seconds = day * _DAY_S + np.arange(0.0, _DAY_S + _STEP_S, _STEP_S)
            times = Time(seconds, format="unix", scale="utc")
            moon = get_body("moon", times, self.location)
            altaz = moon.transform_to(AltAz(obstime=times, location=self.location))
            azimuth = np.radians(altaz.az.to_value(u.deg))
            elongation = get_sun(times).separation(get_body("moon", times)).to_value(u.rad)
            table = (altaz.alt.to_value(u.deg), np.cos(azimuth), np.sin(azimuth),
                     (1.0 - np.cos(elongation)) / 2.0)
            self._days = {day: table}  # one day at a time is all the board needs
        return table

    def ready(self, when: datetime) -> bool:
        """Whether the table of ``when``'s day is computed (:meth:`at` is then cheap)."""
        return math.floor(when.timestamp() / _DAY_S) in self._days

    def at(self, when: datetime) -> MoonNow:
        """The Moon at ``when`` (interpolated on the ten-minute grid)."""
        t = when.timestamp()
        day = math.floor(t / _DAY_S)
        position = (t - day * _DAY_S) / _STEP_S
        index = min(int(position), int(_DAY_S / _STEP_S) - 1)
        fraction = position - index
        alt, cos_az, sin_az, lit = (
            float(column[index] * (1.0 - fraction) + column[index + 1] * fraction)
            for column in self._day(day))
        return MoonNow(alt, math.degrees(math.atan2(sin_az, cos_az)) % 360.0, lit)
