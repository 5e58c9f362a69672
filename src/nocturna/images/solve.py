"""Plate solving with astrometry.net's ``solve-field``.

:class:`PlateSolver` runs ``solve-field`` in a subprocess (never on the event loop),
with hints when the caller has them — where the mount says it points, how far to
search around it, the plate scale from the pixel size and focal length — and a hard
timeout on top of solve-field's own CPU limit. The result is a :class:`Solution`: the
solved WCS, the field centre, plate scale and rotation. Failures are typed:
:class:`SolverNotFoundError` (the program is not installed), :class:`NoSolutionError`
(it ran and found nothing, with its last words) and :class:`SolveTimeoutError` (it was
killed). :func:`write_solution` puts the solved WCS into a frame's header, atomically.

Options chosen on rendered 2048×2048 frames at 10″/px (5.7° fields), Debian's
``astrometry-data-tycho2-10-19`` index files:

* ``--odds-to-solve 1e50``: the default threshold (1e9) accepts chance matches of
  3–6 stars that land 10–20″ off; a real match of a few dozen stars is far above 1e50;
* ``--no-verify``: otherwise solve-field checks the WCS already in the header (the one
  the mount implies) instead of solving;
* ``--no-remove-lines --uniformize 0``: skip two source-list clean-ups that matter
  for photographs, not for our frames (a hinted solve takes half as long);
* ``--downsample 2`` by default (configurable) and ``--crpix-center``, so the reference
  pixel is the image centre.

Supported fields: the Tycho-2 10–19 index series covers fields from about 2° to 30°
across. Smaller fields need the 08/09 series and a deeper catalogue. ``solve-field``
runs a few of its helpers with the system's ``/usr/bin/python3`` (Debian's
``python3-astrometry``), independent of the Python that runs nocturna.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import shutil
import signal
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from nocturna.core.errors import InvalidValueError, NocturnaError
from nocturna.core.skyoffsets import angular_separation_arcsec, sky_offset_arcsec
from nocturna.images.fits import is_compressed_name, read_fits, write_fits
from nocturna.images.header import WCS_SOURCE_CARD

_OUTPUT_TAIL = 6  # lines of solve-field's output kept in error messages


class SolveError(NocturnaError):
    """Plate solving failed."""


class SolverNotFoundError(SolveError):
    """The plate solver program is not installed (or not on PATH)."""


class NoSolutionError(SolveError):
    """The solver ran to the end without finding a solution."""


class SolveTimeoutError(SolveError):
    """The solver did not finish in time and was stopped."""


@dataclass(frozen=True)
class SolverSettings:
    """How ``solve-field`` is run (see the module notes for the fixed options)."""

    program: str = "solve-field"
    timeout_s: float = 60.0
    cpu_limit_s: float = 30.0
    downsample: int = 2
    search_radius_deg: float = 5.0
    scale_tolerance: float = 0.1
    config_file: str | None = None
    odds_to_solve: float = 1e50

    def __post_init__(self) -> None:
        for name in ("timeout_s", "cpu_limit_s", "search_radius_deg"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise InvalidValueError(f"plate solver {name} must be > 0, got {value!r}")
        if not (isinstance(self.downsample, int) and 1 <= self.downsample <= 16):
            raise InvalidValueError(f"plate solver downsample must be 1..16, "
                                    f"got {self.downsample!r}")
        if not 0 < self.scale_tolerance < 1:
            raise InvalidValueError(f"plate solver scale_tolerance must be in (0, 1), "
                                    f"got {self.scale_tolerance!r}")

    @classmethod
    def from_config(cls, cfg: Any) -> SolverSettings:
        """From a :class:`~nocturna.core.config.models.PlateSolverConfig`."""
        return cls(program=cfg.program, timeout_s=float(cfg.timeout.to_value("s")),
                   cpu_limit_s=float(cfg.cpu_limit.to_value("s")), downsample=cfg.downsample,
                   search_radius_deg=float(cfg.search_radius.to_value("deg")),
                   scale_tolerance=float(cfg.scale_tolerance), config_file=cfg.config_file)


@dataclass(frozen=True)
class SolveHints:
    """What is known before solving; any of it may be missing (a blind solve)."""

    ra_deg: float | None = None
    dec_deg: float | None = None
    radius_deg: float | None = None  # None: the solver settings' search radius
    scale_arcsec: float | None = None  # per pixel of the image as given

    def __post_init__(self) -> None:
        if (self.ra_deg is None) != (self.dec_deg is None):
            raise InvalidValueError("solve hints need both ra_deg and dec_deg, or neither")
        if self.dec_deg is not None and not -90 <= self.dec_deg <= 90:
            raise InvalidValueError(f"solve hint dec_deg {self.dec_deg!r} is not in [-90, 90]")
        for name in ("radius_deg", "scale_arcsec"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                raise InvalidValueError(f"solve hint {name} must be > 0, got {value!r}")


@dataclass(frozen=True)
class Solution:
    """A solved field: the WCS and what it says about the image's centre."""

    wcs: WCS
    ra_deg: float  # the image centre
    dec_deg: float
    scale_arcsec: float  # per pixel
    rotation_deg: float  # position angle of the image's +y axis, east of north
    width: int
    height: int
    elapsed_s: float  # wall time of the solve
    hinted: bool

    def offset_arcsec(self, ra_deg: float, dec_deg: float) -> tuple[float, float]:
        """(east, north) offset of the solved centre from (``ra_deg``, ``dec_deg``), ″."""
        return sky_offset_arcsec(ra_deg, dec_deg, self.ra_deg, self.dec_deg)

    def separation_arcsec(self, ra_deg: float, dec_deg: float) -> float:
        """Angular distance of the solved centre from (``ra_deg``, ``dec_deg``), ″."""
        return angular_separation_arcsec(ra_deg, dec_deg, self.ra_deg, self.dec_deg)

    def header(self) -> fits.Header:
        """The WCS cards plus a record of the solve, for a frame's header."""
        header = self.wcs.to_header(relax=True)
        for key in ("DATE-OBS", "MJD-OBS", "DATEREF", "MJDREF"):
            header.remove(key, ignore_missing=True, remove_all=True)
        header["PLTSOLVD"] = (True, "WCS from a plate solve (astrometry.net)")
        header[WCS_SOURCE_CARD] = ("solve", "WCS from: mount (pointing) or solve")
        header["PLTSCALE"] = (round(self.scale_arcsec, 4), "[arcsec/px] solved plate scale")
        header["PLTROT"] = (round(self.rotation_deg, 4), "[deg] solved PA of +y, E of N")
        return header


