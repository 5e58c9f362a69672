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
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from nocturna.observatory.flats import dome_flats

if TYPE_CHECKING:
    from nocturna.instrument.instrument import Instrument
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

    async def bias(instrument: Instrument) -> int:
        ids = await instrument.take_bias(cfg.bias, reason="housekeeping")
        unit.nightlog.calibration("BIAS", len(ids))
        return len(ids)

    async def darks(instrument: Instrument) -> int:
        taken = 0
        for exptime in night_exposure_times(unit):
            ids = await instrument.take_darks(exptime, cfg.darks, reason="housekeeping")
            unit.nightlog.calibration("DARK", len(ids))
            taken += len(ids)
        return taken

    taken = await _on_every_camera(unit, bias) if cfg.bias else 0
    taken += await dome_flats(unit)
    taken += await _on_every_camera(unit, darks) if cfg.darks else 0
    log.info("housekeeping: %d calibration frames", taken)
    return taken


async def _on_every_camera(unit: Observatory,
                           take: Callable[[Instrument], Awaitable[int]]) -> int:
    """``take`` on each instrument in turn; the frames taken. Another camera's failure
    is logged and the rest go on; the primary camera's is raised."""
    taken = 0
    for instrument in unit.instruments.values():
        try:
            taken += await take(instrument)
        except Exception as exc:
            if instrument is unit.instrument:
                raise
            log.warning("%s: calibrations failed, the other cameras go on: %s",
                        instrument.name, exc)
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
