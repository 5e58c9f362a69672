"""The scheduler: which field to observe now, and a plan for the whole night."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np

from nocturna.core.errors import InvalidValueError
from nocturna.scheduler import constraints as con
from nocturna.scheduler.fields import Field
from nocturna.scheduler.horizon import Horizon
from nocturna.scheduler.night import NightWindow, as_utc, find_night, from_posix
from nocturna.scheduler.observation import Observation
from nocturna.scheduler.overheads import Overheads
from nocturna.scheduler.settings import default_config
from nocturna.scheduler.tables import NightTables, SiteGeometry

if TYPE_CHECKING:
    from nocturna.core.config.models import NocturnaConfig, SchedulerConfig, Site
    from nocturna.scheduler.planning import Block

log = logging.getLogger(__name__)

_NIGHTS_KEPT = 3
_VISIT_MARGIN_S = 3600.0  # visits this close to a night's flat twilights count for it


@dataclass(frozen=True)
class Ranked:
    """A field, its merit at an instant (0: fails a hard constraint) and why.

    ``reasons`` holds the soft scores (0–1) the merit is made of; ``failures`` says
    which hard constraints fail, in words (empty when the field is observable).
    """

    field: Field
    score: float
    reasons: dict[str, float]
    failures: tuple[str, ...] = ()
    alt_deg: float = float("nan")
    az_deg: float = float("nan")
    moon_sep_deg: float = float("nan")
    slew_s: float = 0.0
    duration_s: float = 0.0

    @property
    def name(self) -> str:
        return self.field.name


@dataclass
class _NightState:
    """Tonight's progress per field (from recorded visits)."""

    remaining_s: np.ndarray
    remaining_frames: np.ndarray
    total_frames: np.ndarray
    visited: np.ndarray  # fraction of tonight's frames still to take
    finished: np.ndarray
    taken: dict[str, int]


