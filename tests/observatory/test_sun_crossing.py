"""Twilight crossings: at the time :meth:`SunAltitudes.crossing` gives, the Sun is past
the altitude by the same table :meth:`SunAltitudes.at` reads, so a state that sleeps
until dusk finds it dark (and never sleeps 0 s over and over)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import astropy.units as u
import pytest
from astropy.coordinates import EarthLocation

from nocturna.observatory.sun import SunAltitudes

MAUNA_LOA = EarthLocation(lat=19.54 * u.deg, lon=-155.58 * u.deg, height=3400 * u.m)


@pytest.mark.parametrize("altitude", [-3.0, -12.0, -18.0])
def test_the_sun_is_past_the_altitude_at_its_crossing(altitude):
    sun = SunAltitudes(MAUNA_LOA)
    start = datetime(2026, 12, 15, 3, 0, tzinfo=UTC)  # 17:00 in Hawaii
    for second in range(0, 3600, 7):  # asked from many moments before dusk
        after = start + timedelta(seconds=second)
        dusk = sun.crossing(altitude, after, rising=False)
        assert dusk is not None and sun.at(dusk) < altitude, (after, dusk)
        assert sun.at(dusk - timedelta(seconds=1)) >= altitude - 0.01
        dawn = sun.crossing(altitude, dusk, rising=True)
        assert dawn is not None and sun.at(dawn) >= altitude
