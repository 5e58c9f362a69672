"""Speed of the scheduler against astroplan and a plain numpy reference, same run.

Run: ``python bench/scheduler.py [--repeats N] [--quick] [--large N]`` (astroplan
must be installed: ``pip install -e ".[test]"``). See bench/README.md.

The demo site (Mauna Loa), the night of 2026-12-14 (local), random fields over the
sky north of -30°, priorities 1-5, each observation 10 × 60 s frames + 10 s per frame
(700 s). Figures (nocturna: median of N repeats; astroplan: one run each, it is slow;
numpy: the plain reference below, interleaved or median of the same repeats):

* constraint matrix, 10 000 fields × the night at 1 min (target ≤ 0.3 s; astroplan
  ``is_observable`` and numpy) and 100 000 fields (≤ 1 s; numpy);
* best field now among 10 000 / 100 000 fields once the nightly tables exist
  (``best(at, limit=1)``; ≤ 0.3 ms / ≤ 3 ms; numpy, and astroplan's scores at 10 000);
* whole-night plan from a fresh scheduler: 1 000 fields (≤ 0.5 s; astroplan
  ``PriorityScheduler``), 10 000 (≤ 0.25 s; numpy, astroplan extrapolated) and
  100 000 (≤ 1.2 s; numpy).

Also prints the largest altitude difference from astropy's AltAz (pressure 0) over
the night for 1 000 fields. Exits 0 whether or not a target is met.
"""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import numpy as np

import nocturna.core.astro  # noqa: F401  (offline astropy before astroplan)
from nocturna.core.config import Config
from nocturna.scheduler import Field, Scheduler
from nocturna.scheduler import constraints as con
from nocturna.scheduler.tables import NightTables

NIGHT = date(2026, 12, 14)
SEED = 2026


def random_fields(count: int, seed: int = SEED) -> list[Field]:
    rng = np.random.default_rng(seed)
    ra = rng.uniform(0.0, 360.0, count)
    dec = np.degrees(np.arcsin(rng.uniform(-0.5, 1.0, count)))
    priority = rng.integers(1, 6, count)
    return [Field(f"f{i}", float(ra[i]), float(dec[i]), priority=float(priority[i]),
                  exptimes_s=(60.0,), min_nexp=10, exp_set_size=5) for i in range(count)]


def median_time(action: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def fmt(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


class Report:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, str, str]] = []

    def add(self, what: str, ours: float, target: float | None, reference: float | None,
            label: str = "astroplan") -> None:
        met = "-" if target is None else ("met" if ours <= target else "MISSED")
        if reference:
            factor = reference / ours
            ratio = f"{factor:.2f}× faster" if factor >= 1 else f"{1 / factor:.2f}× slower"
        else:
            ratio = "-"
        ref = f"{fmt(reference)} {label}" if reference else "-"
        self.rows.append((what, fmt(ours), "-" if target is None else f"≤ {fmt(target)}",
                          met, ref, ratio))

    def print(self) -> None:
        head = ("figure", "nocturna", "target", "", "reference (this run)", "ratio")
        widths = [max(len(r[i]) for r in [head, *self.rows]) for i in range(6)]
        for row in [head, *self.rows]:
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths,
                                                                     strict=True)))


# --- the plain numpy reference: the same constraints, every field, no shortcuts -------


def numpy_matrix(tables: NightTables, limits: con.Limits) -> np.ndarray:
    """Horizon and Moon for every field and grid time, then the run-length table: the
    straightforward way (blocks of 1 024 fields, one matrix product each, concatenated)."""
    parts = []
    horizon = math.sin(math.radians(limits.horizon.default_deg))
    for first in range(0, len(tables.vectors), 1024):
        rows = slice(first, first + 1024)
        z = tables.basis.T @ tables.coefficients[rows, 2, :].T
        observable = (z >= horizon) & \
            ((tables.moon_grid @ tables.vectors[rows].T) <= limits.cos_min_moon_sep)
        size = observable.shape[0]
        index = np.where(observable, size, np.arange(size)[:, None])
        parts.append(np.minimum.accumulate(index[::-1], axis=0)[::-1])
    return np.concatenate(parts, axis=1)


