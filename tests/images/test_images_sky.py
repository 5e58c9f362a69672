"""Sidereal time and the Moon for headers: cached samples agree with astropy."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta

import astropy.units as u
import pytest
from astropy.coordinates import AltAz, EarthLocation, SkyCoord, get_body
from astropy.time import Time

from nocturna.images.sky import SkyAtSite

SITE = (19.54, -155.58, 3400.0)


@pytest.mark.parametrize("offset_s", [0, 299, 1000, 30_000])
def test_sky_agrees_with_astropy_between_samples(offset_s):
    sky = SkyAtSite(*SITE)
    when = datetime(2026, 12, 6, 8, 3, tzinfo=UTC) + timedelta(seconds=offset_s)
    now = sky.at(when, 83.8, -5.4)
    location = EarthLocation.from_geodetic(SITE[1] * u.deg, SITE[0] * u.deg, SITE[2] * u.m)
    time = Time(when)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        moon = get_body("moon", time, location)
        altitude = moon.transform_to(AltAz(obstime=time, location=location)).alt.deg
        separation = SkyCoord(83.8 * u.deg, -5.4 * u.deg).separation(
            SkyCoord(moon.ra, moon.dec)).deg
    lst = time.sidereal_time("apparent", longitude=SITE[1] * u.deg).hour
    assert now.lst_h == pytest.approx(lst, abs=0.01 / 3600)  # 10 ms of time
    assert now.moon_altitude_deg == pytest.approx(altitude, abs=0.1)
    assert now.moon_separation_deg == pytest.approx(separation, abs=0.1)
    assert 0.0 <= now.moon_illumination <= 1.0


def test_a_full_moon_is_lit_and_a_new_moon_dark():
    sky = SkyAtSite(*SITE)
    full = sky.at(datetime(2026, 12, 24, 1, 28, tzinfo=UTC))  # full Moon, Dec 2026
    new = sky.at(datetime(2026, 12, 9, 0, 52, tzinfo=UTC))  # new Moon
    assert full.moon_illumination > 0.98 and new.moon_illumination < 0.02
    assert full.moon_separation_deg is None
