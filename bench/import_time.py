"""Import time of ``import nocturna``, and what it pulls in.

Run: ``python bench/import_time.py [--runs N]``

* ``python -X importtime -c "import nocturna"``: the cumulative time of the
  ``nocturna`` import as Python itself measures it, and its heaviest modules;
* wall time of ``python -c "import nocturna"`` minus that of ``python -c "pass"``
  (the interpreter's own start), median of N interleaved runs after a warm-up;
* whether astropy.coordinates, fastapi, starlette or sqlalchemy were imported
  (they must not be).

Target: < 0.3 s. The references, POCS (1.58 s) and pyobs (2.4 s), are documented
figures: those packages are not installed here, so their ratios are not measured in
this run. The exit code is 0 whether or not the target is met.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

TARGET_S = 0.3
DOCUMENTED_S = {"POCS": 1.58, "pyobs": 2.4}  # documented, not measured here
MUST_NOT_IMPORT = ("astropy.coordinates", "fastapi", "starlette", "sqlalchemy")
FOR_INFORMATION = ("astropy", "astropy.units", "numpy", "pydantic", "ruamel.yaml", "typer",
                   "uvicorn", "rich")


@dataclass(frozen=True)
class ImportLine:
    """One line of ``-X importtime``: times in microseconds, depth by indentation."""

    self_us: int
    cumulative_us: int
    depth: int
    name: str


def python(code: str, *flags: str, cwd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *flags, "-c", code], capture_output=True,
                          text=True, check=True, cwd=cwd, timeout=120)


def parse_importtime(stderr: str) -> list[ImportLine]:
    lines = []
    for raw in stderr.splitlines():
        if not raw.startswith("import time:") or "self [us]" in raw:
            continue
        self_us, cumulative_us, name = raw.removeprefix("import time:").split("|", 2)
        depth = (len(name) - len(name.lstrip(" ")) - 1) // 2
        lines.append(ImportLine(int(self_us), int(cumulative_us), depth, name.strip()))
    return lines


def nocturna_subtree(lines: list[ImportLine]) -> list[ImportLine]:
    """The lines of the top-level ``nocturna`` import (children are listed first)."""
    end = next(i for i, line in enumerate(lines) if line.depth == 0 and line.name == "nocturna")
    start = end
    while start > 0 and lines[start - 1].depth > 0:
        start -= 1
    return lines[start:end + 1]


def wall_times(runs: int, cwd: str) -> tuple[list[float], list[float]]:
    """Interleaved wall times (s) of ``pass`` and ``import nocturna``, after a warm-up."""
    bare: list[float] = []
    full: list[float] = []
    for i in range(runs + 1):
        for code, into in (("pass", bare), ("import nocturna", full)):
            start = time.perf_counter()
            python(code, cwd=cwd)
            if i > 0:  # the first round warms the disk cache and the .pyc files
                into.append(time.perf_counter() - start)
    return bare, full


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each (default 7)")
    args = parser.parse_args(argv)
    runs = max(1, args.runs)

    with tempfile.TemporaryDirectory(prefix="nocturna-bench-") as cwd:  # neutral sys.path[0]
        bare, full = wall_times(runs, cwd)
        traces = [parse_importtime(python("import nocturna", "-X", "importtime", cwd=cwd).stderr)
                  for _ in range(runs)]
        probe = ("import sys, json; before = set(sys.modules); import nocturna; "
                 "print(json.dumps([sorted(sys.modules), sorted(set(sys.modules) - before)]))")
        modules, added = json.loads(python(probe, cwd=cwd).stdout)

    import nocturna

    print(f"import time of nocturna {nocturna.__version__} "
          f"(Python {sys.version.split()[0]}, {runs} runs, medians)")

    subtrees = [nocturna_subtree(trace) for trace in traces]
    cumulative = statistics.median(tree[-1].cumulative_us for tree in subtrees) / 1e6
    print("")
    print("-X importtime")
    print(f"  import nocturna, cumulative:     {cumulative * 1e3:8.1f} ms")
    heaviest = sorted(subtrees[0][:-1], key=lambda line: line.self_us, reverse=True)[:8]
    print(f"  heaviest modules (self time, run 1 of {runs}):")
    for line in heaviest:
        print(f"    {line.self_us / 1e3:7.2f} ms  {line.name}")

    bare_s, full_s = statistics.median(bare), statistics.median(full)
    net = max(full_s - bare_s, 0.0)
    print("")
    print("wall time (subprocess, including process start)")
    for label, median, times in (("python -c 'pass'", bare_s, bare),
                                 ("python -c 'import nocturna'", full_s, full)):
        print(f"  {label:<31}  {median * 1e3:8.1f} ms   (min {min(times) * 1e3:.1f} ms)")
    print(f"  {'net import nocturna':<31}  {net * 1e3:8.1f} ms")

    print("")
    print(f"modules: {len(added)} imported by nocturna (of {len(modules)} loaded in all)")
    loaded = set(modules)
    forbidden = [name for name in MUST_NOT_IMPORT if name in loaded]
    for name in MUST_NOT_IMPORT:
        print(f"  {name:<22} {'IMPORTED (must not be)' if name in loaded else 'not imported'}")
    extra = [name for name in FOR_INFORMATION if name in loaded]
    print(f"  for information, loaded: {', '.join(extra) or 'none'} "
          f"(checked: {', '.join(FOR_INFORMATION)})")

    print("")
    worst = max(net, cumulative)
    verdict = "met" if worst < TARGET_S and not forbidden else "MISSED"
    print(f"target: import nocturna < {TARGET_S * 1e3:.0f} ms without the heavy modules: "
          f"{verdict} ({worst * 1e3:.1f} ms, the larger of net wall time and -X importtime)")

    print("")
    print("ratios reference / nocturna (how many times faster nocturna imports; the reference "
          "figures are DOCUMENTED, not measured: POCS and pyobs are not installed here)")
    for name, seconds in DOCUMENTED_S.items():
        print(f"  {name:<6} {seconds:5.2f} s documented:  ×{seconds / max(worst, 1e-6):,.0f} vs "
              f"nocturna's import ({worst * 1e3:.1f} ms), ×{seconds / full_s:,.1f} vs the "
              f"whole 'python -c \"import nocturna\"' ({full_s * 1e3:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