def numpy_merit(tables: NightTables, limits: con.Limits, until: np.ndarray, t_s: float,
                priority: np.ndarray, visited: np.ndarray, remaining_s: np.ndarray,
                current: int | None) -> np.ndarray:
    """Every field's merit at ``t_s`` (0: fails a hard constraint), computed for all."""
    eral = float(tables.frame.local_era(t_s))
    xyz = tables.coefficients @ np.array([math.cos(eral), math.sin(eral), 1.0])
    alt = np.degrees(np.arctan2(xyz[:, 2], np.hypot(xyz[:, 0], xyz[:, 1])))
    h = limits.horizon.default_deg
    moon_sep = np.degrees(np.arccos(np.clip(tables.vectors @ tables.ephemeris.moon_at(t_s),
                                            -1.0, 1.0)))
    if current is None:
        ra0, dec0 = math.degrees(eral) % 360.0, limits.lat_deg
    else:
        ra0, dec0 = tables.cirs_ra_deg[current], tables.cirs_dec_deg[current]
    slew = np.maximum(np.abs((tables.cirs_ra_deg - ra0 + 180.0) % 360.0 - 180.0),
                      np.abs(tables.cirs_dec_deg - dec0)) / limits.slew_rate_deg_s \
        + limits.settle_s
    need = slew + remaining_s
    k = min(tables.index_at_or_after(t_s), tables.size - 1)
    fits = (until[k] > np.ceil((t_s + need - tables.start_s) / tables.step_s - 1e-9)) \
        & (t_s + need <= tables.end_s)
    w = limits.weights
    merit = (w["altitude"] * np.clip((alt - h) / (90.0 - h), 0.0, 1.0)
             + w["moon"] * np.clip((moon_sep - limits.min_moon_sep_deg)
                                   / (90.0 - limits.min_moon_sep_deg), 0.0, 1.0)
             + w["priority"] * priority + w["visited"] * visited) / sum(w.values())
    ok = (alt >= h) & (moon_sep >= limits.min_moon_sep_deg) & fits & (remaining_s > 0)
    return np.where(ok, merit, 0.0)


def numpy_best(tables: NightTables, limits: con.Limits, until: np.ndarray, t_s: float,
               priority: np.ndarray, visited: np.ndarray, remaining_s: np.ndarray) -> int:
    return int(np.argmax(numpy_merit(tables, limits, until, t_s, priority, visited,
                                     remaining_s, None)))


def numpy_plan(scheduler: Scheduler, window) -> int:  # type: ignore[no-untyped-def]
    """A greedy plan the plain way: fresh tables, :func:`numpy_matrix`, then at each free
    moment the best field by :func:`numpy_merit` and its whole observation; blocks."""
    tables = NightTables(window, scheduler.geometry, scheduler.step_s)
    tables.append_fields(scheduler._ra, scheduler._dec)
    limits = scheduler._limits
    until = numpy_matrix(tables, limits)
    priority = scheduler._priority / scheduler._priority.max()
    remaining_s = scheduler._full_s.copy()
    visited = np.ones(len(remaining_s))
    t, current, blocks = tables.start_s, None, 0
    while t < tables.end_s:
        merit = numpy_merit(tables, limits, until, t, priority, visited, remaining_s, current)
        row = int(np.argmax(merit))
        if merit[row] <= 0:
            t += tables.step_s
            continue
        eral = float(tables.frame.local_era(t))
        slew = con.slew_times(tables, limits, eral, current, np.array([row]))[0]
        t += slew + remaining_s[row]
        remaining_s[row] = 0.0
        current, blocks = row, blocks + 1
    return blocks


def astroplan_setup(site):  # type: ignore[no-untyped-def]
    from astroplan import Observer

    from nocturna.core.astro import site_location

    return Observer(location=site_location(site))


def astroplan_constraints():  # type: ignore[no-untyped-def]
    import astropy.units as u
    from astroplan import AltitudeConstraint, AtNightConstraint, MoonSeparationConstraint

    return [AltitudeConstraint(30 * u.deg, 90 * u.deg, boolean_constraint=False),
            MoonSeparationConstraint(min=20 * u.deg),
            AtNightConstraint.twilight_astronomical()]


def coords_of(fields: list[Field]):  # type: ignore[no-untyped-def]
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    return SkyCoord([f.ra_deg for f in fields] * u.deg, [f.dec_deg for f in fields] * u.deg)


def astroplan_best_s(observer, fields: list[Field], instants: list[datetime]) -> float:  # type: ignore[no-untyped-def]
    from astropy.time import Time

    coords = coords_of(fields)
    constraints = astroplan_constraints()
    times = []
    for index, at in enumerate(instants):
        start = time.perf_counter()
        score = np.ones(len(fields))
        for constraint in constraints:
            score = score * np.asarray(constraint(observer, coords, times=Time(at))).reshape(-1)
        int(np.argmax(score))
        if index:  # the first call fills astroplan's caches
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def astroplan_matrix_s(observer, fields: list[Field], start: datetime, end: datetime,  # type: ignore[no-untyped-def]
                       step_s: float) -> float:
    import astropy.units as u
    from astroplan import is_observable
    from astropy.time import Time

    coords = coords_of(fields)
    began = time.perf_counter()
    is_observable(astroplan_constraints()[:2], observer, coords, time_range=Time([start, end]),
                  time_grid_resolution=step_s * u.s)
    return time.perf_counter() - began


