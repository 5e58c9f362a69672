"""Dead time per frame of an observation with one camera vs two on the same mount.

Run: ``python bench/cameras.py [--frames 30] [--exptime 5] [--size 512] [--seed 7]``
(after an untimed warm-up run).

Two measurements, each with one camera (``cam0``) and then with two (``cam0`` and a
second simulated camera ``cam1`` with its own focuser), same seed, same everything
else, in the same run:

* **virtual** (observatory time; cameras reading out in 1 s): a simulated unit on
  virtual time takes sets of one
  observation through the night's own path (``take_set``: checkpoints, dome, lockstep
  of the cameras, FITS files and rows). Dead time per frame = (virtual time elapsed −
  frames × exposure time) / frames, frames being the primary camera's (the plan's).
  The wall time of the whole run (unit start included), per frame, is printed too:
  computing, which costs wall time, not telescope time.
* **real clock**: the instruments alone (``take_in_lockstep``) on the real-time clock
  with 0.5 s exposures and no readout time: dead time per frame = (wall time − frames ×
  exposure time) / frames, the software's own cost per frame. Rendering, headers and
  writes of both cameras compete for the machine's cores.

Target: two cameras' dead time per frame ≤ 1.05 × one camera's (virtual: the telescope
loses no time to the second camera). The real-clock ratio is reported, without target
(it depends on the machine's cores and load). Exit code 0 either way.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from nocturna.core.clock import RealClock, VirtualClock, use_clock
from nocturna.core.config import Config
from nocturna.core.storage import Storage
from nocturna.core.virtualtime import VirtualTimeLoop
from nocturna.devices.factory import build_devices
from nocturna.instrument.build import build_instrument
from nocturna.instrument.instrument import instrument_components
from nocturna.instrument.lockstep import Follower, take_in_lockstep
from nocturna.observatory.build import build_observatory
from nocturna.observatory.observe import take_set
from nocturna.scheduler import Field, Observation

MIDNIGHT = "2026-12-15T10:00:00Z"  # the demo site (Hawaii) at midnight
TARGET_RATIO = 1.05
REAL_EXPTIME_S = 0.5
VIRTUAL_READOUT_S = 1.0
LOOPS_OFF = {"pointing": {"enabled": False}, "autofocus": {"enabled": False},
             "tracking": {"enabled": False}}


def site_config(root: Path, cameras: int, size: int, readout_s: float) -> Config:
    """The default unit with ``cameras`` simulated cameras of ``size``² pixels."""
    camera = {"driver": "sim", "focal_length_mm": 85, "aperture_mm": 60, "width": size,
              "height": size, "readout_s": readout_s}
    entries = [{**camera, "name": "cam0", "primary": True, "filterwheel": "fw0",
                "focuser": "foc0"},
               {**camera, "name": "cam1", "focuser": "foc1"}][:cameras]
    data = {"data_dir": str(root / "data"), "cameras": entries, "observatory": LOOPS_OFF,
            "focusers": [{"name": "foc0", "driver": "sim", "position": 30000},
                         {"name": "foc1", "driver": "sim", "position": 30000}]}
    site = root / "site.yaml"
    YAML(typ="safe", pure=True).dump(data, site)
    return Config.load(site, environ={})


async def observe(config: Config, frames: int, exptime: float,
                  seed: int) -> tuple[float, int, int]:
    """Virtual seconds taken by ``frames`` frames of one overhead field, the frames the
    primary camera wrote and the files of every camera."""
    devices = build_devices(config, simulate=True, seed=seed)
    storage = Storage.open(config.model.storage.url, data_dir=config.data_dir)
    unit = build_observatory(config, devices, storage, fields=[])
    await unit.start()
    try:
        await unit.open_up()
        status = await unit.mount.state()
        field = Field("bench", status.sidereal_time_hours * 15.0, 19.5,
                      exptimes_s=(exptime,), min_nexp=frames, exp_set_size=5)
        unit.scheduler.add_field(field)
        observation = Observation(field)
        unit.observations[field.name] = unit.current = observation
        await unit.slew_to_current()
        began, written = unit.clock.timestamp(), 0
        while not observation.is_finished:
            written += await take_set(unit, observation)
        files = len(storage.list_exposures(image_type="OBJECT"))
        return unit.clock.timestamp() - began, written, files
    finally:
        await unit.stop()
        storage.close()


def virtual_run(cameras: int, frames: int, exptime: float, size: int,
                seed: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        config = site_config(Path(tmp), cameras, size, VIRTUAL_READOUT_S)

        async def main() -> tuple[float, int, int]:
            with use_clock(VirtualClock(MIDNIGHT)):
                return await observe(config, frames, exptime, seed)

        wall = time.perf_counter()
        with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
            elapsed, written, files = runner.run(main())
        wall = time.perf_counter() - wall
    return {"dead": (elapsed - written * exptime) / written, "wall": wall / written,
            "frames": written, "files": files}


async def lockstep_frames(config: Config, frames: int,
                          seed: int) -> tuple[float, int, int]:
    """Wall seconds of ``frames`` frames of every camera in lockstep, the primary's
    frames and the files of every camera."""
    devices = build_devices(config, simulate=True, seed=seed)
    storage = Storage.open(config.model.storage.url, data_dir=config.data_dir)
    instruments = [build_instrument(devices, config, storage, camera=name)
                   for name in devices.cameras]
    groups = [instrument_components(i, [devices.mount] if k == 0 else [])
              for k, i in enumerate(instruments)]
    try:
        for group in groups:
            await group.enable()
        await devices.mount.unpark()
        await devices.mount.set_tracking(True)
        start = time.perf_counter()
        result = await take_in_lockstep(instruments[0],
                                        [Follower(i) for i in instruments[1:]], "OBJECT",
                                        REAL_EXPTIME_S, frames, title="bench")
        wall = time.perf_counter() - start
        files = len(result.lead_ids) + sum(map(len, result.follower_ids.values()))
        return wall, len(result.lead_ids), files
    finally:
        for group in groups:
            await group.standby()
            await group.close()
        storage.close()


def real_run(cameras: int, frames: int, size: int, seed: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        config = site_config(Path(tmp), cameras, size, 0.0)

        async def main() -> tuple[float, int, int]:
            with use_clock(RealClock()):
                return await lockstep_frames(config, frames, seed)

        wall, taken, files = asyncio.run(main())
    return {"dead": (wall - taken * REAL_EXPTIME_S) / taken, "frames": taken,
            "files": files}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30, help="primary frames (default 30)")
    parser.add_argument("--exptime", type=float, default=5.0,
                        help="virtual-time exposure, seconds (default 5)")
    parser.add_argument("--size", type=int, default=512, help="sensor side, pixels")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(f"{args.frames} frames per run, {args.size}x{args.size} sensors, seed {args.seed}")
    figures: dict[str, dict[int, dict[str, Any]]] = {"virtual": {}, "real": {}}
    virtual_run(2, 5, args.exptime, args.size, args.seed)  # warm-up: imports, caches
    real_run(2, 3, args.size, args.seed)
    for cameras in (1, 2):
        figures["virtual"][cameras] = virtual_run(cameras, args.frames, args.exptime,
                                                  args.size, args.seed)
        figures["real"][cameras] = real_run(cameras, args.frames, args.size, args.seed)
    virtual, real = figures["virtual"], figures["real"]
    print(f"\nvirtual time, {args.exptime:g} s exposures, through take_set:")
    for cameras in (1, 2):
        f = virtual[cameras]
        print(f"  {cameras} camera{'s' if cameras > 1 else ' '}: dead {f['dead']:7.3f} s/frame "
              f"(virtual), wall {f['wall'] * 1e3:7.1f} ms/frame ({f['frames']} frames, "
              f"{f['files']} files)")
    ratio = virtual[2]["dead"] / virtual[1]["dead"]
    verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
    print(f"  ratio two/one: dead {ratio:.3f} (target <= {TARGET_RATIO}: {verdict}), "
          f"wall {virtual[2]['wall'] / virtual[1]['wall']:.2f}")
    print(f"\nreal clock, {REAL_EXPTIME_S:g} s exposures, instruments in lockstep:")
    for cameras in (1, 2):
        f = real[cameras]
        print(f"  {cameras} camera{'s' if cameras > 1 else ' '}: dead "
              f"{f['dead'] * 1e3:7.1f} ms/frame ({f['frames']} frames, {f['files']} files)")
    print(f"  ratio two/one: dead {real[2]['dead'] / real[1]['dead']:.2f} (no target)")


if __name__ == "__main__":
    main()