class Scheduler:
    """Fields, constraints and night planning for one site.

    Per night, the Sun, the Moon, the Earth's rotation and every field's apparent
    place are computed once (:class:`~nocturna.scheduler.tables.NightTables`); the
    constraints of all fields at an instant are then a few numpy operations.
    """

    def __init__(self, site: Site, fields: Iterable[Field] = (), *,
                 config: SchedulerConfig | None = None,
                 overheads: Overheads | None = None) -> None:
        self.site = site
        self.config = config if config is not None else default_config()
        self.overheads = overheads if overheads is not None \
            else Overheads.from_scheduler(self.config)
        self.horizon = Horizon.from_site(site)
        self._zone = ZoneInfo(site.timezone)
        self._geometry: SiteGeometry | None = None
        self._fields: list[Field] = []
        self._rows: dict[str, int] = {}
        self._ra = np.empty(0)
        self._dec = np.empty(0)
        self._priority = np.empty(0)
        self._priority_cache: np.ndarray | None = None
        self._total_frames = np.empty(0, dtype=np.int64)
        self._full_s = np.empty(0)
        self._windows: list[tuple[float, NightWindow]] = []  # (valid from, window)
        self._nights: OrderedDict[float, NightTables] = OrderedDict()
        self._states: dict[float, _NightState] = {}
        self._visits: list[tuple[str, float, int]] = []
        self._limits = self._make_limits()
        self._append(list(fields))

    @classmethod
    def from_config(cls, config: NocturnaConfig, fields: Iterable[Field] | None = None,
                    overheads: Overheads | None = None) -> Scheduler:
        """A scheduler for a whole configuration: its site, scheduler section and fields
        (``scheduler.fields_file``, else the built-in demo fields), planning with
        ``overheads`` (see :func:`nocturna.observatory.overheads.unit_overheads`)."""
        from nocturna.scheduler.settings import configured_fields

        chosen = configured_fields(config.scheduler) if fields is None else fields
        return cls(config.site, chosen, config=config.scheduler,
                   overheads=overheads)

    # ------------------------------------------------------------------ fields
    @property
    def fields(self) -> list[Field]:
        """The fields, in the order they were added."""
        return list(self._fields)

    def field(self, name: str) -> Field:
        """The field named ``name``."""
        row = self._rows.get(name)
        if row is None:
            raise InvalidValueError(f"no field named {name!r} (fields: "
                                    f"{', '.join(self._rows) or 'none'})")
        return self._fields[row]

    def add_field(self, field: Field) -> None:
        """Add a field at run time (only its own rows of the nightly tables are computed)."""
        if not isinstance(field, Field):
            raise InvalidValueError(f"expected a Field, got {type(field).__name__}")
        self._append([field])

    def remove_field(self, name: str) -> Field:
        """Remove the field named ``name``; returns it."""
        row = self._rows.get(name)
        if row is None:
            raise InvalidValueError(f"no field named {name!r} to remove (fields: "
                                    f"{', '.join(self._rows) or 'none'})")
        field = self._fields.pop(row)
        self._rows = {f.name: i for i, f in enumerate(self._fields)}
        for attribute in ("_ra", "_dec", "_priority", "_total_frames", "_full_s"):
            setattr(self, attribute, np.delete(getattr(self, attribute), row))
        for tables in self._nights.values():
            tables.remove_field(row)
        self._states.clear()
        self._priority_cache = None
        log.info("field %s removed", name)
        return field

    def _append(self, fields: list[Field]) -> None:
        names = set(self._rows)
        for field in fields:
            if not isinstance(field, Field):
                raise InvalidValueError(f"expected a Field, got {type(field).__name__}")
            if field.name in names:
                raise InvalidValueError(f"a field named {field.name!r} already exists")
            names.add(field.name)
        if not fields:
            return
        overhead = self._overhead_s
        first = len(self._fields)
        self._fields.extend(fields)
        self._rows.update({f.name: first + i for i, f in enumerate(fields)})
        self._ra = np.append(self._ra, [f.ra_deg for f in fields])
        self._dec = np.append(self._dec, [f.dec_deg for f in fields])
        self._priority = np.append(self._priority, [f.priority for f in fields])
        self._total_frames = np.append(self._total_frames, [f.total_frames for f in fields])
        durations: dict[tuple[object, ...], float] = {}  # many fields share their plan
        for f in fields:
            key = (f.exptimes_s, f.min_nexp, f.exp_set_size)
            if key not in durations:
                durations[key] = Observation(f).estimated_duration_s(overhead)
        self._full_s = np.append(self._full_s, [durations[(f.exptimes_s, f.min_nexp,
                                                           f.exp_set_size)] for f in fields])
        for tables in self._nights.values():
            tables.append_fields(self._ra[first:], self._dec[first:])
            if tables.until is not None:
                con.extend_until(tables, self._limits)
        self._states.clear()
        self._priority_cache = None
        if len(fields) == 1:
            log.info("field %s added", fields[0].name)

    # ----------------------------------------------------------- configuration
    @property
    def _overhead_s(self) -> float:
        return self.overheads.frame_s

    @property
    def step_s(self) -> float:
        return float(self.config.time_step.to_value("s"))

    def _make_limits(self) -> con.Limits:
        weights = self.config.weights
        return con.Limits(
            horizon=self.horizon,
            min_moon_sep_deg=float(self.config.min_moon_separation.to_value("deg")),
            weights={name: float(getattr(weights, name)) for name in con.SCORES},
            slew_rate_deg_s=float(self.config.slew_rate.to_value("deg / s")),
            settle_s=float(self.config.settle_time.to_value("s")),
            pointing_s=self.overheads.pointing_s,
            lat_deg=float(self.site.latitude.to_value("deg")))

    @property
    def geometry(self) -> SiteGeometry:
        if self._geometry is None:
            self._geometry = SiteGeometry.of(self.site)
        return self._geometry

    def is_above_horizon(self, alt_deg: float, az_deg: float) -> bool:
        """Whether (altitude, azimuth) in degrees is at or above the local horizon."""
        return bool(np.all(self.horizon.is_above(alt_deg, az_deg)))

    # ------------------------------------------------------------------- night
    def night_window(self, at: datetime) -> NightWindow:
        """The night containing ``at``, or the next one if ``at`` is in daytime/twilight."""
        t_s = as_utc(at).timestamp()
        for valid_from, window in self._windows:
            if valid_from <= t_s <= window.end.timestamp():
                return window
        twilight = self.site.twilight
        window, valid_from = find_night(
            self.geometry.location, self.geometry.triple, t_s,
            float(twilight.observe.to_value("deg")), float(twilight.flat.to_value("deg")))
        self._windows.append((valid_from, window))
        del self._windows[:-8]
        return window

    def night_of(self, evening: date) -> NightWindow:
        """The night that begins on the local evening of ``evening`` (site time zone)."""
        noon = datetime.combine(evening, time(12), self._zone)
        return self.night_window(noon)

    def tables(self, window: NightWindow) -> NightTables:
        """The nightly tables of ``window``, with every field and the constraint matrix."""
        key = window.start.timestamp()
        tables = self._nights.get(key)
        if tables is None:
            tables = NightTables(window, self.geometry, self.step_s)
            tables.append_fields(self._ra, self._dec)
            self._nights[key] = tables
            while len(self._nights) > _NIGHTS_KEPT:
                old, _ = self._nights.popitem(last=False)
                self._states.pop(old, None)
        else:
            self._nights.move_to_end(key)
        if tables.until is None or tables.until.shape[1] != len(self._fields):
            con.extend_until(tables, self._limits)
        return tables

    def _state(self, tables: NightTables) -> _NightState:
        key = tables.start_s
        state = self._states.get(key)
        if state is not None:
            return state
        window = tables.window
        low = window.flat_start.timestamp() - _VISIT_MARGIN_S
        high = window.flat_end.timestamp() + _VISIT_MARGIN_S
        taken: dict[str, int] = {}
        for name, t_s, frames in self._visits:
            if low <= t_s <= high:
                taken[name] = taken.get(name, 0) + frames
        remaining_s = self._full_s.copy()
        remaining_frames = self._total_frames.astype(float)
        visited = np.ones(len(self._fields))
        finished = np.zeros(len(self._fields), dtype=bool)
        for name, frames in taken.items():
            row = self._rows.get(name)
            if row is None:
                continue
            observation = Observation(self._fields[row], frames)
            remaining_s[row] = observation.estimated_duration_s(self._overhead_s)
            remaining_frames[row] = observation.remaining_frames
            visited[row] = observation.remaining_frames / observation.total_frames
            finished[row] = observation.is_finished
        state = _NightState(remaining_s, remaining_frames, self._total_frames, visited,
                            finished, taken)
        self._states[key] = state
        return state

    # ------------------------------------------------------------------ visits
    def record_visit(self, name: str, at: datetime, frames: int) -> None:
        """Count ``frames`` taken of field ``name`` at ``at`` (the "visited" constraint)."""
        if isinstance(frames, bool) or not isinstance(frames, int | np.integer) or frames < 0:
            raise InvalidValueError(f"record_visit: frames must be a whole number >= 0, "
                                    f"got {frames!r}")
        if name not in self._rows:
            log.warning("visit recorded for %r, which is not a field (any more)", name)
        self._visits.append((name, as_utc(at).timestamp(), int(frames)))
        self._states.clear()

    def frames_taken(self, name: str, at: datetime) -> int:
        """Frames of ``name`` recorded in the night of ``at``."""
        tables = self.tables(self.night_window(at))
        return self._state(tables).taken.get(name, 0)

    # ------------------------------------------------------------------ ranking
    def evaluate(self, at: datetime, *, current: str | None = None
                 ) -> tuple[NightTables, con.Instant]:
        """Every field's constraints and merit at ``at`` (arrays in field order)."""
        t_s = as_utc(at).timestamp()
        tables = self.tables(self.night_window(at))
        state = self._state(tables)
        row = self._rows.get(current) if current is not None else None
        if current is not None and row is None:
            log.debug("current field %r is not a field; slews from the zenith", current)
        instant = con.evaluate(tables, self._limits, t_s, priority=self._priority_score(),
                               remaining_s=state.remaining_s, visited=state.visited,
                               finished=state.finished, current=row)
        return tables, instant

    def _priority_score(self) -> np.ndarray:
        if self._priority_cache is None or len(self._priority_cache) != len(self._priority):
            top = float(self._priority.max()) if len(self._priority) else 1.0
            self._priority_cache = self._priority / top
        return self._priority_cache

    def best(self, at: datetime, *, current: str | None = None,
             limit: int | None = None) -> list[Ranked]:
        """Fields ranked best first at ``at``: observable ones by merit, then those that
        fail a hard constraint (score 0, with the failures), highest first."""
        if limit is not None and limit < 1:
            raise InvalidValueError(f"limit must be >= 1, got {limit!r}")
        if not self._fields:
            return []
        tables, instant = self.evaluate(at, current=current)
        order = _ranking(instant, limit)
        state = self._state(tables)
        values = instant.values(order)
        return [self._ranked(tables, instant, state, int(row), values, k)
                for k, row in enumerate(order)]

    def _ranked(self, tables: NightTables, instant: con.Instant, state: _NightState,
                row: int, values: dict[str, Any], k: int) -> Ranked:
        reasons = {name: round(float(column[k]), 6) for name, column in
                   values["scores"].items()}
        xyz = (values["x"][k], values["y"][k])
        return Ranked(
            field=self._fields[row], score=float(instant.merit[row]), reasons=reasons,
            failures=tuple(_failures(tables, instant, state, row, values, k, self._limits,
                                    self._fields[row].name)),
            alt_deg=float(values["alt_deg"][k]),
            az_deg=float(np.degrees(np.arctan2(xyz[1], -xyz[0])) % 360.0),
            moon_sep_deg=float(values["moon_sep_deg"][k]), slew_s=float(values["slew_s"][k]),
            duration_s=float(state.remaining_s[row]))

    # -------------------------------------------------------------------- plan
    def plan(self, night: date | datetime | None = None, *, start: datetime | None = None,
             end: datetime | None = None, current: str | None = None,
             focused: datetime | None = None) -> list[Block]:
        """A greedy plan of the night, set by set as the night decides, with its
        overheads (see :mod:`nocturna.scheduler.planning`).

        ``night``: a local evening date, an instant in the night (or before it), or
        None for the night of ``start`` (else of now). ``start``/``end`` clip it.
        ``focused``: when the unit last focused (None: the night's first autofocus is
        still to come).
        """
        from nocturna.scheduler.planning import greedy_plan

        window = self.resolve_night(night, start)
        tables = self.tables(window)
        begin = max(window.start, as_utc(start)) if start is not None else window.start
        finish = min(window.end, as_utc(end)) if end is not None else window.end
        state = self._state(tables)
        row = self._rows.get(current) if current is not None else None
        return greedy_plan(tables, self._limits, self._fields, self._priority_score(), state,
                           begin.timestamp(), finish.timestamp(), overheads=self.overheads,
                           current=row,
                           focused_s=None if focused is None else as_utc(focused).timestamp())

    def resolve_night(self, night: date | datetime | None,
                      start: datetime | None = None) -> NightWindow:
        """The night meant by a plan's ``night`` argument."""
        if isinstance(night, datetime):
            return self.night_window(night)
        if isinstance(night, date):
            return self.night_of(night)
        if start is not None:
            return self.night_window(start)
        from nocturna.core.clock import now

        return self.night_window(now())

    # ------------------------------------------------------------------ extras
    def altaz(self, at: datetime) -> tuple[np.ndarray, np.ndarray]:
        """Altitude and azimuth (degrees, no refraction) of every field at ``at``."""
        from nocturna.scheduler.astrometry import SkyFrame, altaz_deg

        t_s = as_utc(at).timestamp()
        frame = SkyFrame.for_site(*self.geometry.triple, t_s, t_s)
        coefficients = frame.coefficients(frame.apparent(self._ra, self._dec))
        alt, az = altaz_deg(coefficients, frame.local_era(t_s))
        return alt[:, 0], az[:, 0]

    def describe(self) -> dict[str, Any]:
        return {"fields": len(self._fields), "horizon": self.horizon.describe(),
                "nights_cached": len(self._nights)}


