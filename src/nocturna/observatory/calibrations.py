"""Morning housekeeping: bias frames, dome flats, darks for the night's exposure times;
and the calibration sequences operators ask for (:func:`operator_calibrations`).

Runs with the dome closed and the mount parked, shortest work first (bias, dome flats,
then darks) so a run that ends early still has the quick calibrations. Darks are taken
for every exposure time of the light frames the night produced; after a night without
any (clouds all night), for the exposure times of the fields it had planned, so the
dark library stays current.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from nocturna.observatory.flats import dome_flats

if TYPE_CHECKING:
    from nocturna.observatory.operator import CalibrationJob
    from nocturna.observatory.unit import Observatory

log = logging.getLogger(__name__)


def night_exposure_times(unit: Observatory) -> list[float]:
    """The distinct exposure times of tonight's light frames (of the planned fields if
    there were none), shortest first."""
    times = set()
    for observation in unit.observations.values():
        if observation.exposures_taken:
            times.update(float(t) for t in observation.field.exptimes_s)
    if not times:
        for planned in unit.scheduler.fields:
            times.update(float(t) for t in planned.exptimes_s)
    return sorted(times)


async def housekeeping(unit: Observatory) -> int:
    """Bias, dome flats and darks; returns the frames taken."""
    cfg = unit.settings.calibrations
    taken = 0
    for instrument in unit.instruments.values():
        if cfg.bias:
            ids = await instrument.take_bias(cfg.bias, reason="housekeeping")
            unit.nightlog.calibration("BIAS", len(ids))
            taken += len(ids)
    taken += await dome_flats(unit)
    for instrument in unit.instruments.values():
        if cfg.darks:
            for exptime in night_exposure_times(unit):
                ids = await instrument.take_darks(exptime, cfg.darks, reason="housekeeping")
                unit.nightlog.calibration("DARK", len(ids))
                taken += len(ids)
    log.info("housekeeping: %d calibration frames", taken)
    return taken


OPERATOR_REASON = "operator calibration"
"""The REASON card of the frames an operator asked for."""


async def calibration_job(unit: Observatory, job: CalibrationJob) -> int:
    """Take one operator's calibration sequence (dome closed); returns the frames taken."""
    instrument = unit.instrument
    note = f"asked by {job.who}" if job.who else None
    if job.kind == "bias":
        ids = await instrument.take_bias(job.count, reason=OPERATOR_REASON, note=note)
        unit.nightlog.calibration("BIAS", len(ids))
        return len(ids)
    if job.kind == "dark":
        ids = await instrument.take_darks(job.exposure_s or 0.0, job.count,
                                          reason=OPERATOR_REASON, note=note)
        unit.nightlog.calibration("DARK", len(ids))
        return len(ids)
    return await dome_flats(unit, filters=[job.filter], count=job.count,
                            exptime_s=job.exposure_s, reason=OPERATOR_REASON)


async def operator_calibrations(unit: Observatory) -> int:
    """Take every calibration sequence operators asked for, in order; the frames taken.

    A sequence that fails is logged and the next one goes on: a calibration must never
    move a parked unit.
    """
    queue, taken = unit.operator.calibrations, 0
    while queue:
        job = queue.pop(0)
        unit.status.field = f"calibrations: {job.label}"
        try:
            taken += await calibration_job(unit, job)
        except Exception as exc:
            log.error("the calibrations %s asked for (%s) failed: %s", job.who or "an operator",
                      job.label, exc)
        finally:
            unit.status.field = None
    return taken
