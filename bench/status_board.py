"""What the operator control and its status board cost a simulated night.

    python bench/status_board.py              # a 3-hour stretch of the demo night, 3 pairs
    python bench/status_board.py --pairs 1    # quicker, noisier

Runs the same stretch of the default simulated night (virtual time, fixed start and
seed) with and without ``on_control`` (the :class:`UnitControl`, its status board
rebuilt every 0.25 s of real time and on each state change). Pairs alternate so load
on the machine falls on both alike. Prints the wall times, the board's refreshes, the
ratio with/without (the reference is the same night without the board) and whether it
meets the target: the night's wall time grows by at most 5 %. Also checks that the
board did not change the night: the same transitions and frames with and without.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from ruamel.yaml import YAML

from nocturna.core.config import Config
from nocturna.core.storage import Storage
from nocturna.runtime.runner import run

START = datetime(2026, 12, 15, 8, 0, tzinfo=UTC)
UNTIL = datetime(2026, 12, 15, 11, 0, tzinfo=UTC)
TARGET_GROWTH = 0.05


def one_night(root: Path, board: bool) -> tuple[float, int, list, list]:
    """Wall seconds, board refreshes, transitions and frames of one run."""
    site = root / "site.yaml"
    YAML(typ="safe", pure=True).dump({"data_dir": str(root / "data")}, site)
    config = Config.load(site, environ={})
    controls = []
    began = time.perf_counter()
    run(config, simulate=True, start=START, until=UNTIL, signals=False,
        on_control=controls.append if board else None)
    wall = time.perf_counter() - began
    with Storage.open(data_dir=config.data_dir) as storage:
        transitions = [(t.time, t.from_state, t.to_state, t.reason)
                       for t in reversed(storage.list_transitions())]
        frames = sorted((e.image_id, e.start_time) for e in storage.list_exposures())
    return wall, controls[0].board.refreshes if controls else 0, transitions, frames


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=3)
    options = parser.parse_args()
    walls: dict[bool, list[float]] = {False: [], True: []}
    refreshes, same = [], True
    with tempfile.TemporaryDirectory(prefix="nocturna-board-") as tmp:
        for pair in range(options.pairs):
            runs = {}
            for board in (False, True) if pair % 2 == 0 else (True, False):
                root = Path(tmp) / f"{pair}-{int(board)}"
                root.mkdir()
                runs[board] = one_night(root, board)
                walls[board].append(runs[board][0])
            refreshes.append(runs[True][1])
            same &= runs[True][2:] == runs[False][2:]
    without, with_board = statistics.median(walls[False]), statistics.median(walls[True])
    ratio = with_board / without
    print(f"night {START:%H:%M}–{UNTIL:%H:%M}Z on virtual time, {options.pairs} pair(s)")
    print(f"  without the board (reference): {without:.2f} s wall (median)")
    print(f"  with the board:                {with_board:.2f} s wall (median), "
          f"{statistics.median(refreshes):.0f} refreshes")
    print(f"  ratio with/without: {ratio:.3f} (target ≤ {1 + TARGET_GROWTH:.2f}): "
          f"{'met' if ratio <= 1 + TARGET_GROWTH else 'MISSED'}")
    print(f"  same transitions and frames with and without: {'yes' if same else 'NO'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
