"""The Sun's altitude at a site, cheaply and often.

The unit asks "how high is the Sun?" before every state change and every few
simulated seconds while it works. Computing it with astropy each time costs
milliseconds; :class:`SunAltitudes` computes it once per day on a one-minute grid
(vectorized) and interpolates, which agrees with astropy to well under 0.01°. It also
finds when the Sun crosses an altitude (twilights).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
from astropy.coordinates import EarthLocation

_STEP_S = 60.0
_NUDGE_S = 0.25
_DAY_S = 86400.0


class SunAltitudes:
    """Sun altitude (degrees, no refraction) at ``location``, interpolated per minute."""

    def __init__(self, location: EarthLocation) -> None:
        self.location = location
        self._days: dict[int, np.ndarray] = {}

    def _day(self, day: int) -> np.ndarray:
        table = self._days.get(day)
        if table is None:
            import astropy.units as u
            from astropy.coordinates import AltAz, get_sun
            from astropy.time import Time

            import nocturna.core.astro  # noqa: F401  (offline astropy settings)

            seconds = day * _DAY_S + np.arange(0.0, _DAY_S + _STEP_S, _STEP_S)
            times = Time(seconds, format="unix", scale="utc")
            frame = AltAz(obstime=times, location=self.location)
            table = get_sun(times).transform_to(frame).alt.to_value(u.deg)
            self._days[day] = table
            if len(self._days) > 8:
                self._days.pop(next(iter(self._days)))
        return table

    def at(self, when: datetime) -> float:
        """The Sun's altitude in degrees at ``when``."""
        t = when.timestamp()
        day = math.floor(t / _DAY_S)
        position = (t - day * _DAY_S) / _STEP_S
        index = min(int(position), int(_DAY_S / _STEP_S) - 1)
        table = self._day(day)
        fraction = position - index
        return float(table[index] * (1.0 - fraction) + table[index + 1] * fraction)

    def crossing(self, altitude_deg: float, after: datetime, *, rising: bool,
                 within_s: float = 2 * _DAY_S) -> datetime | None:
        """The first time after ``after`` the Sun passes ``altitude_deg`` going up
        (``rising``) or down; None if it does not within ``within_s``."""
        t = after.timestamp()
        end = t + within_s
        previous = self.at(after) - altitude_deg
        while t < end:
            step = min(_STEP_S, end - t)
            now = self.at(datetime.fromtimestamp(t + step, UTC)) - altitude_deg
            crossed = (previous < 0 <= now) if rising else (previous >= 0 > now)
            if crossed:
                fraction = previous / (previous - now) if previous != now else 0.0
                return datetime.fromtimestamp(self._past(t + fraction * step, t + step,
                                                         altitude_deg, rising), UTC)
            previous, t = now, t + step
        return None

    def _past(self, guess: float, limit: float, altitude_deg: float, rising: bool) -> float:
        """The first time from ``guess`` (POSIX s, by steps of :data:`_NUDGE_S`, at most
        ``limit``) at which :meth:`at` has the Sun past ``altitude_deg``: the linear
        guess across a table node can be a hair early, and a caller that sleeps until a
        crossing must then find the Sun past it (not sleep 0 s again and again)."""
        while guess < limit:
            offset = self.at(datetime.fromtimestamp(guess, UTC)) - altitude_deg
            if (offset >= 0) if rising else (offset < 0):
                return guess
            guess += _NUDGE_S
        return limit

    def is_rising(self, when: datetime) -> bool:
        """Whether the Sun is climbing at ``when`` (morning)."""
        return self.at(when + timedelta(minutes=1)) > self.at(when)