def _ranking(instant: con.Instant, limit: int | None) -> np.ndarray:
    """Row order: feasible by merit (best first), then the rest by altitude."""
    merit = instant.merit
    feasible = instant.candidates
    count = len(merit) if limit is None else min(limit, len(merit))
    if len(feasible) > count:
        if count == 1:
            top = feasible[merit[feasible] == merit[feasible].max()]
            if len(top) == 1:
                return top
        else:
            top = feasible[np.argpartition(-merit[feasible], count - 1)[:count]]
        alt = instant.values(top)["alt_deg"]
        return top[np.lexsort((-alt, -merit[top]))][:count]
    alt = instant.alt_deg
    best = feasible[np.lexsort((-alt[feasible], -merit[feasible]))]
    if len(best) == count:
        return best
    rest = np.flatnonzero(merit <= 0)
    need = count - len(best)
    if need < len(rest):
        rest = rest[np.argpartition(-alt[rest], need - 1)[:need]]
    rest = rest[np.argsort(-alt[rest], kind="stable")]
    return np.concatenate([best, rest])


def _failures(tables: NightTables, instant: con.Instant, state: _NightState, row: int,
              values: dict[str, Any], k: int, limits: con.Limits, name: str) -> list[str]:
    """The hard constraints field ``row`` (item ``k`` of ``values``) fails, in words."""
    if not instant.in_night:
        window = tables.window
        return [f"not dark: observing runs {window.start:%H:%M}–{window.end:%H:%M} UTC"]
    if instant.merit[row] > 0:
        return []
    problems = []
    above, moon_ok = values["above"][k], values["moon_ok"][k]
    if not above:
        xyz = (values["x"][k], values["y"][k])
        az = float(np.degrees(np.arctan2(xyz[1], -xyz[0])) % 360.0)
        problems.append(f"below the horizon: altitude {values['alt_deg'][k]:.1f}° < "
                        f"{values['horizon_deg'][k]:.1f}° at azimuth {az:.1f}°")
    if not moon_ok:
        problems.append(f"too close to the Moon: {values['moon_sep_deg'][k]:.1f}° < "
                        f"{limits.min_moon_sep_deg:g}°")
    if instant.finished[row]:
        problems.append(f"already visited: observation finished tonight "
                        f"({state.taken.get(name, 0)} frames)")
    elif above and moon_ok and not values["fits"][k]:
        until = from_posix(float(values["until_s"][k]))
        problems.append(f"not observable long enough: needs {values['need_s'][k] / 60:.0f} "
                        f"min (slew and pointing included), observable until "
                        f"{until:%H:%M} UTC")
    return problems
