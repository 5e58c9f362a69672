"""Simulated ``camera expose`` / ``mount slew`` without ``--start``: at night, target up."""

from __future__ import annotations

from datetime import UTC, datetime

import astropy.units as u
import pytest
from astropy.coordinates import AltAz, SkyCoord, get_sun
from astropy.time import Time

from nocturna.cli.main import main
from nocturna.cli.night_start import STEP, simulated_start
from nocturna.core.astro import site_location, zenith_radec_deg
from nocturna.core.config import Config
from nocturna.core.errors import InvalidValueError
from nocturna.images.fits import read_fits

DAY = datetime(2026, 12, 7, 22, 0, tzinfo=UTC)        # noon in Hawaii
NIGHT = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)      # midnight in Hawaii
TWILIGHT = datetime(2026, 12, 7, 4, 40, tzinfo=UTC)   # just after sunset
ORION = (5.5, -5.0)                                   # up around local midnight in December


@pytest.fixture(scope="module")
def site():
    return Config.load(None, environ={}).model.site


def altitudes(site, instant: datetime, ra_hours: float, dec_deg: float) -> tuple[float, float]:
    """(Sun altitude, target altitude) in degrees, straight from astropy."""
    frame = AltAz(obstime=Time(instant), location=site_location(site))
    sun = get_sun(Time(instant)).transform_to(frame).alt.deg
    target = SkyCoord(ra_hours * 15 * u.deg, dec_deg * u.deg).transform_to(frame).alt.deg
    return float(sun), float(target)


def test_at_night_with_the_target_up_it_is_now(site):
    chosen = simulated_start(site, NIGHT, ORION)
    assert chosen.instant == NIGHT and chosen.reason is None


def test_by_day_it_is_the_coming_night(site):
    chosen = simulated_start(site, DAY)
    sun, _ = altitudes(site, chosen.instant, *ORION)
    assert DAY < chosen.instant < DAY.replace(day=8, hour=6)  # the same evening
    assert sun <= -18.0
    assert "the Sun is up" in chosen.note() and "give --start" in chosen.note()
    assert chosen.note().startswith(f"simulated start {chosen.instant:%Y-%m-%dT%H:%MZ}")


def test_by_day_with_a_target_it_is_the_first_dark_moment_the_target_is_up(site):
    chosen = simulated_start(site, DAY, ORION)
    sun, target = altitudes(site, chosen.instant, *ORION)
    assert sun <= -18.0 and target >= 30.0
    sun_before, target_before = altitudes(site, chosen.instant - STEP, *ORION)
    assert sun_before > -18.0 or target_before < 30.0  # five minutes earlier was not usable
    assert "the target is below the horizon" in chosen.note()


def test_in_twilight_it_is_the_end_of_twilight(site):
    chosen = simulated_start(site, TWILIGHT)
    assert "it is twilight" in chosen.note()
    assert (chosen.instant - TWILIGHT).total_seconds() < 3600


def test_a_target_that_is_never_up_at_night_is_a_clear_error(site):
    with pytest.raises(InvalidValueError, match=r"--ra/--dec: RA 17\.0000 h.*give --start"):
        simulated_start(site, NIGHT, (17.0, -20.0))  # beside the Sun in December


def test_camera_expose_without_start_exposes_at_night(capsys, tmp_path):
    code = main(["--data", str(tmp_path), "--set", "cameras[0].width=128",
                 "--set", "cameras[0].height=128", "camera", "expose", "--exptime", "1",
                 "--simulate", "--out", str(tmp_path / "frame.fits")])
    _, err = capsys.readouterr()
    assert code == 0, err
    assert err == "" or (err.count("\n") == 1 and err.startswith("nocturna: simulated start"))
    header = read_fits(tmp_path / "frame.fits")[1]
    site = Config.load(None, environ={}).model.site
    start = datetime.fromisoformat(header["DATE-OBS"]).replace(tzinfo=UTC)
    assert altitudes(site, start, *ORION)[0] <= -18.0


def test_mount_slew_without_start_reaches_a_target_that_is_up_then(capsys, tmp_path):
    site = Config.load(None, environ={}).model.site
    when = simulated_start(site, datetime.now(UTC)).instant
    ra_deg, dec_deg = zenith_radec_deg(site, when)
    code = main(["--data", str(tmp_path), "mount", "slew", "--ra", f"{ra_deg:.3f}d",
                 "--dec", f"{dec_deg:.3f}", "--simulate", "--speed", "1000"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "tracking" in out
