"""Dead time per frame of an instrument sequence on the simulator.

Run: ``python bench/instrument_dead_time.py [--n 100] [--sizes 2048,512]``

``take_object(exptime=0.001, n=N)`` on a simulated camera with zero readout time, on
the real-time clock, with the whole instrument path: exposure-id reservation in SQLite,
filter/focuser/mount state for the header, header build, FITS write with checksums and
the database row (written behind the next exposure), progress events, and the
component gate (every component ENABLED). Dead time per frame = (wall time − N ×
exptime) / N. Targets: ≤ 10 ms at 512 × 512, ≤ 40 ms at 2048 × 2048 (other sizes: no
target).

The mount points where the sky is up whatever the hour: 1 h east of the meridian at
the site's latitude (about 76° up), computed from the demo site and the current time.

Also measured in the same run, to show where the time goes:

* the camera alone: ``start_exposure`` + ``wait_until_ready`` + ``image`` N times (the
  simulator renders the frame: sky, stars, noise, which is the "readout" here);
* the instrument with the writer at depth 1 (one frame saving while the next is
  exposed) instead of the default 2 (two frames may be saving at once).

References, measured in the same run on a frame of the same size:

* numpy noise: the straightforward noise model (numpy's per-pixel ``Generator.poisson``
  on the expectation image, a per-pixel Gaussian for read noise, digitisation to
  uint16) at the camera's background level, i.e. the bare cost of generating the same
  noisy frame (from ``bench/render.py``);
* astropy write: ``astropy.io.fits.writeto`` of the frame, a plain file with a minimal
  header (no checksums, no fsync, no database row).

The exit code is 0 whether or not a target is met.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from astropy.io import fits

from nocturna.core.clock import RealClock, use_clock
from nocturna.core.config import Config
from nocturna.core.config.models import Site
from nocturna.core.storage import Storage
from nocturna.devices.camera import CameraImage
from nocturna.devices.sim.camera import SimCamera, SimCameraModel
from nocturna.devices.sim.equatorial import (
    apparent_to_j2000,
    hadec_to_altaz,
    local_sidereal_deg,
)
from nocturna.devices.sim.filterwheel import SimFilterWheel
from nocturna.devices.sim.focuser import SimFocuser
from nocturna.devices.sim.mount import SimMount
from nocturna.instrument.frame import FrameContext, Optics
from nocturna.instrument.instrument import Instrument, instrument_components
from render import naive_noise_s  # bench/render.py: the same reference noise model

EXPTIME = 0.001
TARGETS_MS = {512: 10.0, 2048: 40.0}
HOUR_ANGLE_DEG = -15.0  # 1 h east of the meridian: rising, no meridian flip for an hour


def pointing(site: Site, t: float) -> tuple[float, float, float]:
    """(RA hours, Dec degrees) J2000 of a point that is up at POSIX time ``t``, and its
    altitude: hour angle ``HOUR_ANGLE_DEG`` at the site's latitude."""
    latitude = site.latitude.to_value("deg")
    lst = local_sidereal_deg(t, site.longitude.to_value("deg"))
    ra, dec = apparent_to_j2000(lst - HOUR_ANGLE_DEG, latitude, t)
    altitude, _ = hadec_to_altaz(HOUR_ANGLE_DEG, latitude, latitude)
    return ra / 15.0, dec, altitude


async def build(size: int, data_dir: Path, writer_depth: int, site: Site):
    mount = SimMount(latitude_deg=site.latitude.to_value("deg"),
                     longitude_deg=site.longitude.to_value("deg"),
                     elevation_m=site.elevation.to_value("m"),
                     slew_rate_deg_s=90.0, slew_settle_time_s=0.0)
    focuser = SimFocuser(position=30_000)
    wheel = SimFilterWheel("fw0")
    model = SimCameraModel(width=size, height=size, readout_s=0.0, fast_readout_s=0.0,
                           readout_overhead_s=0.0)
    camera = SimCamera("cam0", model=model, site=site, mount=mount, focuser=focuser,
                       filterwheel=wheel)
    storage = Storage.open(data_dir=data_dir)
    context = FrameContext(camera=camera, site=site, optics=Optics(), mount=mount,
                           focuser=focuser, filterwheel=wheel, unit_name="bench")
    instrument = Instrument(camera, storage=storage, data_dir=data_dir, context=context,
                            timezone=site.timezone, writer_depth=writer_depth)
    group = instrument_components(instrument, [mount])
    await group.enable()
    await mount.unpark()
    await mount.set_tracking(True)
    ra_hours, dec_deg, _ = pointing(site, time.time())
    await mount.slew_and_wait(ra_hours, dec_deg)
    return instrument, group, storage


