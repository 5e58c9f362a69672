"""Start-up time of the ``nocturna`` command: ``--version`` and ``--help``, whole process.

Run: ``python bench/cli_startup.py [--runs N]``

Each figure is the wall time of a whole process, from start to exit: the installed
``nocturna`` console script beside this Python (else ``python -m nocturna``), and the
reference ``python -c pass`` (the interpreter's own start), run interleaved, medians
of N runs after a warm-up round. Then, once per command, which heavy modules the
process imported (``-X importtime``): none of astropy, numpy, sqlalchemy, pydantic
may be.

Target: each command ≤ 0.25 s. The exit code is 0 whether or not it is met.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 0.25
COMMANDS = (("nocturna --version", ["--version"]), ("nocturna --help", ["--help"]))
HEAVY = ("astropy", "numpy", "sqlalchemy", "pydantic", "ruamel.yaml", "fastapi")


def nocturna_command() -> list[str]:
    """The console script beside this interpreter (what a user runs), else ``-m``."""
    script = Path(sys.executable).with_name("nocturna")
    if script.exists():
        return [sys.executable, str(script)]
    return [sys.executable, "-m", "nocturna"]


def run(command: list[str], cwd: str) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True, timeout=120)
    return time.perf_counter() - start


def heavy_imports(command: list[str], cwd: str) -> list[str]:
    """The heavy top-level packages a process imported (from ``-X importtime``)."""
    result = subprocess.run([command[0], "-X", "importtime", *command[1:]], cwd=cwd,
                            check=True, capture_output=True, text=True, timeout=120)
    names = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()
             if line.startswith("import time:")}
    return [name for name in HEAVY if name in names]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="timed runs of each (default 9)")
    args = parser.parse_args(argv)
    runs = max(1, args.runs)
    nocturna = nocturna_command()
    reference = [sys.executable, "-c", "pass"]
    times: dict[str, list[float]] = {"python -c pass": []}
    times.update({label: [] for label, _ in COMMANDS})

    with tempfile.TemporaryDirectory(prefix="nocturna-bench-") as cwd:  # neutral sys.path[0]
        for round_index in range(runs + 1):  # round 0 warms the disk cache and .pyc files
            measured = {"python -c pass": run(reference, cwd)}
            for label, options in COMMANDS:
                measured[label] = run([*nocturna, *options], cwd)
            if round_index:
                for label, seconds in measured.items():
                    times[label].append(seconds)
        heavy = {label: heavy_imports([*nocturna, *options], cwd) for label, options in COMMANDS}

    print(f"nocturna start-up, whole process ({' '.join(Path(p).name for p in nocturna)}; "
          f"Python {sys.version.split()[0]}; {runs} interleaved runs, medians)")
    print("")
    bare = statistics.median(times["python -c pass"])
    for label, values in times.items():
        median = statistics.median(values)
        ratio = "" if label == "python -c pass" else f"   ×{median / bare:.1f} the reference"
        print(f"  {label:<20} {median * 1e3:8.1f} ms  (min {min(values) * 1e3:6.1f} ms){ratio}")
    print("")
    for label, _ in COMMANDS:
        print(f"  {label:<20} heavy modules imported: {', '.join(heavy[label]) or 'none'}")
    print("")
    for label, _ in COMMANDS:
        median = statistics.median(times[label])
        verdict = "met" if median <= TARGET_S and not heavy[label] else "MISSED"
        print(f"target: {label} ≤ {TARGET_S * 1e3:.0f} ms, no heavy module: {verdict} "
              f"({median * 1e3:.1f} ms; {(median - bare) * 1e3:.1f} ms above python -c pass)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
