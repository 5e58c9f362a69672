"""Pointing correction on the simulated sky with the real plate solver: a slew with a
0.5° pointing error ends within the tolerance, and the recorded error is the injected one."""

from __future__ import annotations

import dataclasses
import math

import pytest
from astropy.io import fits
from loop_helpers import field_overhead, loop_config

from nocturna.core.clock import VirtualClock, use_clock
from nocturna.core.skyoffsets import angular_separation_arcsec
from nocturna.scheduler import Field, Observation
from unit_helpers import MIDNIGHT, close_unit, make_unit

pytestmark = pytest.mark.virtual_time  # a solve takes no simulated time, whatever the load

INJECTED = {"pointing_error_ra_arcsec": 1080.0, "pointing_error_dec_arcsec": 1440.0,
            "pointing_scatter_arcsec": 5.0, "pointing_seed": 11}  # 1800″ = 0.5°


async def pointed_unit(tmp_path, mount=None, **pointing):
    config = loop_config(tmp_path, mount=mount or INJECTED,
                         pointing={"enabled": True, **pointing})
    unit = make_unit(config)
    await unit.start()
    await unit.open_up()
    ra, dec = await field_overhead(unit)
    unit.current = Observation(Field("overhead", ra, dec))
    await unit.slew_to_current()
    return unit


def true_error(unit) -> float:
    fld = unit.current.field
    return angular_separation_arcsec(fld.ra_deg, fld.dec_deg, *unit.mount.true_pointing())


async def test_half_a_degree_error_is_corrected_and_recorded(tmp_path):
    with use_clock(VirtualClock(MIDNIGHT)):
        unit = await pointed_unit(tmp_path)
        try:
            before = true_error(unit)
            assert before == pytest.approx(1800.0, abs=20.0)
            result = await unit.correct_pointing()
            assert result.success, result.reason
            assert true_error(unit) <= 30.0
            assert result.final_error_arcsec <= 30.0
            assert abs(result.initial_error_arcsec - before) <= 30.0
            first = result.iterations[0]
            assert first.east_arcsec == pytest.approx(1080.0, abs=30.0)
            assert first.north_arcsec == pytest.approx(1440.0, abs=30.0)
            assert 2 <= len(result.iterations) <= 3
            assert first.correction == "sync" and result.iterations[-1].correction == "none"
            rows = unit.storage.list_telemetry("pointing")
            assert len(rows) == 1
            assert rows[0].data["initial_error_arcsec"] == pytest.approx(
                result.initial_error_arcsec)
            assert rows[0].data["field"] == "overhead" and rows[0].data["success"] is True
            frames = unit.storage.list_exposures(image_type="ACQ")
            assert len(frames) == len(result.iterations)
            header = fits.getheader(frames[0].path)
            assert header["PLTSOLVD"] is True and header["REASON"] == "pointing"
        finally:
            await close_unit(unit)


async def test_a_mount_that_cannot_sync_is_offset_instead(tmp_path, monkeypatch):
    with use_clock(VirtualClock(MIDNIGHT)):
        unit = await pointed_unit(tmp_path)
        try:
            info = await unit.mount.info()

            async def no_sync():
                return dataclasses.replace(info, can_sync=False)

            monkeypatch.setattr(unit.mount, "info", no_sync)
            result = await unit.correct_pointing()
            assert result.success, result.reason
            assert result.iterations[0].correction == "offset"
            assert true_error(unit) <= 30.0
        finally:
            await close_unit(unit)


async def test_pointing_gives_up_after_max_iterations(tmp_path):
    wild = {"pointing_scatter_arcsec": 120.0, "pointing_seed": 3}
    with use_clock(VirtualClock(MIDNIGHT)):
        unit = await pointed_unit(tmp_path, mount=wild, tolerance="2 arcsec", max_iterations=2)
        try:
            result = await unit.correct_pointing()
            assert not result.success
            assert result.reason.startswith("still") and "after 2 frames" in result.reason
            assert len(result.iterations) == 2
            assert math.isfinite(result.final_error_arcsec)
        finally:
            await close_unit(unit)


async def test_a_missing_solver_ends_the_loop_with_the_reason(tmp_path):
    with use_clock(VirtualClock(MIDNIGHT)):
        unit = await pointed_unit(tmp_path, solver={"program": "no-such-solve-field"})
        try:
            camera = unit.instrument.camera
            await camera.set_subframe(100, 200, 300, 400)
            result = await unit.correct_pointing()
            after = await camera.state()  # the pointing frame's binning and full sensor undone
            assert (after.bin_x, after.start_x, after.start_y, after.num_x, after.num_y) == \
                (1, 100, 200, 300, 400)
            assert not result.success
            assert "did not solve" in result.reason and "no-such-solve-field" in result.reason
            assert result.initial_error_arcsec is None
            assert unit.storage.list_telemetry("pointing")[0].data["success"] is False
        finally:
            await close_unit(unit)
