"""The simulated sky's background: twilight, night, moonlight, photometry."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime

import pytest

from nocturna.devices.sim.sky.background import (
    DARK_SKY_MAG,
    moon_nanolamberts,
    sky_brightness,
    sky_conditions,
    sky_rate_e_per_s_per_px,
    star_rate_e_per_s,
)


def test_moonless_night_sky_at_the_zenith_is_the_dark_site_value():
    assert sky_brightness(-30.0) == pytest.approx(DARK_SKY_MAG, abs=0.01)


def test_twilight_sky_is_much_brighter_than_the_night_sky():
    assert sky_brightness(-8.0) < sky_brightness(-30.0) - 4.0


def test_sky_brightens_steadily_as_the_sun_rises_through_twilight():
    mags = [sky_brightness(alt) for alt in range(-18, 1)]
    assert all(later < earlier for earlier, later in itertools.pairwise(mags))


def test_sky_at_sunrise_is_near_daylight_brightness():
    assert sky_brightness(0.0) < 8.0
    assert sky_brightness(30.0) < 4.0


def test_sky_brightens_toward_the_horizon():
    assert sky_brightness(-30.0, airmass=2.0) < sky_brightness(-30.0, airmass=1.0)


def test_moonlit_sky_near_the_moon_is_brighter_than_far_from_it():
    near = sky_brightness(-30.0, 45.0, 0.9, 15.0, 1.2)
    far = sky_brightness(-30.0, 45.0, 0.9, 110.0, 1.2)
    assert near < far - 0.5


def test_full_moon_brightens_the_sky_more_than_a_crescent():
    assert (moon_nanolamberts(45.0, 1.0, 60.0, 1.2)
            > 10 * moon_nanolamberts(45.0, 0.15, 60.0, 1.2))


def test_moon_below_the_horizon_adds_no_light():
    assert sky_brightness(-30.0, -5.0, 1.0, 30.0) == sky_brightness(-30.0)


def test_full_moon_sky_is_about_nineteenth_magnitude():
    # Krisciunas & Schaefer (1991): a full Moon high up gives V ≈ 18-19.5 mag/arcsec².
    assert 18.0 < sky_brightness(-30.0, 60.0, 1.0, 60.0, 1.1) < 19.5


def test_g0_star_gives_the_zero_point_photon_rate_per_square_metre():
    diameter_mm = 2000.0 / math.sqrt(math.pi)  # 1 m²
    assert star_rate_e_per_s(0.0, aperture_mm=diameter_mm, throughput=1.0) == pytest.approx(1e10)


def test_sky_rate_scales_with_pixel_area():
    one = sky_rate_e_per_s_per_px(21.0, aperture_mm=100.0, pixel_scale_arcsec=5.0)
    two = sky_rate_e_per_s_per_px(21.0, aperture_mm=100.0, pixel_scale_arcsec=10.0)
    assert two == pytest.approx(4 * one)


@pytest.fixture(scope="module")
def mauna_kea():
    from astropy import units as u
    from astropy.coordinates import EarthLocation

    return EarthLocation.from_geodetic(-155.47 * u.deg, 19.82 * u.deg, 4200 * u.m)


def test_conditions_at_local_midnight_have_the_sun_far_below_the_horizon(mauna_kea):
    # 10:00 UTC is midnight in Hawaii (UTC-10).
    conditions = sky_conditions(datetime(2026, 6, 21, 10, tzinfo=UTC), mauna_kea, 250.0, 20.0)
    assert conditions.sun_alt_deg < -40.0
    assert 0.0 <= conditions.moon_illumination <= 1.0
    assert 0.0 <= conditions.moon_separation_deg <= 180.0


def test_conditions_at_local_noon_have_the_sun_up(mauna_kea):
    conditions = sky_conditions(datetime(2026, 6, 21, 22, tzinfo=UTC), mauna_kea, 250.0, 20.0)
    assert conditions.sun_alt_deg > 60.0
    assert conditions.sky_brightness() < 5.0


def test_conditions_give_the_field_airmass(mauna_kea):
    conditions = sky_conditions(datetime(2026, 6, 21, 10, tzinfo=UTC), mauna_kea, 250.0, 20.0)
    assert conditions.airmass == pytest.approx(
        1.0 / math.sin(math.radians(conditions.field_alt_deg)))
