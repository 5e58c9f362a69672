"""Tracking correction over a simulated hour of a drifting mount: with it the frames'
solved centres stay within the tolerance of the field, without it they wander off."""

from __future__ import annotations

import math

import pytest
from loop_helpers import field_overhead, loop_config

from nocturna.images.solve import PlateSolver, SolveHints
from nocturna.images.wcs import plate_scale_arcsec
from nocturna.loops.tracking import GuideDirection, TrackingSettings, guide_correction
from nocturna.scheduler import Field, Observation
from unit_helpers import close_unit, make_unit, on_virtual_time

DRIFT = {"drift_ra_arcsec_per_min": 1.5, "drift_dec_arcsec_per_min": -1.0}  # 108″ an hour
TOLERANCE = 30.0
FRAMES, EXPTIME = 20, 180.0  # an hour of exposures


async def observed_hour(tmp_path, tracking: bool) -> tuple[list[float], list[float], object]:
    """Separations (″) of the solved frame centres from the field, the minutes since the
    first frame when each was taken, and the tracking records."""
    config = loop_config(tmp_path, mount=DRIFT, tracking={"enabled": tracking})
    unit = make_unit(config)
    await unit.start()
    try:
        await unit.open_up()
        ra, dec = await field_overhead(unit, hour_angle_deg=-20.0)  # east: no flip
        fld = Field("drifting", ra, dec, exptimes_s=(EXPTIME,), min_nexp=FRAMES,
                    exp_set_size=FRAMES)
        unit.scheduler.add_field(fld)
        unit.current = Observation(fld)
        await unit.slew_to_current()
        written = await unit.observe_current()
        assert written == FRAMES
        rows = sorted(unit.storage.list_exposures(image_type="OBJECT"),
                      key=lambda r: r.start_time)
        solver = PlateSolver()
        scale = plate_scale_arcsec(4.3, 85.0)
        separations, minutes = [], []
        for row in rows[::4] + rows[-1:]:
            solution = await solver.solve(row.path, SolveHints(ra, dec, scale_arcsec=scale))
            separations.append(solution.separation_arcsec(ra, dec))
            minutes.append((row.start_time - rows[0].start_time).total_seconds() / 60)
        return separations, minutes, unit.storage.list_telemetry("tracking")
    finally:
        await close_unit(unit)


def test_frames_stay_on_the_field_with_tracking_correction(tmp_path):
    separations, minutes, corrections = on_virtual_time(
        lambda: observed_hour(tmp_path, tracking=True))
    assert minutes[-1] >= 55
    assert max(separations) <= TOLERANCE, separations
    # Before each frame the one before is measured: frames 2 to 19 (1 is the reference).
    assert len(corrections) == FRAMES - 2
    applied = [c for c in corrections if c.data["ra_pulse"][1] or c.data["dec_pulse"][1]]
    assert applied and all(c.data["ra_pulse"][0] == "west" for c in applied
                           if c.data["ra_pulse"][1])


def test_frames_wander_off_without_it(tmp_path):
    separations, minutes, corrections = on_virtual_time(
        lambda: observed_hour(tmp_path, tracking=False))
    assert separations[-1] > TOLERANCE, separations
    # The drift (1.8″ a minute) carries the field away from where the first frame was.
    drift = math.hypot(DRIFT["drift_ra_arcsec_per_min"], DRIFT["drift_dec_arcsec_per_min"])
    assert separations[-1] - separations[0] == pytest.approx(drift * minutes[-1], abs=10)
    assert corrections == []


def test_guide_pulses_undo_the_offset_with_thresholds():
    settings = TrackingSettings(min_correction_arcsec=2.0, max_correction_arcsec=60.0)
    rate = 15.041 / 3600 / 2  # half sidereal, deg/s
    c = guide_correction(15.0, -1.0, 60.0, rate, rate, settings)
    assert c.ra_direction == GuideDirection.WEST
    assert c.ra_ms == round(15.0 / 0.5 / 3600 / rate * 1000)  # RA moves 2× the sky at 60°
    assert c.dec_ms == 0 and not c.clipped  # 1″ is below the minimum
    c = guide_correction(-500.0, 100.0, 0.0, rate, rate, settings)
    assert c.clipped and c.ra_direction == GuideDirection.EAST
    assert c.ra_ms == round(60.0 / 3600 / rate * 1000)
    assert c.dec_direction == GuideDirection.SOUTH
    assert not guide_correction(1.0, 1.0, 0.0, rate, rate, settings).applied
    with pytest.raises(ValueError, match="min_correction"):
        TrackingSettings(min_correction_arcsec=5.0, max_correction_arcsec=1.0)
