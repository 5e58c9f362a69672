"""A field: where to point and what to take there."""

from __future__ import annotations

import math
from dataclasses import dataclass

from nocturna.core.errors import InvalidValueError


class FieldValueError(InvalidValueError):
    """One attribute of a field is invalid; ``attribute`` names it."""

    def __init__(self, attribute: str, problem: str, field_name: str | None = None) -> None:
        self.attribute = attribute
        self.problem = problem
        owner = f"field {field_name!r}: " if field_name else ""
        super().__init__(f"{owner}{attribute}: {problem}")


@dataclass(frozen=True)
class Field:
    """A target on the sky (ICRS, J2000) and the exposures an observation takes of it.

    ``exptimes_s`` and ``filters`` are parallel: set k of an observation is taken in
    ``filters[k % len(filters)]`` with the matching exposure time. A single exposure
    time applies to every filter. An observation is finished after at least
    ``min_nexp`` frames and a whole number of sets of ``exp_set_size`` frames.
    """

    name: str
    ra_deg: float
    dec_deg: float
    priority: float = 1.0
    exptimes_s: tuple[float, ...] = (60.0,)
    filters: tuple[str | None, ...] = (None,)
    min_nexp: int = 10
    exp_set_size: int = 5

    def __post_init__(self) -> None:
        name = self.name
        if not isinstance(name, str) or not name.strip():
            raise FieldValueError("name", f"expected a non-empty text, got {name!r}")
        set_ = object.__setattr__
        set_(self, "name", name.strip())
        ra = _number(self.ra_deg, "ra_deg", name)
        if not 0.0 <= ra <= 360.0:
            raise FieldValueError("ra_deg", f"must be in 0..360 degrees, got {ra:g}", name)
        set_(self, "ra_deg", ra % 360.0)
        dec = _number(self.dec_deg, "dec_deg", name)
        if not -90.0 <= dec <= 90.0:
            raise FieldValueError("dec_deg", f"must be in -90..90 degrees, got {dec:g}", name)
        set_(self, "dec_deg", dec)
        priority = _number(self.priority, "priority", name)
        if not priority > 0:
            raise FieldValueError("priority", f"must be > 0, got {priority:g}", name)
        set_(self, "priority", priority)
        filters = _filters(self.filters, name)
        exptimes = _exptimes(self.exptimes_s, len(filters), name)
        set_(self, "filters", filters)
        set_(self, "exptimes_s", exptimes)
        set_(self, "min_nexp", _count(self.min_nexp, "min_nexp", name))
        set_(self, "exp_set_size", _count(self.exp_set_size, "exp_set_size", name))

    @property
    def total_frames(self) -> int:
        """``min_nexp`` rounded up to a whole number of sets."""
        sets = -(-self.min_nexp // self.exp_set_size)
        return sets * self.exp_set_size

    def set_filter(self, set_index: int) -> tuple[str | None, float]:
        """(filter, exposure time) of set ``set_index`` (sets rotate through filters)."""
        k = set_index % len(self.filters)
        return self.filters[k], self.exptimes_s[k]

    def frame_exptime_s(self, frame_index: int) -> float:
        return self.set_filter(frame_index // self.exp_set_size)[1]


def _number(value: object, attribute: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldValueError(attribute, f"expected a number, got {value!r}", name)
    number = float(value)
    if not math.isfinite(number):
        raise FieldValueError(attribute, f"expected a finite number, got {value!r}", name)
    return number


def _count(value: object, attribute: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise FieldValueError(attribute, f"must be a whole number >= 1, got {value!r}", name)
    return int(value)


def _filters(value: object, name: str) -> tuple[str | None, ...]:
    items = (value,) if value is None or isinstance(value, str) else value
    if not isinstance(items, tuple | list) or not items:
        raise FieldValueError("filters", f"expected a filter name or a non-empty list, "
                              f"got {value!r}", name)
    result: list[str | None] = []
    for item in items:
        if item is not None and (not isinstance(item, str) or not item.strip()):
            raise FieldValueError("filters", f"expected filter names, got {item!r}", name)
        result.append(item.strip() if isinstance(item, str) else None)
    return tuple(result)


def _exptimes(value: object, n_filters: int, name: str) -> tuple[float, ...]:
    items = (value,) if isinstance(value, int | float) else value
    if not isinstance(items, tuple | list) or not items:
        raise FieldValueError("exptimes_s", f"expected seconds or a non-empty list, "
                              f"got {value!r}", name)
    times = []
    for item in items:
        seconds = _number(item, "exptimes_s", name)
        if not seconds > 0:
            raise FieldValueError("exptimes_s", f"must be > 0 s, got {seconds:g}", name)
        times.append(seconds)
    if len(times) == 1:
        return tuple(times) * n_filters
    if len(times) != n_filters:
        raise FieldValueError("exptimes_s", f"{len(times)} exposure times for {n_filters} "
                              "filter(s): give one, or one per filter", name)
    return tuple(times)
