"""Speed of the simulated sky: rendering light frames at ~10"/px.

Run: ``python bench/render.py [--runs N]``

Renders light frames of a dense Milky Way field (Cygnus) and times, median of N runs
after a warm-up, the three stages :func:`render_frame` reports: catalog selection
(cone + projection + fluxes), star stamping (pixel-integrated Gaussian PSFs), and
background + noise (hot pixels, exact shot and read noise, digitisation):

* 2048 × 2048, 9 µm at 186 mm (9.98"/px, 5.7° field), FWHM 2 px: target < 0.3 s;
* the same defocused to FWHM 8 px (autofocus curves): target < 0.3 s;
* 6000 × 4000, 3.76 µm at 77.6 mm (9.99"/px, 16.7° × 11.1°): target < 1.5 s.

Reference, measured in the same run: the straightforward noise model, numpy's
per-pixel ``Generator.poisson`` on the expectation image plus a per-pixel Gaussian for
read noise, on the same frame size; the ratio is its time over our background + noise
stage. The one-off catalog load is printed apart. The exit code is 0 whether or not
a target is met.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass

import numpy as np

from nocturna.devices.sim.sky.background import sky_rate_e_per_s_per_px
from nocturna.devices.sim.sky.catalog import load_catalog
from nocturna.devices.sim.sky.render import FrameSpec, dark_current, render_frame

FIELD = (305.0, 40.0)  # Cygnus, in the Milky Way: many stars


@dataclass(frozen=True)
class Case:
    name: str
    spec: FrameSpec
    target_s: float


def cases() -> list[Case]:
    common = dict(ra_deg=FIELD[0], dec_deg=FIELD[1], time=2026.5, exposure_s=2.0,
                  dark_current_e_per_s=dark_current(-10.0))
    small = FrameSpec(width=2048, height=2048, pixel_size_um=9.0, focal_length_mm=186.0,
                      aperture_mm=66.0, psf_fwhm_px=2.0, **common,
                      background_e_per_s_per_px=sky_rate_e_per_s_per_px(
                          21.0, aperture_mm=66.0, pixel_scale_arcsec=9.98))
    defocused = FrameSpec(**{**small.__dict__, "psf_fwhm_px": 8.0})
    large = FrameSpec(width=6000, height=4000, pixel_size_um=3.76, focal_length_mm=77.6,
                      aperture_mm=28.0, psf_fwhm_px=2.5, **common,
                      background_e_per_s_per_px=sky_rate_e_per_s_per_px(
                          21.0, aperture_mm=28.0, pixel_scale_arcsec=9.99))
    return [Case("2048x2048 FWHM 2 px", small, 0.3),
            Case("2048x2048 FWHM 8 px", defocused, 0.3),
            Case("6000x4000 FWHM 2.5 px", large, 1.5)]


def naive_noise_s(shape: tuple[int, int], background_e: float, runs: int) -> float:
    """Median time of per-pixel Poisson + Gaussian read noise + digitisation."""
    rng = np.random.default_rng(0)
    expectation = np.full(shape, background_e, dtype=np.float32)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        electrons = rng.poisson(expectation).astype(np.float32)
        electrons += 3.0 * rng.standard_normal(shape, dtype=np.float32)
        np.clip(np.floor(electrons + 100.5), 0, 65535).astype(np.uint16)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per figure")
    args = parser.parse_args()

    start = time.perf_counter()
    catalog = load_catalog()
    load_s = time.perf_counter() - start
    print(f"catalog load (once per process): {load_s * 1e3:.0f} ms, {len(catalog):,} stars\n")

    header = (f"{'frame':24} {'stars':>6} {'catalog':>9} {'stamp':>9} {'bg+noise':>9} "
              f"{'total':>9} {'target':>8}  met  {'naive noise':>11} {'ratio':>6}")
    print(header)
    print("-" * len(header))
    for case in cases():
        render_frame(case.spec, 0, catalog=catalog)  # warm-up (hot-pixel map, caches)
        frames = [render_frame(case.spec, seed, catalog=catalog) for seed in range(args.runs)]
        stage = {key: statistics.median(f.timings_s[key] for f in frames)
                 for key in ("catalog", "stamp", "noise", "total")}
        naive = naive_noise_s(frames[0].data.shape, frames[0].background_e,
                              max(3, args.runs // 2))
        met = "yes" if stage["total"] < case.target_s else "NO"
        print(f"{case.name:24} {len(frames[0].stars):>6} {stage['catalog'] * 1e3:>7.1f}ms "
              f"{stage['stamp'] * 1e3:>7.1f}ms {stage['noise'] * 1e3:>7.1f}ms "
              f"{stage['total'] * 1e3:>7.1f}ms {case.target_s * 1e3:>6.0f}ms  {met:>3}  "
              f"{naive * 1e3:>9.0f}ms {naive / stage['noise']:>5.1f}x")
    print("\nratio = naive per-pixel noise (numpy Poisson + Gaussian, measured in this run) "
          "/ our background + noise stage")


if __name__ == "__main__":
    main()
