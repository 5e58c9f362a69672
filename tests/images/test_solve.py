"""Plate solving with the real solve-field on rendered frames: hinted and blind
solves, compressed input, the WCS written into a frame, and every failure typed."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from nocturna.core.errors import InvalidValueError
from nocturna.devices.sim.sky.render import FrameSpec, render_frame
from nocturna.images.fits import read_fits, verify_fits, write_fits
from nocturna.images.solve import (
    NoSolutionError,
    PlateSolver,
    SolveHints,
    SolverNotFoundError,
    SolverSettings,
    SolveTimeoutError,
    write_solution,
)
from nocturna.images.wcs import plate_scale_arcsec

SCALE = plate_scale_arcsec(4.3, 85.0)  # the demo camera: 10.43″/px, 5.9° across
WHEN = datetime(2026, 12, 15, 10, 0, tzinfo=UTC)


def rendered(ra: float, dec: float, *, size: int = 2048, rotation: float = 0.0) -> np.ndarray:
    spec = FrameSpec(ra_deg=ra, dec_deg=dec, time=WHEN, exposure_s=5.0, focal_length_mm=85.0,
                     aperture_mm=60.0, pixel_size_um=4.3, psf_fwhm_px=1.6, width=size,
                     height=size, rotation_deg=rotation, background_e_per_s_per_px=5.0,
                     read_noise_e=3.5, bias_adu=310.0, sensor_seed=1)
    return render_frame(spec).data


@pytest.fixture(scope="module")
def cygnus() -> np.ndarray:
    return rendered(305.0, 40.0)


async def test_hinted_solve_finds_the_centre_scale_and_rotation(tmp_path):
    data = rendered(84.0, -20.0, rotation=30.0)
    path = tmp_path / "frame.fits"
    write_fits(path, data)
    solution = await PlateSolver().solve(path, SolveHints(84.4, -19.7, scale_arcsec=SCALE))
    assert solution.hinted
    assert solution.separation_arcsec(84.0, -20.0) < 3.0
    assert solution.scale_arcsec == pytest.approx(SCALE, rel=0.005)
    assert solution.rotation_deg == pytest.approx(30.0, abs=0.1)
    assert (solution.width, solution.height) == (2048, 2048)
    assert 0 < solution.elapsed_s < 30


async def test_blind_solve_of_an_array_near_the_pole(cygnus):
    solution = await PlateSolver().solve(rendered(40.0, 86.0))
    assert not solution.hinted
    assert solution.separation_arcsec(40.0, 86.0) < 3.0


async def test_offsets_are_east_and_north_of_the_reference(cygnus):
    solution = await PlateSolver().solve(cygnus, SolveHints(305.0, 40.0, scale_arcsec=SCALE))
    # The reference 0.1° south of the centre: the centre is 360″ north of it.
    east, north = solution.offset_arcsec(305.0, 39.9)
    assert abs(east) < 3 and north == pytest.approx(360.0, abs=3)


async def test_compressed_frames_solve_and_take_the_solved_wcs(tmp_path, cygnus):
    path = tmp_path / "frame.fits.fz"
    header = fits.Header({"OBJECT": "Cygnus", "CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN",
                          "CRVAL1": 306.0, "CRVAL2": 41.0, "CRPIX1": 1024.5, "CRPIX2": 1024.5,
                          "CD1_1": -0.0029, "CD1_2": 0.0, "CD2_1": 0.0, "CD2_2": 0.0029})
    write_fits(path, cygnus, header, compress=True)
    solution = await PlateSolver().solve(path, SolveHints(306.0, 41.0, scale_arcsec=SCALE))
    write_solution(path, solution)
    verify_fits(path, require_checksum=True)
    data, written = read_fits(path)
    assert np.array_equal(data, cygnus)
    assert written["OBJECT"] == "Cygnus" and written["PLTSOLVD"] is True
    assert written["WCSSRC"] == "solve"
    from astropy.wcs import WCS

    ra, dec = WCS(written).all_pix2world([[1023.5, 1023.5]], 0)[0]
    assert abs(ra - 305.0) * np.cos(np.radians(40.0)) * 3600 < 3 and abs(dec - 40.0) * 3600 < 3


async def test_an_empty_frame_has_no_solution(tmp_path):
    rng = np.random.default_rng(1)
    noise = rng.normal(300, 5, size=(512, 512)).astype(np.uint16)
    settings = SolverSettings(cpu_limit_s=5)
    with pytest.raises(NoSolutionError, match=r"no plate solution .*hinted"):
        await PlateSolver(settings).solve(noise, SolveHints(10.0, 10.0, scale_arcsec=SCALE))


async def test_a_missing_program_is_named():
    solver = PlateSolver(SolverSettings(program="no-such-solve-field"))
    with pytest.raises(SolverNotFoundError, match=r"no-such-solve-field.*apt-get install"):
        await solver.solve(np.zeros((64, 64), np.uint16))


async def test_a_hung_solver_is_killed_at_the_timeout(tmp_path):
    pid_file = tmp_path / "pid"
    program = tmp_path / "slow-solver"
    program.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 60\n")
    program.chmod(0o755)
    solver = PlateSolver(SolverSettings(program=str(program), timeout_s=0.5))
    started = time.monotonic()
    with pytest.raises(SolveTimeoutError, match=r"stopped after 0\.5 s"):
        await solver.solve(np.zeros((64, 64), np.uint16))
    assert time.monotonic() - started < 5
    pid = int(pid_file.read_text())
    await asyncio.sleep(0.1)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_a_failing_solver_reports_its_last_words(tmp_path):
    program = tmp_path / "broken-solver"
    program.write_text("#!/bin/sh\necho 'index files not found' >&2\nexit 3\n")
    program.chmod(0o755)
    with pytest.raises(NoSolutionError, match=r"exit 3.*index files not found"):
        await PlateSolver(SolverSettings(program=str(program))).solve(np.zeros((8, 8)))


async def test_bad_input_is_refused_with_the_reason(tmp_path):
    solver = PlateSolver()
    with pytest.raises(InvalidValueError, match="no such image file"):
        await solver.solve(tmp_path / "missing.fits")
    with pytest.raises(InvalidValueError, match="2-D"):
        await solver.solve(np.zeros((2, 8, 8)))
    with pytest.raises(InvalidValueError, match="both ra_deg and dec_deg"):
        SolveHints(ra_deg=10.0)
    with pytest.raises(InvalidValueError, match="dec_deg"):
        SolveHints(10.0, 91.0)
    with pytest.raises(InvalidValueError, match="downsample"):
        SolverSettings(downsample=0)
    with pytest.raises(InvalidValueError, match="timeout_s"):
        SolverSettings(timeout_s=float("nan"))
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob("nocturna-solve-*/input.fits"))
