"""astropy never reaches for the network, even for dates past its bundled tables."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

PROBE = textwrap.dedent(
    """
    import json, sys, warnings
    attempts = []

    def hook(event, args):
        if event in ("socket.connect", "socket.getaddrinfo", "urllib.Request"):
            attempts.append(event)

    sys.addaudithook(hook)
    import nocturna  # installs the offline settings
    from datetime import datetime, timedelta, timezone
    from astropy.time import Time
    from astropy.coordinates import AltAz, EarthLocation, SkyCoord
    import astropy.units as u
    from astropy.utils import iers
    from astropy.utils import data

    when = datetime.now(timezone.utc) + timedelta(days=%(days)d)
    site = EarthLocation.from_geodetic(-155.58 * u.deg, 19.54 * u.deg, 3400 * u.m)
    t = Time(when)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lst = t.sidereal_time("apparent", longitude=site.lon)
        altaz = SkyCoord(ra=83.8 * u.deg, dec=-5.4 * u.deg).transform_to(
            AltAz(obstime=t, location=site))
        ut1 = t.ut1.isot
    print(json.dumps({
        "attempts": attempts,
        "lst": float(lst.hour),
        "alt": float(altaz.alt.deg),
        "auto_download": iers.conf.auto_download,
        "auto_max_age": iers.conf.auto_max_age,
        "allow_internet": data.conf.allow_internet,
        "warnings": [str(w.message)[:80] for w in caught],
    }))
    """
)


def run_probe(days: int) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE % {"days": days}],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_six_months_ahead_needs_no_network_and_raises_nothing():
    report = run_probe(days=182)
    assert report["attempts"] == []
    assert 0 <= report["lst"] < 24
    assert -90 <= report["alt"] <= 90
    assert report["auto_download"] is False
    assert report["auto_max_age"] is None
    assert report["allow_internet"] is False


def test_beyond_the_predictions_it_degrades_with_a_warning_not_an_error():
    report = run_probe(days=3 * 365)
    assert report["attempts"] == []
    assert report["warnings"], "expected a degraded-accuracy warning"


def test_importing_nocturna_after_astropy_still_configures_it():
    code = ("import astropy.utils.iers as i, astropy.utils.data as d; import nocturna; "
            "print(i.conf.auto_download, i.conf.auto_max_age, d.conf.allow_internet)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout.split()
    assert out == ["False", "None", "False"]