def solution_from_wcs(wcs: WCS, width: int, height: int, *, elapsed_s: float = 0.0,
                      hinted: bool = False) -> Solution:
    """The centre, scale and rotation a WCS gives an image of ``width`` × ``height``."""
    ra, dec = wcs.all_pix2world([[(width - 1) / 2.0, (height - 1) / 2.0]], 0)[0]
    cd = wcs.pixel_scale_matrix
    scale = math.sqrt(abs(float(np.linalg.det(cd)))) * 3600.0
    rotation = math.degrees(math.atan2(cd[0, 1], cd[1, 1])) % 360.0
    wcs.pixel_shape = (width, height)
    return Solution(wcs, float(ra) % 360.0, float(dec), scale, rotation, width, height,
                    elapsed_s, hinted)


def find_program(program: str) -> str:
    """The solver's full path; :class:`SolverNotFoundError` if it is not installed."""
    found = shutil.which(program)
    if found is None:
        raise SolverNotFoundError(
            f"plate solver {program!r} not found: install astrometry.net (Debian/Ubuntu: "
            "apt-get install astrometry.net astrometry-data-tycho2-10-19) or set "
            "observatory.pointing.solver.program")
    return found


class PlateSolver:
    """Solves images with ``solve-field``; one instance may run several solves at once."""

    def __init__(self, settings: SolverSettings | None = None) -> None:
        self.settings = settings or SolverSettings()

    def arguments(self, image: Path, workdir: Path, hints: SolveHints | None) -> list[str]:
        """The command line for one solve (the program first)."""
        s = self.settings
        args = [find_program(s.program), str(image), "--dir", str(workdir),
                "--temp-dir", str(workdir), "--out", "field", "--overwrite", "--no-plots",
                "--no-verify", "--no-remove-lines", "--uniformize", "0", "--crpix-center",
                "--odds-to-solve", f"{s.odds_to_solve:g}", "--downsample", str(s.downsample),
                "--cpulimit", str(max(1, math.ceil(s.cpu_limit_s))), "--new-fits", "none",
                "--index-xyls", "none", "--rdls", "none", "--match", "none", "--corr", "none"]
        if s.config_file:
            args += ["--config", s.config_file]
        if hints is not None and hints.ra_deg is not None and hints.dec_deg is not None:
            radius = hints.radius_deg or s.search_radius_deg
            args += ["--ra", f"{hints.ra_deg % 360.0:.6f}", "--dec", f"{hints.dec_deg:.6f}",
                     "--radius", f"{radius:.4f}"]
        if hints is not None and hints.scale_arcsec is not None:
            low = hints.scale_arcsec * (1.0 - s.scale_tolerance)
            high = hints.scale_arcsec * (1.0 + s.scale_tolerance)
            args += ["--scale-units", "arcsecperpix", "--scale-low", f"{low:.4f}",
                     "--scale-high", f"{high:.4f}"]
        return args

    async def solve(self, image: str | os.PathLike[str] | np.ndarray,
                    hints: SolveHints | None = None) -> Solution:
        """Solve a FITS file (plain or ``.fz``) or a 2-D array; see the module notes."""
        find_program(self.settings.program)
        workdir = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="nocturna-solve-"))
        try:
            source, width, height = await asyncio.to_thread(_prepare, image, workdir)
            args = self.arguments(source, workdir, hints)
            started = time.perf_counter()
            output = await self._run(args)
            elapsed = time.perf_counter() - started
            wcs_file = workdir / "field.wcs"
            if not wcs_file.is_file():
                what = "hinted" if hints is not None and hints.ra_deg is not None else "blind"
                raise NoSolutionError(f"no plate solution ({what} solve, {elapsed:.1f} s): "
                                      f"{_tail(output)}")
            header = await asyncio.to_thread(fits.getheader, wcs_file)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "more axes than the image": no data here
                wcs = WCS(header, relax=True)
            return solution_from_wcs(wcs, width, height, elapsed_s=elapsed,
                                     hinted=hints is not None and hints.ra_deg is not None)
        finally:
            await asyncio.to_thread(shutil.rmtree, workdir, True)

    async def _run(self, args: list[str]) -> str:
        """Run the solver; its combined output. Killed (whole group) on timeout/cancel."""
        try:
            process = await asyncio.create_subprocess_exec(
                *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT, start_new_session=True)
        except OSError as exc:
            raise SolverNotFoundError(f"could not start {args[0]}: {exc}") from exc
        try:
            out, _ = await asyncio.wait_for(process.communicate(), self.settings.timeout_s)
        except TimeoutError:
            await _kill(process)
            raise SolveTimeoutError(f"plate solve stopped after {self.settings.timeout_s:g} s "
                                    "(observatory.pointing.solver.timeout)") from None
        except BaseException:
            await _kill(process)
            raise
        text = out.decode("utf-8", "replace")
        if process.returncode != 0:
            raise NoSolutionError(f"{Path(args[0]).name} failed (exit {process.returncode}): "
                                  f"{_tail(text)}")
        return text


