"""The local horizon: a default altitude raised by obstructions.

Semantics (the same for the scheduler and for the mount's safety check):

* ``default`` is the lowest altitude to observe at, in every direction.
* Each obstruction is a line of ``[altitude, azimuth]`` points in degrees, in order
  of increasing azimuth. A line may wrap through north: ``[[40, 350], [45, 10]]``
  covers azimuths 350° → 360° and 0° → 10°. Consecutive points with the same azimuth
  make a vertical step. A line spans less than a full turn, or exactly one
  (``[[40, 0], [40, 360]]``).
* An obstruction covers the closed azimuth interval from its first to its last point;
  inside it, its altitude is the linear interpolation between the two points around
  the azimuth (at a step, or a point shared by two segments, the higher one).
* The horizon at an azimuth is the highest of the default and of every obstruction
  covering that azimuth. Outside all obstructions it is the default.
* A position is above the horizon when its altitude is at least the horizon there
  (``alt >= min_altitude(az)``): a target exactly on the line is observable.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nocturna.core.errors import InvalidValueError

Point = Sequence[float]


class Horizon:
    """A default altitude plus obstruction lines, queried with numpy arrays."""

    def __init__(self, default_deg: float = 30.0,
                 obstructions: Iterable[Sequence[Point]] = ()) -> None:
        self.default_deg = float(default_deg)
        if not -90.0 <= self.default_deg <= 90.0:
            raise InvalidValueError(f"horizon default {default_deg!r} is not an altitude "
                                    "between -90 and 90 degrees")
        self.obstructions: list[NDArray[np.float64]] = []
        segments: list[tuple[float, float, float, float]] = []
        for index, line in enumerate(obstructions):
            points = _unwrapped(line, index)
            self.obstructions.append(points)
            for (alt0, az0), (alt1, az1) in itertools.pairwise(points):
                segments.append((az0, az1, alt0, alt1))
        seg = np.array(segments, dtype=float).reshape(-1, 4)
        self._az0, self._az1, self._alt0, self._alt1 = seg.T
        self.max_deg = max([self.default_deg, *(float(p[:, 0].max()) for p in
                                                self.obstructions)])
        """The highest horizon altitude in any direction."""

    @classmethod
    def from_site(cls, site: Any) -> Horizon:
        """The horizon of a configured :class:`~nocturna.core.config.models.Site`."""
        horizon = site.horizon
        return cls(float(horizon.default.to_value("deg")), horizon.obstructions)

    @property
    def has_obstructions(self) -> bool:
        return bool(self.obstructions)

    def min_altitude(self, az_deg: ArrayLike) -> NDArray[np.float64]:
        """The horizon altitude (degrees) at each azimuth (degrees, any turn)."""
        given = np.asarray(az_deg, dtype=float)
        az = np.mod(given, 360.0).ravel()
        result = np.full(az.shape, self.default_deg)
        for az0, az1, alt0, alt1 in zip(self._az0, self._az1, self._alt0, self._alt1,
                                        strict=True):
            span = az1 - az0
            slope = (alt1 - alt0) / span if span > 0 else 0.0
            for shift in (0.0, 360.0):  # a wrapped line reaches past 360°
                query = az + shift
                inside = (query >= az0) & (query <= az1)
                if not inside.any():
                    continue
                # a vertical step (span 0) takes its higher end
                line = alt0 + slope * (query - az0) if span > 0 else max(alt0, alt1)
                result = np.where(inside, np.maximum(result, line), result)
        return result.reshape(given.shape)

    def is_above(self, alt_deg: ArrayLike, az_deg: ArrayLike) -> NDArray[np.bool_]:
        """Whether each (altitude, azimuth) is at or above the horizon."""
        alt = np.asarray(alt_deg, dtype=float)
        above = alt >= self.default_deg
        if not self.obstructions:
            return above
        return alt >= self.min_altitude(az_deg)

    def describe(self) -> str:
        lines = len(self.obstructions)
        return f"horizon {self.default_deg:g}° with {lines} obstruction(s)"


def _unwrapped(line: Sequence[Point], index: int) -> NDArray[np.float64]:
    """An obstruction's points with azimuths made increasing (360° added after a wrap)."""
    where = f"horizon obstruction {index}"
    try:
        points = np.array([[float(alt), float(az)] for alt, az in line], dtype=float)
    except (TypeError, ValueError):
        raise InvalidValueError(f"{where}: expected a list of [altitude, azimuth] points "
                                f"in degrees, got {line!r}") from None
    if len(points) < 2:
        raise InvalidValueError(f"{where}: needs at least two [altitude, azimuth] points")
    if not np.all(np.isfinite(points)):
        raise InvalidValueError(f"{where}: points must be finite numbers")
    if np.any((points[:, 0] < -90) | (points[:, 0] > 90)):
        raise InvalidValueError(f"{where}: altitudes must be between -90 and 90 degrees")
    az = np.mod(points[:, 1], 360.0)
    az[(points[:, 1] == 360.0)] = 360.0  # keep an explicit 360 as the end of a turn
    unwrapped = az.copy()
    offset = 0.0
    for k in range(1, len(az)):
        if az[k] + offset < unwrapped[k - 1]:
            offset += 360.0
        unwrapped[k] = az[k] + offset
    if unwrapped[-1] - unwrapped[0] > 360.0:
        raise InvalidValueError(f"{where}: its azimuths go round more than once; list the "
                                "points in order of increasing azimuth")
    points[:, 1] = unwrapped
    return points
