"""Closed loops on the simulated sky: plate-solve times, pointing iterations, autofocus
accuracy. A report, not a test: prints the distributions and exits 0.

    python bench/closed_loops.py [--fields 16] [--slews 8] [--focus-starts 6]

1. Plate solving: frames of the demo camera (2048² at 10.43″/px, 5.9°) rendered at
   ``--fields`` seeded random positions above Dec −60°, each solved hinted (mount
   position 0.3° off, plate scale ±10 %) and blind, and binned 2 × 2 (the pointing
   loop's default) hinted; wall time and centre error.
2. Pointing: a simulated unit with the demo camera and the simulated mount's default
   error model (0.25° fixed, 20″ scatter) slews to ``--slews`` fields and corrects;
   iterations needed, error after the slew and after correction, wall time per loop.
3. Autofocus: coarse runs from ``--focus-starts`` positions between 26 000 and 34 000
   steps (best focus 30 000); the focus found against the truth.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from nocturna.core.clock import SimClock, use_clock
from nocturna.devices.sim.sky.render import FrameSpec, render_frame
from nocturna.images.solve import PlateSolver, SolveHints
from nocturna.images.wcs import plate_scale_arcsec

SCALE = plate_scale_arcsec(4.3, 85.0)
WHEN = datetime(2026, 12, 15, 10, 0, tzinfo=UTC)
MIDNIGHT = "2026-12-15T10:00:00Z"


def spread(values: list[float], unit: str, digits: int = 2) -> str:
    values = sorted(values)
    p90 = values[min(len(values) - 1, round(0.9 * (len(values) - 1)))]
    def f(value: float) -> str:
        return f"{value:.{digits}f}{unit}"

    return (f"median {f(statistics.median(values))}, p90 {f(p90)}, min {f(values[0])}, "
            f"max {f(values[-1])} (n={len(values)})")


async def solve_times(count: int) -> None:
    rng = random.Random(42)
    solver = PlateSolver()
    times: dict[str, list[float]] = {"hinted": [], "blind": [], "hinted, binned 2×2": []}
    errors: list[float] = []
    failed = 0
    for _ in range(count):
        ra, dec = rng.uniform(0, 360), rng.uniform(-60, 88)
        for binning in (1, 2):
            data = render_frame(FrameSpec(
                ra_deg=ra, dec_deg=dec, time=WHEN, exposure_s=5.0, focal_length_mm=85.0,
                aperture_mm=60.0, pixel_size_um=4.3, psf_fwhm_px=1.6, width=2048,
                height=2048, binning=binning, background_e_per_s_per_px=5.0,
                read_noise_e=3.5, bias_adu=310.0, sensor_seed=1)).data
            hints = SolveHints(ra + 0.3, min(90.0, dec + 0.2), scale_arcsec=SCALE * binning)
            runs = [("hinted", hints), ("blind", None)] if binning == 1 \
                else [("hinted, binned 2×2", hints)]
            for label, hint in runs:
                try:
                    solution = await solver.solve(data, hint)
                except Exception as exc:  # a report: count it and go on
                    failed += 1
                    print(f"  ({ra:.1f}, {dec:+.1f}) {label}: {exc}")
                    continue
                times[label].append(solution.elapsed_s)
                errors.append(solution.separation_arcsec(ra, dec))
    for label, values in times.items():
        print(f"plate solve, {label}: {spread(values, ' s')}")
    print(f"centre error: {spread(errors, '″')}; failures: {failed}")


async def pointing_runs(count: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from nocturna.scheduler import Field, Observation
    from unit_helpers import SMALL_CAMERA, close_unit, make_unit, unit_config

    with tempfile.TemporaryDirectory() as tmp, use_clock(SimClock(MIDNIGHT, speed=100.0)):
        config = unit_config(Path(tmp), cameras=[{**SMALL_CAMERA, "width": 2048,
                                                  "height": 2048}],
                             observatory={"pointing": {"enabled": True}})
        unit = make_unit(config)
        await unit.start()
        rng = random.Random(7)
        iterations, first, last, walls = [], [], [], []
        try:
            await unit.open_up()
            for k in range(count):
                lst = (await unit.mount.state()).sidereal_time_hours * 15.0
                ra, dec = (lst + rng.uniform(-40, 40)) % 360.0, rng.uniform(-10, 60)
                unit.current = Observation(Field(f"f{k}", ra, dec))
                await unit.slew_to_current()
                started = time.perf_counter()
                result = await unit.correct_pointing()
                walls.append(time.perf_counter() - started)
                iterations.append(len(result.iterations))
                if result.initial_error_arcsec is not None:
                    first.append(result.initial_error_arcsec)
                    last.append(result.final_error_arcsec)
                print(f"  slew {k + 1}: {len(result.iterations)} frames, "
                      f"{result.initial_error_arcsec or float('nan'):.0f}″ → "
                      f"{result.final_error_arcsec or float('nan'):.1f}″ ({result.reason})")
        finally:
            await close_unit(unit)
    print(f"pointing frames per slew: {spread([float(i) for i in iterations], '', 0)}")
    print(f"error after the slew:     {spread(first, '″', 0)}")
    print(f"error after correction:   {spread(last, '″', 1)}")
    print(f"wall time per loop:       {spread(walls, ' s')}")


async def focus_runs(count: int) -> None:
    from nocturna.devices.sim.camera import SimCamera
    from nocturna.devices.sim.focuser import SimFocuser
    from nocturna.devices.sim.mount import SimMount
    from nocturna.loops.autofocus import AutofocusSettings, run_autofocus

    site = None
    from nocturna.core.config import Config

    config = Config.load(None, environ={}, load_local=False)
    site = config.model.site
    settings = AutofocusSettings.from_config(config.model.observatory.autofocus)
    errors = []
    for k in range(count):
        start = round(26000 + 8000 * k / max(1, count - 1))
        with use_clock(SimClock(MIDNIGHT, speed=1000.0)) as clock:
            mount = SimMount(latitude_deg=19.54, longitude_deg=-155.58, clock=clock)
            focuser = SimFocuser(position=start, clock=clock)
            camera = SimCamera("cam0", site=site, mount=mount, focuser=focuser, clock=clock)
            for device in (mount, focuser, camera):
                await device.connect()
            await mount.unpark()
            await mount.set_tracking(True)
            lst = (await mount.state()).sidereal_time_hours
            await mount.slew_and_wait(lst, 19.5)
            wall = time.perf_counter()
            result = await run_autofocus(camera, focuser, settings, coarse=True, clock=clock)
            wall = time.perf_counter() - wall
        errors.append(abs(result.best_position - 30000))
        print(f"  start {start}: best {result.best_position} (truth 30000, "
              f"{result.best_position - 30000:+d} steps), {result.frames} frames, "
              f"{wall:.1f} s wall, {result.reason}")
    print(f"autofocus |error|: {spread([float(e) for e in errors], ' steps', 0)} "
          f"(fine step {settings.fine_step})")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fields", type=int, default=16)
    parser.add_argument("--slews", type=int, default=8)
    parser.add_argument("--focus-starts", type=int, default=6)
    args = parser.parse_args()
    await solve_times(args.fields)
    await pointing_runs(args.slews)
    await focus_runs(args.focus_starts)


if __name__ == "__main__":
    asyncio.run(main())