def _prepare(image: str | os.PathLike[str] | np.ndarray, workdir: Path) -> tuple[Path, int, int]:
    """A plain FITS file solve-field can read, and the image's width and height."""
    if isinstance(image, np.ndarray):
        if image.ndim != 2:
            raise InvalidValueError(f"plate solving needs a 2-D image, got shape {image.shape}")
        path = workdir / "input.fits"
        write_fits(path, image)
        return path, image.shape[1], image.shape[0]
    path = Path(image)
    if not path.is_file():
        raise InvalidValueError(f"{path}: no such image file to solve")
    if is_compressed_name(path):
        data, _ = read_fits(path)
        return _prepare(data, workdir)
    header = fits.getheader(path)
    if header.get("NAXIS") != 2:
        raise InvalidValueError(f"{path}: plate solving needs a 2-D image, "
                                f"NAXIS = {header.get('NAXIS')}")
    return path, int(header["NAXIS1"]), int(header["NAXIS2"])


async def _kill(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        await asyncio.shield(process.wait())


def _tail(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return " | ".join(lines[-_OUTPUT_TAIL:]) or "no output"


def _solution_cards(header: fits.Header) -> list[str]:
    """Keywords of a solved WCS (and of any older WCS) to replace in a frame header."""
    return [key for key in header if key.startswith(("A_", "B_", "AP_", "BP_"))
            or key in _WCS_KEYS]


_WCS_KEYS = {"WCSAXES", "CTYPE1", "CTYPE2", "CUNIT1", "CUNIT2", "CRVAL1", "CRVAL2", "CRPIX1",
             "CRPIX2", "CD1_1", "CD1_2", "CD2_1", "CD2_2", "CDELT1", "CDELT2", "PC1_1",
             "PC1_2", "PC2_1", "PC2_2", "LONPOLE", "LATPOLE", "RADESYS", "EQUINOX", "MJDREF",
             "PLTSOLVD", "PLTSCALE", "PLTROT", WCS_SOURCE_CARD, "A_ORDER", "B_ORDER",
             "AP_ORDER", "BP_ORDER"}


def write_solution(path: str | os.PathLike[str], solution: Solution) -> None:
    """Replace the WCS in the FITS file at ``path`` by the solved one (atomically)."""
    path = Path(path)
    data, header = read_fits(path)
    header = header.copy()
    for key in _solution_cards(header):
        header.remove(key, ignore_missing=True, remove_all=True)
    header.update(solution.header())
    write_fits(path, data, header, compress=is_compressed_name(path), overwrite=True)
