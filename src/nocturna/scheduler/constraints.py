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
from dataclasses import dataclass, field

import numpy as np

from nocturna.scheduler.astrometry import FloatArray
from nocturna.scheduler.horizon import Horizon
from nocturna.scheduler.tables import NightTables

CHUNK = 1024  # fields per block of the night-long matrix
SCORES = ("altitude", "moon", "priority", "visited")


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
    coefficients = tables.coefficients[rows]
    z = tables.basis.T @ coefficients[:, 2, :].T  # (T, n) sine of the altitude
    horizon = limits.horizon
    observable = z >= math.sin(math.radians(horizon.default_deg))
    if horizon.has_obstructions:
        band = observable & (z < math.sin(math.radians(horizon.max_deg)))
        k, i = np.nonzero(band)
        if len(k):
            b = tables.basis[:, k]
            x = np.einsum("ij,ji->i", coefficients[i, 0, :], b)
            y = np.einsum("ij,ji->i", coefficients[i, 1, :], b)
            alt = np.degrees(np.arctan2(z[k, i], np.hypot(x, y)))
            az = np.degrees(np.arctan2(y, -x))
            observable[k, i] = alt >= horizon.min_altitude(az)
    cos_sep = tables.moon_grid @ tables.vectors[rows].T
    observable &= cos_sep <= limits.cos_min_moon_sep
    return observable


def run_until(observable: np.ndarray) -> np.ndarray:
    """(T, n) int32: the first grid index ≥ k where the field is not observable (T if none)."""
    size = observable.shape[0]
    steps = np.arange(size, dtype=np.int32)[:, None]
    index = np.where(observable, np.int32(size), steps)
    return np.minimum.accumulate(index[::-1], axis=0)[::-1]


def extend_until(tables: NightTables, limits: Limits) -> np.ndarray:
    """Compute the matrix for the fields that do not have it yet (all, the first time)."""
    have = 0 if tables.until is None else tables.until.shape[1]
    total = len(tables.vectors)
    parts = [] if tables.until is None else [tables.until]
    for first in range(have, total, CHUNK):
        rows = slice(first, min(first + CHUNK, total))
        parts.append(run_until(observable_matrix(tables, limits, rows)))
    if not parts:
        parts.append(np.zeros((tables.size, 0), dtype=np.int32))
    tables.until = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
    return tables.until


@dataclass
class Instant:
    """Every field's constraints and merit at one instant (arrays over fields)."""

    t_s: float
    in_night: bool
    alt_deg: FloatArray
    horizon_deg: FloatArray
    xyz: FloatArray  # (N, 3) observed cartesian, for azimuths
    moon_sep_deg: FloatArray
    slew_s: FloatArray
    need_s: FloatArray  # slew, pointing correction and the rest of the observation
    until_s: FloatArray  # observable until (horizon, Moon, morning twilight)
    above: np.ndarray
    moon_ok: np.ndarray
    fits: np.ndarray
    finished: np.ndarray
    scores: dict[str, FloatArray] = field(default_factory=dict)
    merit: FloatArray = field(default_factory=lambda: np.empty(0))

    @property
    def feasible(self) -> np.ndarray:
        return self.merit > 0

    def az_deg(self, rows: np.ndarray | slice = slice(None)) -> FloatArray:
        xyz = self.xyz[rows]
        return np.degrees(np.arctan2(xyz[..., 1], -xyz[..., 0])) % 360.0


