"""Constraints and merit, vectorized over fields.

Hard constraints (a field failing one scores 0):

* ``night``: the instant is inside the observing window (Sun below
  ``site.twilight.observe``);
* ``horizon``: the field is at or above the local horizon (with obstructions);
* ``moon``: at least ``min_moon_separation`` from the Moon;
* ``duration``: it stays above the horizon and away from the Moon for the slew plus
  the rest of its observation, which also ends before morning twilight;
* ``visited``: its observation is not already finished tonight.

Soft scores, each 0–1: ``altitude`` (0 on the local horizon, 1 at the zenith),
``moon`` (0 at the minimum separation, 1 from 90° on), ``priority`` (the field's
priority over the highest one) and ``visited`` (the fraction of tonight's frames
still to take; the current field keeps 1). The merit is their weighted mean,
with the configured weights, times 0 or 1 for the hard constraints.

The night-long matrix (:func:`run_until`) holds, per grid time and field, the first
grid index from which the field is no longer observable (horizon or Moon): the
``duration`` test at any instant is then one look-up per field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from nocturna.scheduler.astrometry import FloatArray
from nocturna.scheduler.horizon import Horizon
from nocturna.scheduler.tables import NightTables

CHUNK = 256
"""Fields per block of the night-long matrix: small enough that each block's products
stay in cache and on one thread (a large BLAS product spreads over threads, which a
busy machine makes many times slower)."""
SCORES = ("altitude", "moon", "priority", "visited")
_PREFILTER = 1e-5  # sine margin of the cheap horizon test (the norm of the observed
# direction differs from 1 by the diurnal aberration, ~1.5e-6)


@dataclass(frozen=True)
class Limits:
    """What the constraints compare against."""

    horizon: Horizon
    min_moon_sep_deg: float
    weights: dict[str, float]
    slew_rate_deg_s: float
    settle_s: float
    lat_deg: float
    pointing_s: float = 0.0  # a pointing correction after each slew to another field

    @property
    def cos_min_moon_sep(self) -> float:
        return math.cos(math.radians(self.min_moon_sep_deg))


def observable_matrix(tables: NightTables, limits: Limits, rows: slice) -> np.ndarray:
    """(T, n) booleans: field above the horizon and far enough from the Moon."""
    z = tables.basis.T @ tables.z_terms[:, rows]  # (T, n) sine of the altitude
    horizon = limits.horizon
    observable = z >= math.sin(math.radians(horizon.default_deg))
    if horizon.has_obstructions:
        coefficients = tables.coefficients[rows]
        band = observable & (z < math.sin(math.radians(horizon.max_deg)))
        k, i = np.nonzero(band)
        if len(k):
            b = tables.basis[:, k]
            x = np.einsum("ij,ji->i", coefficients[i, 0, :], b)
            y = np.einsum("ij,ji->i", coefficients[i, 1, :], b)
            alt = np.degrees(np.arctan2(z[k, i], np.hypot(x, y)))
            az = np.degrees(np.arctan2(y, -x))
            observable[k, i] = alt >= horizon.min_altitude(az)
    observable &= (tables.moon_grid @ tables.vectors_t[:, rows]) <= limits.cos_min_moon_sep
    return observable


def run_until(observable: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """(T, n): the first grid index ≥ k where the field is not observable (T if none);
    written into ``out`` when given (int16 when the grid allows, else int32)."""
    size = observable.shape[0]
    dtype = out.dtype if out is not None else until_dtype(size)
    steps = np.arange(size, dtype=dtype)[:, None]
    index = np.where(observable, dtype.type(size), steps)
    if out is None:
        return np.minimum.accumulate(index[::-1], axis=0)[::-1]
    np.minimum.accumulate(index[::-1], axis=0, out=out[::-1])
    return out


def until_dtype(size: int) -> np.dtype:
    """The smallest integer type that holds grid indices up to ``size``."""
    return np.dtype(np.int16 if size < np.iinfo(np.int16).max else np.int32)


def extend_until(tables: NightTables, limits: Limits) -> np.ndarray:
    """Compute the matrix for the fields that do not have it yet (all, the first time)."""
    have = 0 if tables.until is None else tables.until.shape[1]
    total = len(tables.vectors)
    until = np.empty((tables.size, total), dtype=until_dtype(tables.size))
    if have:
        until[:, :have] = tables.until
    for first in range(have, total, CHUNK):
        rows = slice(first, min(first + CHUNK, total))
        run_until(observable_matrix(tables, limits, rows), out=until[:, rows])
    tables.until = until
    return until


@dataclass(frozen=True)
class _Inputs:
    """What the merit depends on besides the sky (arrays over fields)."""

    priority: FloatArray
    remaining_s: FloatArray
    visited: FloatArray
    finished: np.ndarray
    current: int | None
    deadline_s: float


class Instant:
    """Every field's constraints and merit at one instant.

    The merit is computed at once, and only for the fields that pass the cheap tests
    (above the default horizon, away from the Moon, not finished); the other arrays
    (all fields) are computed when first read, and :meth:`values` gives them for a few
    rows.
    """

    def __init__(self, tables: NightTables, limits: Limits, t_s: float,
                 inputs: _Inputs) -> None:
        self.tables, self.limits, self.t_s, self.inputs = tables, limits, t_s, inputs
        self.finished = inputs.finished
        self.in_night = bool(tables.start_s <= t_s <= tables.end_s)
        self.eral = float(tables.frame.local_era(t_s))
        self.basis = np.array([math.cos(self.eral), math.sin(self.eral), 1.0])
        self.moon = tables.ephemeris.moon_at(t_s)
        self._cache: dict[str, Any] = {}
        self._known: tuple[np.ndarray, dict[str, Any]] | None = None
        n = len(tables.vectors)
        self.merit = np.zeros(n)
        self.candidates = np.empty(0, dtype=np.intp)
        if not self.in_night or not n:
            return
        z = self._axis(tables.z_terms)
        cos_sep = self._cos_sep(slice(None))
        floor = math.sin(math.radians(limits.horizon.default_deg)) - _PREFILTER
        maybe = (z >= floor) & (cos_sep <= limits.cos_min_moon_sep) & ~inputs.finished
        rows = np.flatnonzero(maybe)
        # whole contiguous rows, then one gather each: cheaper than gathering the terms
        x, y = self._axis(tables.x_terms), self._axis(tables.y_terms)
        values = self.values(rows, x=x[rows], y=y[rows], z=z[rows], cos_sep=cos_sep[rows])
        self._known = (rows, values)
        ok = values["above"] & values["fits"]
        self.candidates = rows[ok]
        self.merit[self.candidates] = np.maximum(values["merit"][ok], 1e-12)

    def _axis(self, terms: FloatArray, rows: np.ndarray | slice = slice(None)) -> FloatArray:
        """One observed cartesian axis of fields ``rows`` (elementwise: no BLAS)."""
        b = self.basis
        return terms[0, rows] * b[0] + terms[1, rows] * b[1] + terms[2, rows]

    def _cos_sep(self, rows: np.ndarray | slice) -> FloatArray:
        vt, m = self.tables.vectors_t, self.moon
        return vt[0, rows] * m[0] + vt[1, rows] * m[1] + vt[2, rows] * m[2]

    # ----------------------------------------------------------- a few rows
    def values(self, rows: np.ndarray | slice, *, x: FloatArray | None = None,
               y: FloatArray | None = None, z: FloatArray | None = None,
               cos_sep: FloatArray | None = None) -> dict[str, Any]:
        """Every constraint and score of fields ``rows`` (arrays over them); the observed
        axes and the Moon's cosine when already known for them."""
        tables, limits, inputs = self.tables, self.limits, self.inputs
        if self._known is not None and isinstance(rows, np.ndarray):
            known = _lookup(*self._known, rows)
            if known is not None:
                return known
        if x is None or y is None or z is None:
            x, y = self._axis(tables.x_terms, rows), self._axis(tables.y_terms, rows)
            z = self._axis(tables.z_terms, rows)
        # arcsin of the normalised z: exact to 0.003″ (at the zenith), and many times
        # faster than arctan2 with hypot
        alt = np.degrees(np.arcsin(np.minimum(z / np.sqrt(x * x + y * y + z * z), 1.0)))
        horizon = limits.horizon
        h = np.full(len(alt), horizon.default_deg)
        if horizon.has_obstructions:  # azimuths only where an obstruction may matter
            band = (alt >= horizon.default_deg) & (alt < horizon.max_deg)
            h[band] = horizon.min_altitude(np.degrees(np.arctan2(y[band], -x[band])))
        if cos_sep is None:
            cos_sep = self._cos_sep(rows)
        moon_sep = np.degrees(np.arccos(np.clip(cos_sep, -1.0, 1.0)))
        index = rows if isinstance(rows, np.ndarray) else np.arange(len(tables.vectors))[rows]
        slew = slew_times(tables, limits, self.eral, inputs.current, index)
        need = slew + limits.pointing_s + inputs.remaining_s[rows]
        visited = inputs.visited[rows]
        if inputs.current is not None:
            here = index == inputs.current
            need[here] -= limits.pointing_s
            visited = np.where(here, 1.0, visited)
        fits, until_s = _duration(tables, self.t_s, need, index, self.in_night,
                                  inputs.deadline_s)
        scores = {
            "altitude": np.clip((alt - h) / np.maximum(90.0 - h, 1e-9), 0.0, 1.0),
            "moon": np.clip((moon_sep - limits.min_moon_sep_deg)
                            / max(90.0 - limits.min_moon_sep_deg, 1e-9), 0.0, 1.0),
            "priority": inputs.priority[rows],
            "visited": visited,
        }
        weights = {name: w for name, w in limits.weights.items() if w > 0}
        total = sum(weights.values())
        merit = sum(w * scores[name] for name, w in weights.items()) / total if total > 0 \
            else np.ones(len(alt))
        return {"x": x, "y": y, "z": z, "alt_deg": alt, "horizon_deg": h, "moon_sep_deg": moon_sep,
                "slew_s": slew, "need_s": need, "until_s": until_s, "above": alt >= h,
                "moon_ok": cos_sep <= limits.cos_min_moon_sep, "fits": fits,
                "scores": scores, "merit": merit}

    # ------------------------------------------------------------ all fields
    def _all(self, key: str) -> Any:
        if not self._cache:
            self._cache = self.values(slice(None))
        return self._cache[key]

    @property
    def feasible(self) -> np.ndarray:
        return self.merit > 0

    @property
    def alt_deg(self) -> FloatArray:
        return self._all("alt_deg")

    @property
    def horizon_deg(self) -> FloatArray:
        return self._all("horizon_deg")

    @property
    def xyz(self) -> FloatArray:
        """(N, 3) observed cartesian (x south, y east, z up), for azimuths."""
        return np.stack([self._all("x"), self._all("y"), self._all("z")], axis=-1)

    @property
    def moon_sep_deg(self) -> FloatArray:
        return self._all("moon_sep_deg")

    @property
    def slew_s(self) -> FloatArray:
        return self._all("slew_s")

    @property
    def need_s(self) -> FloatArray:
        return self._all("need_s")

    @property
    def until_s(self) -> FloatArray:
        return self._all("until_s")

    @property
    def above(self) -> np.ndarray:
        return self._all("above")

    @property
    def moon_ok(self) -> np.ndarray:
        return self._all("moon_ok")

    @property
    def fits(self) -> np.ndarray:
        return self._all("fits")

    @property
    def scores(self) -> dict[str, FloatArray]:
        return self._all("scores")

    def az_deg(self, rows: np.ndarray | slice = slice(None)) -> FloatArray:
        xyz = self.xyz[rows]
        return np.degrees(np.arctan2(xyz[..., 1], -xyz[..., 0])) % 360.0


