"""Nightly tables against astropy: altitudes within 1″, twilights, the Moon."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import AltAz, NonRotationTransformationWarning, SkyCoord, get_body
from astropy.time import Time

from nocturna.core.astro import site_location
from nocturna.scheduler import Field, Scheduler
from nocturna.scheduler.astrometry import altaz_deg, unit_vectors

N_FIELDS = 200


@pytest.fixture(scope="module")
def sky(site, config):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(2026)
    ra = rng.uniform(0.0, 360.0, N_FIELDS)
    dec = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, N_FIELDS)))
    fields = [Field(f"f{i}", float(ra[i]), float(dec[i])) for i in range(N_FIELDS)]
    scheduler = Scheduler(site, fields, config=config.scheduler)
    window = scheduler.night_window(datetime(2026, 12, 15, 4, 0, tzinfo=UTC))
    tables = scheduler.tables(window)
    times_s = np.arange(window.start.timestamp(), window.end.timestamp(), 600.0)
    times = Time(times_s, format="unix", scale="utc")
    frame = AltAz(obstime=times[None, :], location=site_location(site), pressure=0 * u.hPa)
    reference = SkyCoord(ra * u.deg, dec * u.deg)[:, None].transform_to(frame)
    return scheduler, tables, times_s, reference, ra, dec


def test_altitudes_agree_with_astropy_within_one_arcsecond(sky):
    _, tables, times_s, reference, _, _ = sky
    alt, _ = tables.altaz_at(times_s)
    error = np.abs(alt - reference.alt.deg) * 3600.0
    worst = float(error.max())
    assert worst < 1.0, f"max altitude error {worst:.3f}″ over {error.size} points"


def test_azimuths_agree_with_astropy_within_one_arcsecond_on_the_sky(sky):
    _, tables, times_s, reference, _, _ = sky
    alt, az = tables.altaz_at(times_s)
    daz = (az - reference.az.deg + 180.0) % 360.0 - 180.0
    error = np.abs(daz) * np.cos(np.radians(alt)) * 3600.0
    assert float(error.max()) < 1.0, f"max azimuth error {float(error.max()):.3f}″"


def test_skipping_the_equator_of_date_would_cost_a_third_of_a_degree(sky):
    _, tables, times_s, reference, ra, dec = sky
    frame = tables.frame
    mean = frame.coefficients(unit_vectors(ra, dec))  # J2000 places, sidereal time of date
    alt, _ = altaz_deg(mean, frame.local_era(times_s) - frame.eo)
    assert np.abs(alt - reference.alt.deg).max() > 0.3


def test_best_and_altaz_report_the_same_altitudes(sky):
    scheduler, _, _, _, _, _ = sky
    at = datetime(2026, 12, 15, 9, 17, 23, tzinfo=UTC)
    alt, az = scheduler.altaz(at)
    rows = {f.name: i for i, f in enumerate(scheduler.fields)}
    for ranked in scheduler.best(at, limit=20):
        row = rows[ranked.name]
        assert ranked.alt_deg == pytest.approx(alt[row], abs=1e-5)
        assert ranked.az_deg == pytest.approx(az[row], abs=1e-4)


def test_moon_separation_agrees_with_astropy(sky, site):
    scheduler, _, _, _, ra, dec = sky
    at = datetime(2026, 12, 15, 6, 3, 11, tzinfo=UTC)
    _, instant = scheduler.evaluate(at)
    moon = get_body("moon", Time(at), site_location(site))
    with warnings.catch_warnings():  # separation in the Moon's (GCRS) frame, as astroplan
        warnings.simplefilter("ignore", NonRotationTransformationWarning)
        reference = moon.separation(SkyCoord(ra * u.deg, dec * u.deg)).deg
    error = np.abs(instant.moon_sep_deg - reference) * 3600.0
    assert float(error.max()) < 5.0, f"max Moon separation error {float(error.max()):.2f}″"


def test_night_window_matches_astroplan_twilights(sky, site):
    from astroplan import Observer

    scheduler = sky[0]
    window = scheduler.night_window(datetime(2026, 12, 15, 4, 0, tzinfo=UTC))
    observer = Observer(location=site_location(site))
    middle = Time(window.start) + (Time(window.end) - Time(window.start)) / 2
    evening = observer.sun_set_time(middle, which="previous", horizon=-18 * u.deg)
    morning = observer.sun_rise_time(middle, which="next", horizon=-18 * u.deg)
    flat = site.twilight.flat
    flat_evening = observer.sun_set_time(middle, which="previous", horizon=flat)
    assert abs((Time(window.start) - evening).sec) < 2.0
    assert abs((Time(window.end) - morning).sec) < 2.0
    assert abs((Time(window.flat_start) - flat_evening).sec) < 2.0
    assert window.flat_start < window.start < window.end < window.flat_end
    assert window.start.tzinfo is not None and window.start.utcoffset().total_seconds() == 0


def test_the_night_after_is_chosen_in_daytime_and_the_same_night_inside_it(sky):
    scheduler = sky[0]
    night = scheduler.night_window(datetime(2026, 12, 15, 4, 0, tzinfo=UTC))
    assert scheduler.night_window(datetime(2026, 12, 14, 22, 0, tzinfo=UTC)) == night
    assert scheduler.night_window(datetime(2026, 12, 15, 10, 0, tzinfo=UTC)) == night
    assert scheduler.night_window(night.end) == night  # the end is still in the night
    after = scheduler.night_window(night.end + timedelta(seconds=1))
    assert after.start.date() == datetime(2026, 12, 16).date() and after.start > night.end
    assert scheduler.night_of(datetime(2026, 12, 14).date()) == night


def test_astropy_and_astroplan_stay_offline():
    import astroplan  # noqa: F401  (its import asks for IERS tables)
    from astropy.utils import data, iers

    assert data.conf.allow_internet is False
    assert iers.conf.auto_download is False