def evaluate(tables: NightTables, limits: Limits, t_s: float, *, priority: FloatArray,
             remaining_s: FloatArray, visited: FloatArray, finished: np.ndarray,
             current: int | None = None) -> Instant:
    """Constraints and merit of every field of ``tables`` at ``t_s``."""
    n = len(tables.vectors)
    eral = float(tables.frame.local_era(t_s))
    basis = np.array([math.cos(eral), math.sin(eral), 1.0])
    xyz = (tables.coefficients.reshape(n * 3, 3) @ basis).reshape(n, 3)
    alt = np.degrees(np.arctan2(xyz[:, 2], np.hypot(xyz[:, 0], xyz[:, 1])))
    horizon = limits.horizon
    if horizon.has_obstructions:
        h = horizon.min_altitude(np.degrees(np.arctan2(xyz[:, 1], -xyz[:, 0])))
    else:
        h = np.full(n, horizon.default_deg)
    above = alt >= h
    moon = tables.ephemeris.moon_at(t_s)
    cos_sep = np.clip(tables.vectors @ moon, -1.0, 1.0)
    moon_sep = np.degrees(np.arccos(cos_sep))
    moon_ok = cos_sep <= limits.cos_min_moon_sep
    slew = slew_times(tables, limits, eral, current)
    need = slew + limits.pointing_s + remaining_s
    if current is not None:
        need[current] -= limits.pointing_s
    in_night = tables.start_s <= t_s <= tables.end_s
    fits, until_s = _duration(tables, t_s, need, in_night)
    instant = Instant(t_s, in_night, alt, h, xyz, moon_sep, slew, need, until_s, above,
                      moon_ok, fits, finished)
    scores = {
        "altitude": np.clip((alt - h) / np.maximum(90.0 - h, 1e-9), 0.0, 1.0),
        "moon": np.clip((moon_sep - limits.min_moon_sep_deg)
                        / max(90.0 - limits.min_moon_sep_deg, 1e-9), 0.0, 1.0),
        "priority": priority,
        "visited": visited,
    }
    if current is not None:
        scores["visited"] = visited.copy()
        scores["visited"][current] = 1.0
    weights = {name: w for name, w in limits.weights.items() if w > 0}
    total = sum(weights.values())
    if total > 0:
        merit = sum(w * scores[name] for name, w in weights.items()) / total
    else:
        merit = np.ones(n)
    ok = above & moon_ok & fits & ~finished if in_night else np.zeros(n, dtype=bool)
    instant.scores = scores
    instant.merit = np.where(ok, np.maximum(merit, 1e-12), 0.0)
    return instant


def _duration(tables: NightTables, t_s: float, need: FloatArray,
              in_night: bool) -> tuple[np.ndarray, FloatArray]:
    """Whether each field stays observable for ``need`` seconds from ``t_s`` (checked at
    every grid time up to the first one at or after the end), and until when it is."""
    n = len(need)
    if not in_night:
        return np.zeros(n, dtype=bool), np.full(n, tables.end_s)
    inside = t_s + need <= tables.end_s  # done before morning twilight
    k = tables.index_at_or_after(t_s)
    if tables.until is None or k >= tables.size:
        return inside, np.full(n, tables.end_s)
    run = tables.until[k]  # the first grid index from k on where the field is not observable
    last = tables.grid_s[np.maximum(run - 1, 0)]
    until_s = np.where(run >= tables.size, tables.end_s, np.minimum(last, tables.end_s))
    end_index = np.ceil((t_s + need - tables.start_s) / tables.step_s - 1e-9)
    return inside & (run > end_index), until_s


def slew_times(tables: NightTables, limits: Limits, eral: float,
               current: int | None) -> FloatArray:
    """Seconds to slew (both axes at once) and settle: from the current field, else from
    the zenith."""
    if current is None:
        ra0, dec0 = math.degrees(eral) % 360.0, limits.lat_deg
    else:
        ra0, dec0 = tables.cirs_ra_deg[current], tables.cirs_dec_deg[current]
    d_ra = np.abs((tables.cirs_ra_deg - ra0 + 180.0) % 360.0 - 180.0)
    d_dec = np.abs(tables.cirs_dec_deg - dec0)
    slew = np.maximum(d_ra, d_dec) / limits.slew_rate_deg_s + limits.settle_s
    if current is not None:
        slew[current] = 0.0
    return slew