def astroplan_plan_s(observer, fields: list[Field], start: datetime, end: datetime) -> float:  # type: ignore[no-untyped-def]
    import astropy.units as u
    from astroplan import FixedTarget
    from astroplan.scheduling import ObservingBlock, PriorityScheduler, Schedule, Transitioner
    from astropy.time import Time

    coords = coords_of(fields)
    blocks = [ObservingBlock(FixedTarget(coords[i], name=f.name), 700 * u.s, int(f.priority))
              for i, f in enumerate(fields)]
    scheduler = PriorityScheduler(constraints=astroplan_constraints(), observer=observer,
                                  transitioner=Transitioner(slew_rate=3 * u.deg / u.s),
                                  time_resolution=60 * u.s)
    began = time.perf_counter()
    scheduler(blocks, Schedule(Time(start), Time(end)))
    return time.perf_counter() - began


def astroplan_plan_in_process(count: int, total: int) -> float:
    """astroplan's PriorityScheduler on the first ``count`` fields, timed in a fresh
    process (no caches left by the other measurements)."""
    command = [sys.executable, __file__, "--astroplan-plan", str(count), "--fields", str(total)]
    result = subprocess.run(command, capture_output=True, text=True, check=True, timeout=3600)
    for line in result.stdout.splitlines():
        if line.startswith("astroplan-seconds "):
            return float(line.split()[1])
    raise RuntimeError(f"no figure from the astroplan process: {result.stdout!r}")


def _astroplan_plan_only(count: int, total: int) -> int:
    config = bench_config()
    observer = astroplan_setup(config.site)
    window = Scheduler(config.site, [], config=config.scheduler).night_of(NIGHT)
    seconds = astroplan_plan_s(observer, random_fields(total)[:count], window.start, window.end)
    print(f"astroplan-seconds {seconds!r}")
    return 0


