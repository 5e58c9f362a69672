"""The default simulated night: wall time, and the same night under CPU load.

    python bench/night.py            # quiet, then beside two CPU-burning processes

Runs the README's main job, ``nocturna run --simulate`` on the built-in defaults (a
fixed start so both runs see the same night), first on a quiet machine and then with
``--burners`` processes spinning on the CPU beside it. Prints each run's wall time
against the 60 s target, the share of clear dark time spent exposing against 85 %,
and whether the two runs gave the same transitions (time, states, reason) and the same
frames (image id, start time, exposure time): on virtual time, load may only make a
night slower, never different.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

START = "2026-12-15T03:30:00Z"  # before the evening flats at the demo site
TARGET_WALL_S = 60.0
TARGET_EXPOSING = 0.85


def burn(stop: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x += 1


def night(root: Path) -> tuple[float, dict, list, list]:
    """One run: wall seconds, the JSON summary, transitions and frames."""
    summary = root / "summary.json"
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "nocturna.cli.main", "--data", str(root / "data"),
                    "run", "--simulate", "--no-api", "--start", START,
                    "--summary-json", str(summary)],
                   check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - began
    with sqlite3.connect(root / "data" / "nocturna.sqlite") as db:
        transitions = db.execute("select time, from_state, to_state, reason from transitions "
                                 "order by id").fetchall()
        frames = db.execute("select image_id, start_time, exposure_time_s from exposures "
                            "order by image_id").fetchall()
    return wall, json.loads(summary.read_text()), transitions, frames


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--burners", type=int, default=2)
    options = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="nocturna-night-") as tmp:
        for label, burners in (("quiet", 0), (f"{options.burners} CPU burners", options.burners)):
            stop = multiprocessing.Event()
            workers = [multiprocessing.Process(target=burn, args=(stop,))
                       for _ in range(burners)]
            for worker in workers:
                worker.start()
            try:
                root = Path(tmp) / label.replace(" ", "-")
                root.mkdir()
                results[label] = night(root)
            finally:
                stop.set()
                for worker in workers:
                    worker.join()
            wall, summary, transitions, frames = results[label]
            print(f"{label:>16}: {wall:6.1f} s wall (target ≤ {TARGET_WALL_S:.0f} s, ratio "
                  f"{wall / TARGET_WALL_S:.2f}); exposing {100 * summary['efficiency']:.1f} % "
                  f"of {summary['dark_s'] / 3600:.2f} h dark (target ≥ "
                  f"{100 * TARGET_EXPOSING:.0f} %); {len(transitions)} transitions, "
                  f"{len(frames)} frames; parked {summary['parked']}, closed "
                  f"{summary['closed']}", flush=True)
    (_, _, t1, f1), (_, _, t2, f2) = results.values()
    print(f"same transitions: {t1 == t2}; same frames: {f1 == f2}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
