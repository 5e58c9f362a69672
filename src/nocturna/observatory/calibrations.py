"""Morning housekeeping: bias frames, dome flats, darks for the night's exposure times.

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
