"""Real ``nocturna run`` processes for the runtime tests: start, watch the database, stop."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from ruamel.yaml import YAML

from unit_helpers import FOCUSED, LOOPS_OFF, SMALL_CAMERA

NIGHT_START = "2026-12-15T08:00:00Z"  # 22:00 in Hawaii: dark, fields up


def site_file(root: Path, **extra: object) -> Path:
    """A site file: the small camera in focus, closed loops off, data under ``root``."""
    data = {"data_dir": str(root / "data"), "cameras": [SMALL_CAMERA], "focusers": [FOCUSED],
            "observatory": LOOPS_OFF, **extra}
    path = root / "site.yaml"
    YAML(typ="safe", pure=True).dump(data, path)
    return path


def start_run(site: Path, *args: str, log: Path, simulate: bool = True
              ) -> subprocess.Popen[bytes]:
    """``nocturna --config SITE run [--simulate] ARGS`` in the background (output to
    ``log``)."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "nocturna.cli.main", "--config", str(site), "run", "--no-api",
             *(["--simulate"] if simulate else []), *args],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "COLUMNS": "200"})


def count(data: Path, query: str) -> int:
    """A number from the run's SQLite database (0 while it does not exist yet)."""
    path = data / "nocturna.sqlite"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            return int(db.execute(query).fetchone()[0] or 0)
    except sqlite3.OperationalError:  # schema not created yet
        return 0


def wait_for(condition, process: subprocess.Popen[bytes], timeout_s: float, what: str) -> None:
    """Poll ``condition()`` until true; fail if the process ends first or time runs out."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the run ended (exit {process.returncode}) before {what}")
        if time.monotonic() > deadline:
            process.send_signal(signal.SIGKILL)
            raise AssertionError(f"no {what} within {timeout_s:g} s")
        time.sleep(0.05)


def light_frames(data: Path) -> int:
    return count(data, "select count(*) from exposures where image_type = 'OBJECT'")
