"""One night's tables: the time grid, the Moon, and every field's geometry.

Built once per night (astropy for the Sun, Moon, UT1 and polar motion; erfa for
apparent places); everything that grows with the number of fields is numpy.
Fields are rows, appended or deleted at run time without recomputing the others.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np

from nocturna.scheduler.astrometry import FloatArray, SkyFrame, altaz_deg, rotation_basis
from nocturna.scheduler.ephemeris import Ephemeris
from nocturna.scheduler.night import NightWindow

log = logging.getLogger(__name__)

_MARGIN_S = 600.0  # ephemeris beyond the window, for instants at its edges


@dataclass(frozen=True)
class SiteGeometry:
    """A site as numbers: WGS84 longitude/latitude (degrees), height (m), and location."""

    lon_deg: float
    lat_deg: float
    height_m: float
    location: object  # astropy EarthLocation

    @classmethod
    def of(cls, site: object) -> SiteGeometry:
        import astropy.units as u

        from nocturna.core.astro import site_location

        location = site_location(site)  # type: ignore[arg-type]
        lon, lat, height = location.to_geodetic("WGS84")
        return cls(float(lon.to_value(u.deg)), float(lat.to_value(u.deg)),
                   float(height.to_value(u.m)), location)

    @property
    def triple(self) -> tuple[float, float, float]:
        return self.lon_deg, self.lat_deg, self.height_m


class NightTables:
    """Grid, Moon and field geometry for one night's observing window."""

    def __init__(self, window: NightWindow, site: SiteGeometry, step_s: float) -> None:
        began = time.perf_counter()
        self.window = window
        self.step_s = float(step_s)
        self.start_s = window.start.timestamp()
        self.end_s = window.end.timestamp()
        count = math.ceil((self.end_s - self.start_s) / self.step_s) + 1
        self.grid_s: FloatArray = self.start_s + self.step_s * np.arange(count)
        self.frame = SkyFrame.for_site(*site.triple, self.start_s, self.end_s)
        self.ephemeris = Ephemeris.compute(site.location, self.start_s - _MARGIN_S,
                                           self.end_s + _MARGIN_S)
        self.basis: FloatArray = rotation_basis(self.frame.local_era(self.grid_s))  # (3, T)
        self.moon_grid: FloatArray = self.ephemeris.moon_at(self.grid_s)  # (T, 3)
        self.vectors: FloatArray = np.empty((0, 3))  # fields' CIRS unit vectors
        self.coefficients: FloatArray = np.empty((0, 3, 3))
        self.vectors_t: FloatArray = np.empty((3, 0))  # the same, one row per axis
        self.x_terms: FloatArray = np.empty((3, 0))  # coefficients of each observed axis,
        self.y_terms: FloatArray = np.empty((3, 0))  # one row per basis term
        self.z_terms: FloatArray = np.empty((3, 0))  # (z: the sine of the altitude)
        self.cirs_ra_deg: FloatArray = np.empty(0)
        self.cirs_dec_deg: FloatArray = np.empty(0)
        self.until: np.ndarray | None = None  # (T, N) int16/32, see constraints.run_until
        log.debug("night tables %s → %s: %d steps in %.3f s", window.start, window.end,
                  count, time.perf_counter() - began)

    @property
    def size(self) -> int:
        """Grid points."""
        return len(self.grid_s)

    def index_at_or_after(self, t_s: float) -> int:
        """The first grid index at or after ``t_s`` (may equal :attr:`size`)."""
        return max(0, math.ceil((t_s - self.start_s) / self.step_s - 1e-9))

    def append_fields(self, ra_deg: FloatArray, dec_deg: FloatArray) -> None:
        """Add rows for new fields (the constraint matrix is extended by the caller)."""
        vectors = self.frame.apparent(ra_deg, dec_deg).reshape(-1, 3)
        self.vectors = np.concatenate([self.vectors, vectors])
        self.coefficients = np.concatenate([self.coefficients,
                                            self.frame.coefficients(vectors)])
        self.cirs_ra_deg = np.concatenate(
            [self.cirs_ra_deg, np.degrees(np.arctan2(vectors[:, 1], vectors[:, 0])) % 360.0])
        self.cirs_dec_deg = np.concatenate(
            [self.cirs_dec_deg, np.degrees(np.arcsin(np.clip(vectors[:, 2], -1.0, 1.0)))])
        self._transposed()

    def _transposed(self) -> None:
        """Contiguous per-axis rows: whole-field sums without a strided gather or BLAS."""
        self.vectors_t = np.ascontiguousarray(self.vectors.T)
        self.x_terms = np.ascontiguousarray(self.coefficients[:, 0, :].T)
        self.y_terms = np.ascontiguousarray(self.coefficients[:, 1, :].T)
        self.z_terms = np.ascontiguousarray(self.coefficients[:, 2, :].T)

    def remove_field(self, row: int) -> None:
        self.vectors = np.delete(self.vectors, row, axis=0)
        self.coefficients = np.delete(self.coefficients, row, axis=0)
        self.cirs_ra_deg = np.delete(self.cirs_ra_deg, row)
        self.cirs_dec_deg = np.delete(self.cirs_dec_deg, row)
        if self.until is not None:
            self.until = np.delete(self.until, row, axis=1)
        self._transposed()

    def altaz_at(self, t_s: float | FloatArray,
                 rows: slice | np.ndarray = slice(None)) -> tuple[FloatArray, FloatArray]:
        """Altitude and azimuth (degrees) of fields (rows) at times: (n, T) arrays."""
        return altaz_deg(self.coefficients[rows], self.frame.local_era(np.atleast_1d(t_s)))