def altitude_errors_arcsec(scheduler: Scheduler, window) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Largest altitude difference from astropy: all points, and points above the horizon."""
    import astropy.units as u
    from astropy.coordinates import AltAz
    from astropy.time import Time

    from nocturna.core.astro import site_location

    tables = scheduler.tables(window)
    times_s = np.arange(window.start.timestamp(), window.end.timestamp(), 600.0)
    ours, _ = tables.altaz_at(times_s)
    frame = AltAz(obstime=Time(times_s, format="unix")[None, :],
                  location=site_location(scheduler.site), pressure=0 * u.hPa)
    reference = coords_of(scheduler.fields)[:, None].transform_to(frame).alt.deg
    error = np.abs(ours - reference) * 3600.0
    return float(error.max()), float(error[reference > 0].max())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per figure")
    parser.add_argument("--fields", type=int, default=10_000, help="fields (default 10 000)")
    parser.add_argument("--large", type=int, default=100_000,
                        help="the large size, against the numpy reference only (0: skip)")
    parser.add_argument("--quick", action="store_true",
                        help="astroplan's PriorityScheduler at 100 fields only (saves ~45 s)")
    parser.add_argument("--astroplan-plan", type=int, metavar="N", help=argparse.SUPPRESS)
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # astropy/astroplan frame and IERS chatter
    if args.astroplan_plan:
        return _astroplan_plan_only(args.astroplan_plan, args.fields)
    config = bench_config()
    site, settings = config.site, config.scheduler
    try:
        observer = astroplan_setup(site)
    except ImportError:
        print("astroplan is not installed: pip install -e '.[test]'", file=sys.stderr)
        return 0

    many = random_fields(args.fields)
    warm = Scheduler(site, random_fields(50, seed=1), config=settings)
    window = warm.night_of(NIGHT)
    warm.plan(NIGHT)  # warm-up: IERS tables, ephemerides, code paths
    print(f"night {window.start:%Y-%m-%d %H:%M} - {window.end:%H:%M} UTC, "
          f"{args.fields} fields, time step {settings.time_step}")
    report = Report()

    scheduler = Scheduler(site, many, config=settings)
    geometry = scheduler.geometry
    step_s = scheduler.step_s
    tables_s = median_time(lambda: NightTables(window, geometry, step_s), args.repeats)
    tables = NightTables(window, geometry, step_s)
    fields_s = median_time(lambda: NightTables.append_fields(
        _copy_empty(tables), scheduler._ra, scheduler._dec), args.repeats)
    report.add("nightly tables (Sun, Moon, ERA)", tables_s, None, None)
    report.add(f"apparent places, {args.fields} fields", fields_s, None, None)
    tables.append_fields(scheduler._ra, scheduler._dec)
    limits = scheduler._limits
    matrix_s, numpy_matrix_s = matrix_figures(tables, limits, args.repeats)
    print(f"grid: {tables.size} times; measuring astroplan is_observable on it...", flush=True)
    ap_matrix = astroplan_matrix_s(observer, many, window.start, window.end, step_s)
    report.add(f"constraint matrix {args.fields} × {tables.size}", matrix_s, 0.3, ap_matrix)
    report.add("", matrix_s, None, numpy_matrix_s, label="numpy")
    coarse = NightTables(window, geometry, 1800.0)
    coarse.append_fields(scheduler._ra, scheduler._dec)
    coarse_s, _ = matrix_figures(coarse, limits, args.repeats, reference=False)
    ap_coarse = astroplan_matrix_s(observer, many, window.start, window.end, 1800.0)
    report.add(f"constraint matrix {args.fields} × {coarse.size} (0.5 h)", coarse_s, None,
               ap_coarse)

    instants = [window.start + timedelta(seconds=37.0 * k) for k in range(1000)]
    best_s, numpy_best_s = best_figures(scheduler, window, instants)
    print("measuring astroplan's constraint scores at one instant...", flush=True)
    ap_best = astroplan_best_s(observer, many, instants[::100][:6])
    report.add(f"best field now, {args.fields} fields", best_s, 3e-4, ap_best)
    report.add("", best_s, None, numpy_best_s, label="numpy")
    top10 = median_time(lambda: scheduler.best(instants[500], limit=10), args.repeats)
    report.add("  best 10 (with reasons)", top10, None, None)

    plan_figures: dict[int, float] = {}
    for count in (1000, args.fields):
        plan_figures[count] = plan_figure(site, settings, many[:count], args.repeats)
    numpy_plan_s = median_time(lambda: numpy_plan(scheduler, window),
                               max(1, min(args.repeats, 3)))

    sizes = [100] if args.quick else [100, 1000, 3000]
    ap_plan: dict[int, float] = {}
    for count in sizes:
        print(f"measuring astroplan PriorityScheduler at {count} fields (own process)...",
              flush=True)
        ap_plan[count] = astroplan_plan_in_process(count, args.fields)
    for count in (100, 3000):
        if count not in plan_figures:
            plan_figures[count] = plan_figure(site, settings, many[:count], args.repeats,
                                              show=False)
    for count, target in ((100, None), (1000, 0.5), (3000, None)):
        report.add(f"whole-night plan, {count} fields", plan_figures[count], target,
                   ap_plan.get(count))
    extrapolated = exponent = None
    if len(ap_plan) >= 2:
        (small, t_small), (large, t_large) = sorted(ap_plan.items())[-2:]
        exponent = math.log(t_large / t_small) / math.log(large / small)
        extrapolated = t_large * (args.fields / large) ** exponent
    report.add(f"whole-night plan, {args.fields} fields", plan_figures[args.fields], 0.25,
               numpy_plan_s, label="numpy")
    if extrapolated:
        report.add("", plan_figures[args.fields], None, extrapolated,
                   label="astroplan EXTRAPOLATED")
    if args.large:
        large_figures(report, site, settings, window, args.large, args.repeats)

    print()
    report.print()
    print()
    print("numpy: the plain numpy reference of this file (numpy_matrix, numpy_best, "
          "numpy_plan: every field computed at every step, whole observations), same run.")
    if extrapolated is not None:
        print(f"EXTRAPOLATED: astroplan PriorityScheduler at {args.fields} fields was not run; "
              f"its figure is t({large}) × ({args.fields}/{large})^{exponent:.2f}, the growth "
              f"measured between {small} and {large} fields in this run.")
    elif args.quick:
        print("--quick: astroplan PriorityScheduler measured at 100 fields only; no "
              "extrapolation to larger sizes.")
    print(f"POCS (documented, not measured here): 34 ms per field, i.e. "
          f"{0.034 * args.fields:.0f} s to score {args.fields} fields; "
          f"nocturna's best() is {0.034 * args.fields / best_s:,.0f}× faster.")
    accuracy = Scheduler(site, many[:1000], config=settings)
    everywhere, above = altitude_errors_arcsec(accuracy, window)
    print(f"accuracy: largest altitude difference from astropy AltAz (pressure 0), 1 000 "
          f"fields every 10 min of the night: {everywhere:.3f}″ ({above:.3f}″ above the "
          "horizon; the rest is light bending by the Sun, for fields beside it; "
          "requirement < 1″)")
    return 0


def bench_config():  # type: ignore[no-untyped-def]
    """The built-in configuration with 10 s per frame (astroplan's blocks: 700 s)."""
    return Config.load(None, load_local=False, environ={},
                       overrides={"scheduler.overhead": "10 s"}).model


def matrix_figures(tables: NightTables, limits: con.Limits, repeats: int, *,
                   reference: bool = True) -> tuple[float, float | None]:
    """The constraint matrix (nocturna, and the numpy reference), median times."""
    def matrix() -> None:
        tables.until = None
        con.extend_until(tables, limits)

    ours = median_time(matrix, repeats)
    if not reference:
        return ours, None
    numpy_s = median_time(lambda: numpy_matrix(tables, limits), repeats)
    assert np.array_equal(numpy_matrix(tables, limits), tables.until)
    return ours, numpy_s


def best_figures(scheduler: Scheduler, window, instants: list[datetime]  # type: ignore[no-untyped-def]
                 ) -> tuple[float, float]:
    """``best(at, limit=1)`` and the numpy reference at the same instants (interleaved),
    medians; checks that both pick the same field."""
    scheduler.best(window.start + timedelta(hours=1), limit=1)  # builds the tables
    tables = scheduler.tables(window)
    state = scheduler._state(tables)
    priority = scheduler._priority_score()
    ours, reference = [], []
    for at in instants:
        began = time.perf_counter()
        ranked = scheduler.best(at, limit=1)
        middle = time.perf_counter()
        row = numpy_best(tables, scheduler._limits, tables.until, at.timestamp(), priority,
                         state.visited, state.remaining_s)
        reference.append(time.perf_counter() - middle)
        ours.append(middle - began)
        if ranked[0].score > 0:
            assert scheduler.fields[row].name == ranked[0].name, at
    return statistics.median(ours), statistics.median(reference)


def plan_figure(site, settings, fields: list[Field], repeats: int, *,  # type: ignore[no-untyped-def]
                show: bool = True) -> float:
    """A whole-night plan from a fresh scheduler, median time."""
    def fresh_plan() -> None:
        Scheduler(site, fields, config=settings).plan(NIGHT)

    seconds = median_time(fresh_plan, max(1, min(repeats, 3)))
    if show:
        blocks = Scheduler(site, fields, config=settings).plan(NIGHT)
        print(f"plan of {len(fields)} fields: {len(blocks)} blocks, "
              f"{sum(b.frames for b in blocks)} frames", flush=True)
    return seconds


def large_figures(report: Report, site, settings, window, count: int,  # type: ignore[no-untyped-def]
                  repeats: int) -> None:
    """Matrix, best field now and plan for ``count`` fields, against numpy only."""
    print(f"measuring {count} fields...", flush=True)
    fields = random_fields(count, seed=SEED + 1)
    scheduler = Scheduler(site, fields, config=settings)
    tables = NightTables(window, scheduler.geometry, scheduler.step_s)
    tables.append_fields(scheduler._ra, scheduler._dec)
    matrix_s, numpy_matrix_s = matrix_figures(tables, scheduler._limits, max(1, repeats // 2))
    report.add(f"constraint matrix {count} × {tables.size}", matrix_s, 1.0, numpy_matrix_s,
               label="numpy")
    instants = [window.start + timedelta(seconds=370.0 * k) for k in range(100)]
    best_s, numpy_best_s = best_figures(scheduler, window, instants)
    report.add(f"best field now, {count} fields", best_s, 3e-3, numpy_best_s, label="numpy")
    plan_s = plan_figure(site, settings, fields, repeats)
    numpy_plan_s = median_time(lambda: numpy_plan(scheduler, window), 1)
    report.add(f"whole-night plan, {count} fields", plan_s, 1.2, numpy_plan_s, label="numpy")


def _copy_empty(tables: NightTables) -> NightTables:
    """The same night's tables without fields (to time apparent places alone)."""
    import copy

    empty = copy.copy(tables)
    empty.vectors = np.empty((0, 3))
    empty.coefficients = np.empty((0, 3, 3))
    empty.cirs_ra_deg = np.empty(0)
    empty.cirs_dec_deg = np.empty(0)
    empty.until = None
    return empty


if __name__ == "__main__":
    started = datetime.now(UTC)
    code = main()
    print(f"(benchmark took {(datetime.now(UTC) - started).total_seconds():.0f} s)")
    sys.exit(code)