async def camera_only(camera: SimCamera, n: int) -> tuple[float, CameraImage]:
    """Wall time of ``n`` frames of the camera alone, and the last image."""
    start = time.perf_counter()
    for _ in range(n):
        await camera.start_exposure(EXPTIME, True)
        await camera.wait_until_ready(EXPTIME)
        image = await camera.image()
    return time.perf_counter() - start, image


def astropy_write_s(data: np.ndarray, directory: Path, runs: int) -> float:
    """Median time of ``astropy.io.fits.writeto`` of ``data`` (plain, no checksum)."""
    times = []
    for k in range(runs):
        path = directory / f"reference-{k}.fits"
        start = time.perf_counter()
        fits.writeto(path, data)
        times.append(time.perf_counter() - start)
        path.unlink()
    return statistics.median(times)


async def measure(size: int, n: int, site: Site) -> dict[str, float]:
    figures: dict[str, float] = {}
    for depth in (2, 1):
        with tempfile.TemporaryDirectory() as tmp:
            instrument, group, storage = await build(size, Path(tmp), depth, site)
            try:
                await instrument.take_object(EXPTIME, 10)  # warm-up: caches, first files
                start = time.perf_counter()
                ids = await instrument.take_object(EXPTIME, n)
                wall = time.perf_counter() - start
                assert len(ids) == n and len(storage.list_exposures()) == n + 10
                figures[f"depth{depth}"] = (wall - n * EXPTIME) / n
                if depth == 2:
                    wall, image = await camera_only(instrument.camera, n)
                    figures["camera"] = (wall - n * EXPTIME) / n
                    runs = max(5, min(n, 20))
                    sky_e = image.extra["sky_e_per_s_per_px"] * EXPTIME
                    figures["numpy"] = naive_noise_s(image.data.shape, sky_e, runs)
                    figures["astropy"] = astropy_write_s(image.data, Path(tmp), runs)
            finally:
                await group.standby()
                await group.close()
                storage.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="frames per run (default 100)")
    parser.add_argument("--sizes", default="2048,512",
                        help="square sensor sizes in pixels (default 2048,512)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    site = Config.load(environ={}).model.site
    ra_hours, dec_deg, altitude = pointing(site, time.time())
    print(f"take_object(exptime={EXPTIME}, n={args.n}), zero readout time, real-time clock")
    print(f"pointing: RA {ra_hours:.3f} h, Dec {dec_deg:+.2f}° (J2000), 1 h east of the "
          f"meridian of {site.name}, {altitude:.0f}° up")
    print(f"{'sensor':>11} {'dead/frame':>11} {'target':>15} {'writer depth 1':>15} "
          f"{'camera alone':>13} {'numpy noise':>12} {'astropy write':>14}")
    rows = []
    with use_clock(RealClock()):
        for size in sizes:
            f = asyncio.run(measure(size, args.n, site))
            dead = f["depth2"]
            target = TARGETS_MS.get(size)
            verdict = "none" if target is None else (
                f"≤{target:.0f} ms {'met' if dead * 1e3 <= target else 'missed'}")
            print(f"{size:>5}x{size:<5} {dead * 1e3:>8.2f} ms {verdict:>15} "
                  f"{f['depth1'] * 1e3:>12.2f} ms {f['camera'] * 1e3:>10.2f} ms "
                  f"{f['numpy'] * 1e3:>9.2f} ms {f['astropy'] * 1e3:>11.2f} ms")
            rows.append((size, f))
    print("\nratios, measured in this run (dead time per frame / reference):")
    for size, f in rows:
        print(f"{size:>5}x{size:<5} dead / numpy noise {f['depth2'] / f['numpy']:.2f}, "
              f"camera alone / numpy noise {f['camera'] / f['numpy']:.2f}, "
              f"dead / astropy write {f['depth2'] / f['astropy']:.2f}")
    print("numpy noise: per-pixel Generator.poisson + Gaussian read noise + digitisation of "
          "a frame of the same size and background; astropy write: fits.writeto of the "
          "frame (no checksum, no fsync)")


if __name__ == "__main__":
    main()