def _lookup(known_rows: np.ndarray, known: dict[str, Any], rows: np.ndarray
            ) -> dict[str, Any] | None:
    """``known`` (values of the sorted ``known_rows``) for ``rows``, if it has them all."""
    if not len(known_rows):
        return None
    position = np.minimum(np.searchsorted(known_rows, rows), len(known_rows) - 1)
    if not np.array_equal(known_rows[position], rows):
        return None
    return {key: ({name: column[position] for name, column in value.items()}
                  if isinstance(value, dict) else value[position])
            for key, value in known.items()}


def evaluate(tables: NightTables, limits: Limits, t_s: float, *, priority: FloatArray,
             remaining_s: FloatArray, visited: FloatArray, finished: np.ndarray,
             current: int | None = None, deadline_s: float | None = None) -> Instant:
    """Constraints and merit of every field of ``tables`` at ``t_s``; with
    ``deadline_s``, a field must also be done by then."""
    end = tables.end_s if deadline_s is None else min(deadline_s, tables.end_s)
    return Instant(tables, limits, t_s,
                   _Inputs(priority, remaining_s, visited, finished, current, end))


def _duration(tables: NightTables, t_s: float, need: FloatArray, index: np.ndarray,
              in_night: bool, deadline_s: float) -> tuple[np.ndarray, FloatArray]:
    """Whether fields (``index``) stay observable for ``need`` seconds from ``t_s``
    (checked at every grid time up to the first one at or after the end) and are done
    by ``deadline_s``; and until when they are observable."""
    n = len(need)
    if not in_night:
        return np.zeros(n, dtype=bool), np.full(n, tables.end_s)
    inside = t_s + need <= deadline_s
    k = tables.index_at_or_after(t_s)
    if tables.until is None or k >= tables.size:
        return inside, np.full(n, tables.end_s)
    run = tables.until[k, index]  # the first grid index from k where it is not observable
    last = tables.grid_s[np.maximum(run.astype(np.intp) - 1, 0)]
    until_s = np.where(run >= tables.size, tables.end_s, np.minimum(last, tables.end_s))
    end_index = np.ceil((t_s + need - tables.start_s) / tables.step_s - 1e-9)
    return inside & (run > end_index), until_s


def slew_times(tables: NightTables, limits: Limits, eral: float, current: int | None,
               rows: np.ndarray | slice = slice(None)) -> FloatArray:
    """Seconds to slew (both axes at once) and settle to fields ``rows``: from the
    current field, else from the zenith."""
    if current is None:
        ra0, dec0 = math.degrees(eral) % 360.0, limits.lat_deg
    else:
        ra0, dec0 = tables.cirs_ra_deg[current], tables.cirs_dec_deg[current]
    d_ra = np.abs(tables.cirs_ra_deg[rows] - ra0)
    d_ra = np.minimum(d_ra, 360.0 - d_ra)  # the short way round
    d_dec = np.abs(tables.cirs_dec_deg[rows] - dec0)
    slew = np.maximum(d_ra, d_dec) / limits.slew_rate_deg_s + limits.settle_s
    if current is not None:
        index = rows if isinstance(rows, np.ndarray) else np.arange(len(slew))[rows]
        slew[index == current] = 0.0
    return slew
