"""The night: when the Sun crosses the observing and flat-field twilight altitudes."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from nocturna.core.errors import InvalidValueError
from nocturna.scheduler.astrometry import SkyFrame
from nocturna.scheduler.ephemeris import Ephemeris, body_altitudes_deg

log = logging.getLogger(__name__)

_BEFORE_S = 24 * 3600.0  # search the Sun from a day before…
_AFTER_S = 48 * 3600.0  # …to two days after the instant asked about
_REFINE_S = 1.0
_SUN_STEP_S = 1800.0  # the Sun's direction (CIRS) is linear to 1e-8 rad over half an hour


@dataclass(frozen=True)
class NightWindow:
    """One night's bounds (aware UTC datetimes).

    ``start``/``end``: the Sun crosses ``site.twilight.observe`` going down / up
    (science observing); ``flat_start``/``flat_end``: it crosses ``site.twilight.flat``
    (evening flats begin, morning flats end).
    """

    start: datetime
    end: datetime
    flat_start: datetime
    flat_end: datetime

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def contains(self, instant: datetime) -> bool:
        """Whether ``instant`` is in the observing window [start, end]."""
        return self.start <= instant <= self.end


def as_utc(instant: datetime) -> datetime:
    """An aware UTC datetime (a naive one is taken as UTC)."""
    if instant.tzinfo is None:
        return instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC)


def from_posix(t_s: float) -> datetime:
    return datetime.fromtimestamp(round(t_s, 6), UTC)


def find_night(location: object, frame_site: tuple[float, float, float], at_s: float,
               observe_deg: float, flat_deg: float) -> tuple[NightWindow, float]:
    """The night containing ``at_s`` or, in daytime or twilight, the next one; and the
    earliest instant it is the answer for (the end of the night before)."""
    start_s, end_s = at_s - _BEFORE_S, at_s + _AFTER_S
    frame = SkyFrame.for_site(*frame_site, start_s, end_s)
    ephemeris = Ephemeris.compute(location, start_s, end_s, moon=False, step_s=_SUN_STEP_S)
    times = ephemeris.times_s
    altitudes = body_altitudes_deg(frame, ephemeris.sun, times)

    def crossings(level: float, rising: bool) -> list[float]:
        above = altitudes >= level
        edges = np.nonzero(above[1:] != above[:-1])[0]
        found = []
        for k in edges:
            if bool(above[k + 1]) == rising:
                found.append(_refine(frame, ephemeris, times[k], times[k + 1], level))
        return found

    all_mornings = crossings(observe_deg, rising=True)
    mornings = [t for t in all_mornings if t >= at_s - 1e-3]
    evenings = crossings(observe_deg, rising=False)
    day = from_posix(at_s).date()
    if not mornings:
        raise InvalidValueError(f"no night: the Sun does not set below {observe_deg:g}° at "
                                f"this site within two days of {day}")
    end = mornings[0]
    before = [t for t in evenings if t < end]
    if not before:
        raise InvalidValueError(f"no night: the Sun does not set below {observe_deg:g}° "
                                f"before {from_posix(end):%Y-%m-%d %H:%M} UTC")
    start = before[-1]
    earlier = [t for t in all_mornings if t < start]
    valid_from = earlier[-1] if earlier else min(start, at_s)
    flat_starts = [t for t in crossings(flat_deg, rising=False) if t <= start]
    flat_ends = [t for t in crossings(flat_deg, rising=True) if t >= end]
    window = NightWindow(
        start=from_posix(start), end=from_posix(end),
        flat_start=from_posix(flat_starts[-1] if flat_starts else start),
        flat_end=from_posix(flat_ends[0] if flat_ends else end))
    log.debug("night for %s: %s → %s", from_posix(at_s), window.start, window.end)
    return window, valid_from


def _refine(frame: SkyFrame, ephemeris: Ephemeris, t0: float, t1: float,
            level: float) -> float:
    """The crossing of ``level`` between t0 and t1, to a fraction of a second."""
    t = np.arange(t0, t1 + _REFINE_S, _REFINE_S)
    alt = body_altitudes_deg(frame, ephemeris.sun_at(t), t) - level
    sign = alt >= 0
    changes = np.nonzero(sign[1:] != sign[:-1])[0]
    if not len(changes):
        return float(t0)
    k = int(changes[0])
    a, b = alt[k], alt[k + 1]
    return float(t[k] + (t[k + 1] - t[k]) * a / (a - b))
