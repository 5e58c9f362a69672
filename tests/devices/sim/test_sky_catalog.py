"""The simulated sky's star catalog: loading, cone selection, proper motion."""

from __future__ import annotations

import math
import struct
from datetime import UTC, datetime

import numpy as np
import pytest

from nocturna.core.errors import InvalidValueError
from nocturna.devices.sim.sky.catalog import (
    CATALOG_EPOCH_JYEAR,
    CatalogError,
    StarCatalog,
    julian_year,
    load_catalog,
)

BARNARD = 4472832130942575872  # Gaia DR3 source_id
BARNARD_PM_MAS = (-801.551, 10362.394)  # Gaia DR3 pmra*cos(dec), pmdec


@pytest.fixture(scope="module")
def catalog() -> StarCatalog:
    return load_catalog()


def _separation_deg(ra1, dec1, ra2, dec2):
    """Haversine separation: independent of the catalog's dot-product test."""
    ra1, dec1, ra2, dec2 = (np.radians(v) for v in (ra1, dec1, ra2, dec2))
    h = (np.sin((dec2 - dec1) / 2) ** 2
         + np.cos(dec1) * np.cos(dec2) * np.sin((ra2 - ra1) / 2) ** 2)
    return np.degrees(2 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))))


def _write_catalog(path, ra, dec, mag, pmra, pmdec, *, magic=b"GDR3", count=None):
    n = len(ra)
    with open(path, "wb") as f:
        f.write(magic + struct.pack("<IQ", 1, n if count is None else count))
        for i in range(n):
            f.write(struct.pack("<qddfff", i + 1, ra[i], dec[i], mag[i], pmra[i], pmdec[i]))


def test_catalog_covers_the_whole_sky_to_g10(catalog):
    stars = catalog.all_stars()
    assert len(catalog) > 480_000
    assert 9.9 < catalog.faintest_mag <= 10.0
    assert stars.dec_deg.min() < -89.0 and stars.dec_deg.max() > 89.0
    assert catalog.epoch_jyear == CATALOG_EPOCH_JYEAR == 2016.0


@pytest.mark.parametrize(("ra", "dec", "radius"), [
    (84.0, -2.0, 4.03),  # Orion, a 2048 × 2048 field at 10"/px
    (266.4, -29.0, 6.0),  # galactic centre, dense
    (359.8, 10.0, 4.0),  # across RA 0/360
    (120.0, 88.5, 3.0),  # over the north pole
    (300.0, -89.9, 2.0),  # at the south pole
    (10.0, 40.0, 0.2),  # small
])
def test_cone_returns_exactly_the_stars_within_the_radius(catalog, ra, dec, radius):
    stars = catalog.all_stars()
    separation = _separation_deg(stars.ra_deg, stars.dec_deg, ra, dec)
    inside = set(stars.source_id[separation < radius - 1e-9].tolist())
    borderline = set(stars.source_id[np.abs(separation - radius) <= 1e-9].tolist())
    found = catalog.cone(ra, dec, radius)
    got = set(found.source_id.tolist())
    assert len(found) == len(got) > 0
    assert inside <= got
    assert got - inside <= borderline


def test_cone_with_a_magnitude_limit_keeps_only_brighter_stars(catalog):
    everything = catalog.cone(84.0, -2.0, 4.0)
    bright = catalog.cone(84.0, -2.0, 4.0, mag_limit=7.0)
    assert np.all(bright.mag <= 7.0)
    assert set(bright.source_id.tolist()) == set(everything.source_id[everything.mag <= 7.0]
                                                 .tolist())


def test_proper_motion_moves_barnards_star_by_its_published_rate(catalog):
    then = catalog.star(BARNARD, epoch_jyear=2016.0)
    later = catalog.star(BARNARD, epoch_jyear=2036.0)
    assert then.mag[0] == pytest.approx(8.19, abs=0.05)  # it is Barnard's star
    moved_arcsec = 3600 * _separation_deg(then.ra_deg, then.dec_deg, later.ra_deg,
                                          later.dec_deg)[0]
    assert moved_arcsec == pytest.approx(20 * math.hypot(*BARNARD_PM_MAS) / 1000, rel=0.005)
    assert later.dec_deg[0] > then.dec_deg[0]  # it heads north


