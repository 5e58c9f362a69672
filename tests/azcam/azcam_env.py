"""A Python with the real ``azcam`` package, in its own virtual environment.

``azcam_python()`` is ``$NOCTURNA_AZCAM_PYTHON`` when set, else a virtual environment at
``~/.cache/nocturna-tests/azcam-<version>`` created on first use (``python -m venv`` then
``pip install azcam==<version>``, under a file lock so parallel test processes do not
race) and reused afterwards. Failing to create it fails the test with pip's output.

The variable is read when this module is imported: the suite's autouse fixture removes
every ``NOCTURNA_*`` variable from the environment before each test runs.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

AZCAM_VERSION = "26.0.5"
ENV_VARIABLE = "NOCTURNA_AZCAM_PYTHON"
_FROM_ENVIRONMENT = os.environ.get(ENV_VARIABLE)
_SCRIPTS = Path(__file__).parent / "azcam_scripts"


def venv_dir() -> Path:
    return Path.home() / ".cache" / "nocturna-tests" / f"azcam-{AZCAM_VERSION}"


def _python_in(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _run_or_fail(command: list[str], what: str, timeout: float) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        pytest.fail(f"{what} failed ({' '.join(command)}), exit {result.returncode}:\n"
                    f"{result.stdout}\n{result.stderr}", pytrace=False)


def _create(venv: Path) -> None:
    partial = venv.with_name(venv.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    _run_or_fail([sys.executable, "-m", "venv", str(partial)], "creating the azcam venv", 300)
    _run_or_fail([str(_python_in(partial)), "-m", "pip", "install", "--disable-pip-version-check",
                  "--quiet", f"azcam=={AZCAM_VERSION}"], f"pip install azcam=={AZCAM_VERSION}",
                 900)
    # venv scripts hold absolute paths: renaming the directory would break pip's,
    # not python's, and only python is used here
    partial.rename(venv)


def _works(python: Path) -> bool:
    if not python.exists():
        return False
    result = subprocess.run([str(python), "-c", "import azcam; print(azcam.__version__)"],
                            capture_output=True, text=True, timeout=120)
    return result.returncode == 0 and result.stdout.strip() == AZCAM_VERSION


def azcam_python() -> Path:
    """A Python interpreter that imports ``azcam`` (the pinned version)."""
    if _FROM_ENVIRONMENT:
        return Path(_FROM_ENVIRONMENT)
    venv = venv_dir()
    python = _python_in(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    with (venv.parent / f"{venv.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _works(python):
            shutil.rmtree(venv, ignore_errors=True)
            _create(venv)
            if not _works(python):
                pytest.fail(f"{python} does not import azcam {AZCAM_VERSION} after installing",
                            pytrace=False)
    return python


def script_path(name: str) -> Path:
    """A script of ``tests/azcam/azcam_scripts``."""
    return _SCRIPTS / name


def run_azcam(script: str | Path, *args: object,
              timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Run ``script`` (a path, or a file name in ``azcam_scripts``) under azcam's Python;
    the output is captured as text and the exit code is not checked."""
    path = Path(script)
    if not path.is_absolute() and not path.exists():
        path = script_path(str(script))
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH",
                                                                          "PYTHONHOME")}
    return subprocess.run([str(azcam_python()), str(path), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env)