def test_barnards_star_is_the_fastest_star_of_the_catalog(catalog):
    assert catalog.max_proper_motion_mas_per_yr == pytest.approx(
        math.hypot(*catalog.proper_motion(BARNARD)))


def test_cone_finds_a_fast_star_where_it_has_moved_to(catalog):
    later = catalog.star(BARNARD, epoch_jyear=2036.0)
    at_2036 = catalog.cone(later.ra_deg[0], later.dec_deg[0], 10 / 3600, epoch_jyear=2036.0)
    at_2016 = catalog.cone(later.ra_deg[0], later.dec_deg[0], 10 / 3600, epoch_jyear=2016.0)
    assert BARNARD in at_2036.source_id
    assert BARNARD not in at_2016.source_id


def test_a_star_without_known_proper_motion_keeps_its_catalog_position(catalog):
    star = catalog.cone(84.0, -2.0, 1.0)
    sid = int(star.source_id[0])
    assert catalog.proper_motion(sid) == (0.0, 0.0)
    moved = catalog.star(sid, epoch_jyear=2050.0)
    assert moved.ra_deg[0] == star.ra_deg[0] and moved.dec_deg[0] == star.dec_deg[0]


def test_cone_refuses_a_centre_off_the_sphere(catalog):
    with pytest.raises(InvalidValueError):
        catalog.cone(10.0, 95.0, 1.0)


def test_julian_year_of_j2016_is_2016():
    assert julian_year(datetime(2016, 1, 1, 11, 58, 52, tzinfo=UTC)) == pytest.approx(2016.0,
                                                                                       abs=1e-6)
    assert julian_year(None) == CATALOG_EPOCH_JYEAR
    assert julian_year(2030.5) == 2030.5


def test_catalog_is_loaded_once_per_process():
    assert load_catalog() is load_catalog()


def test_missing_catalog_file_is_a_catalog_error(tmp_path):
    with pytest.raises(CatalogError, match="cannot be read"):
        StarCatalog(tmp_path / "nothing.bin")


def test_file_with_a_bad_header_is_a_catalog_error(tmp_path):
    path = tmp_path / "bad.bin"
    _write_catalog(path, [1.0], [2.0], [5.0], [0.0], [0.0], magic=b"XXXX")
    with pytest.raises(CatalogError, match="header"):
        StarCatalog(path)


def test_truncated_catalog_file_is_a_catalog_error(tmp_path):
    path = tmp_path / "short.bin"
    _write_catalog(path, [1.0, 2.0], [2.0, 3.0], [5.0, 6.0], [0.0, 0.0], [0.0, 0.0], count=3)
    with pytest.raises(CatalogError, match="truncated"):
        StarCatalog(path)


def _synthetic(tmp_path, pmra, pmdec):
    rng = np.random.default_rng(3)
    n = len(pmra)
    path = tmp_path / "synthetic.bin"
    _write_catalog(path, rng.uniform(0, 360, n), rng.uniform(-80, 80, n),
                   rng.uniform(3, 10, n), pmra, pmdec)
    return StarCatalog(path)


def test_genuine_proper_motion_columns_are_used(tmp_path):
    rng = np.random.default_rng(4)
    pmra, pmdec = rng.normal(0, 100, 2000), rng.normal(0, 100, 2000)
    pmra[0], pmdec[0] = 0.0, 3600.0  # 3.6"/yr due north
    catalog = _synthetic(tmp_path, pmra, pmdec)
    assert catalog.file_has_proper_motions
    then, later = catalog.star(1), catalog.star(1, epoch_jyear=2026.0)
    assert 3600 * (later.dec_deg[0] - then.dec_deg[0]) == pytest.approx(36.0, rel=1e-4)


def test_magnitudes_in_the_proper_motion_columns_are_not_taken_for_motions(tmp_path):
    rng = np.random.default_rng(5)
    catalog = _synthetic(tmp_path, rng.uniform(4, 11, 2000), rng.uniform(3, 10, 2000))
    assert not catalog.file_has_proper_motions
    assert catalog.proper_motion(1) == (0.0, 0.0)
