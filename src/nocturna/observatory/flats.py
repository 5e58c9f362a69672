"""Flat fields: twilight sky flats and dome flats on the cover calibrator.

Twilight flats point opposite the Sun at a fixed altitude and adjust the exposure time
frame by frame to reach a target median level: the sky's brightness changes
exponentially through twilight, so the rate (ADU/s above bias) of the last two frames
gives its trend, and the next exposure is the one that collects the target level at
the predicted rate. An unsaved probe exposure starts each filter. Frames whose level
is within the tolerance count towards the wanted number; the window is the Sun between
the ``flat`` and ``observe`` twilight altitudes, and a filter is done early when the
exposure it needs leaves [min_exptime, max_exptime] the wrong way (evening: too long,
the sky got too dark; morning: too short). Short probe frames measure each filter's
transmission first: in the evening the least transmissive filters go first (they need
the brightest sky), in the morning the most transmissive.

Dome flats close the cover, light the panel at the configured brightness and take
each filter at the exposure time a probe frame says reaches the target.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from nocturna.devices.types import CalibratorState
from nocturna.observatory.enclosure import align_dome, close_cover

if TYPE_CHECKING:
    from nocturna.observatory.unit import Observatory

log = logging.getLogger(__name__)

_WAIT_S = 30.0
PROBE_BOX = 256  # pixels on a side of the probe frames


def frame_level(image: Any, bias_adu: float) -> float:
    """Median level above bias (ADU), from every 4th pixel of a large frame."""
    data = np.asarray(image.data)
    if data.size > 65536:
        data = data[::4, ::4]
    return float(np.median(data)) - bias_adu


@dataclass
class SkyTrend:
    """The sky rate (ADU/s) as an exponential in time, from the latest two frames."""

    t_s: float | None = None
    rate: float | None = None
    slope_per_s: float = 0.0  # d ln(rate) / dt

    def add(self, t_mid_s: float, rate: float) -> None:
        rate = max(rate, 1e-6)
        if self.t_s is not None and self.rate is not None and t_mid_s > self.t_s:
            self.slope_per_s = math.log(rate / self.rate) / (t_mid_s - self.t_s)
        self.t_s, self.rate = t_mid_s, rate

    def exposure_for(self, target: float, start_s: float, lo: float, hi: float) -> float:
        """The exposure starting at ``start_s`` that collects ``target`` ADU (unclamped
        result may be outside [lo, hi]; iterated twice for the mid-exposure rate)."""
        assert self.t_s is not None and self.rate is not None
        exptime = target / self.rate
        for _ in range(3):
            mid = start_s + min(max(exptime, 0.0), 10 * hi) / 2
            predicted = self.rate * math.exp(self.slope_per_s * (mid - self.t_s))
            exptime = target / max(predicted, 1e-9)
        return exptime


def flat_filters(unit: Observatory, configured: list[str] | None) -> list[str | None]:
    """The filters to flat: configured, else those the fields use (None: no wheel)."""
    if unit.instrument.context.filterwheel is None:
        return [None]
    if configured:
        return list(configured)
    names: list[str] = []
    for fld in unit.scheduler.fields:
        for name in fld.filters:
            if name and name not in names:
                names.append(name)
    return names or [None]


async def probe(camera: Any, exptime_s: float, *, light: bool = True,
                box: int = PROBE_BOX) -> Any:
    """An unsaved exposure of a central ``box`` × ``box`` subframe (quick to read out),
    the camera's subframe restored afterwards."""
    status = await camera.state()
    frame = (status.start_x, status.start_y, status.num_x, status.num_y)
    size_x, size_y = min(box, status.num_x), min(box, status.num_y)
    await camera.set_subframe(status.start_x + (status.num_x - size_x) // 2,
                              status.start_y + (status.num_y - size_y) // 2, size_x, size_y)
    try:
        return await camera.expose(exptime_s, light=light)
    finally:
        await camera.set_subframe(*frame)


async def _bias_level(unit: Observatory) -> float:
    image = await probe(unit.instrument.camera, 0.0, light=False)
    return float(np.median(np.asarray(image.data)))


async def _point_opposite_sun(unit: Observatory, altitude_deg: float) -> None:
    import astropy.units as u
    from astropy.coordinates import AltAz, get_sun
    from astropy.time import Time

    mount = unit.mount
    if mount is None:
        return
    now = Time(unit.clock.now())
    sun_az = get_sun(now).transform_to(AltAz(obstime=now, location=unit.location)).az
    azimuth = (float(sun_az.to_value(u.deg)) + 180.0) % 360.0
    status = await mount.state()
    if status.at_park:
        await mount.unpark()
    if (await mount.info()).can_slew_alt_az_async:
        if status.tracking:
            await mount.set_tracking(False)
        await mount.slew_to_alt_az(altitude_deg, azimuth)
    else:  # an equatorial goto to where that alt/az is now (the mount then tracks)
        from astropy.coordinates import ICRS, SkyCoord

        there = SkyCoord(alt=altitude_deg * u.deg, az=azimuth * u.deg,
                         frame=AltAz(obstime=now, location=unit.location)).transform_to(ICRS())
        await mount.slew_to_coordinates(float(there.ra.to_value(u.hourangle)),
                                        float(there.dec.to_value(u.deg)))
    await mount.wait_for_slew()
    await align_dome(unit)


async def twilight_flats(unit: Observatory) -> int:
    """Sky flats for this twilight (evening or morning); returns the frames kept."""
    cfg = unit.settings.calibrations.twilight_flats
    if not cfg.enabled:
        return 0
    morning = unit.is_morning()
    bright, dark = unit.twilight("flat"), unit.twilight("observe")
    while unit.sun_altitude() >= bright and not morning:
        await unit.clock.sleep(_WAIT_S)  # evening: wait for the flat window
    await _point_opposite_sun(unit, cfg.altitude.to_value("deg"))
    bias = await _bias_level(unit)
    filters = await _filters_by_need(unit, flat_filters(unit, cfg.filters), bias, morning)
    kept_total = 0
    for filter_name in filters:
        if not dark <= unit.sun_altitude() < bright or unit.operator.stops_work:
            break
        kept_total += await _flats_in_filter(unit, filter_name, bias, morning)
    log.info("%s twilight flats: %d frames kept", "morning" if morning else "evening",
             kept_total)
    unit.nightlog.calibration("FLAT", kept_total)
    return kept_total


async def _filters_by_need(unit: Observatory, filters: list[str | None], bias: float,
                           morning: bool) -> list[str | None]:
    """The filters ordered by the sky they need: in the evening the least transmissive
    first (they need the brightest sky), in the morning the most transmissive first.
    Each filter's transmission is measured with a short probe frame."""
    if len(filters) < 2:
        return filters
    cfg = unit.settings.calibrations.twilight_flats
    probe_s = cfg.min_exptime.to_value("s")
    rates: dict[str | None, float] = {}
    for filter_name in filters:
        await unit.instrument.setup_instrument(filter=filter_name)
        rates[filter_name] = frame_level(await probe(unit.instrument.camera, probe_s), bias)
    return sorted(filters, key=lambda name: rates[name], reverse=morning)


async def _flats_in_filter(unit: Observatory, filter_name: str | None, bias: float,
                           morning: bool) -> int:
    cfg = unit.settings.calibrations.twilight_flats
    instrument, camera, clock = unit.instrument, unit.instrument.camera, unit.clock
    lo, hi = cfg.min_exptime.to_value("s"), cfg.max_exptime.to_value("s")
    target = cfg.target_adu
    bright, dark = unit.twilight("flat"), unit.twilight("observe")
    if filter_name:
        await instrument.setup_instrument(filter=filter_name)
    trend = SkyTrend()
    probe_s = lo
    saturation = 0.9 * ((await camera.info()).max_adu - bias)
    lead_s = 0.0  # from deciding an exposure time to the shutter opening
    kept = 0
    while kept < cfg.count and dark <= unit.sun_altitude() < bright \
            and not unit.operator.stops_work:  # an operator's pause: after this frame
        if trend.rate is None:
            image = await probe(camera, probe_s)
            level = frame_level(image, bias)
            log.debug("probe in %s: %.2f s → %.0f ADU", filter_name or "clear", probe_s, level)
            if level > saturation:
                # the sky is brighter than the shortest exposure allows
                if morning:
                    return kept
                await clock.sleep(_WAIT_S)
                continue
            trend.add(image.start_time.timestamp() + probe_s / 2, level / probe_s)
            continue
        decided = clock.timestamp()
        exptime = trend.exposure_for(target, decided + lead_s, lo, hi)
        too_bright, too_dark = exptime < lo, exptime > hi
        if (too_dark and not morning) or (too_bright and morning):
            log.info("flats in %s: the sky is %s now", filter_name or "clear",
                     "too dark" if too_dark else "too bright")
            return kept
        if too_bright or too_dark:  # evening too bright, morning too dark: wait
            await clock.sleep(_WAIT_S)
            trend = SkyTrend()
            continue
        await instrument.take_flats(exptime, 1, reason="twilight flat",
                                    note="morning" if morning else "evening")
        image = await camera.image()
        started = image.start_time.timestamp()
        lead_s = max(0.0, started - decided)
        level = frame_level(image, bias)
        trend.add(started + exptime / 2, level / exptime)
        log.debug("flat in %s: %.2f s → %.0f ADU (Sun %+.1f°)", filter_name or "clear",
                  exptime, level, unit.sun_altitude())
        if abs(level / target - 1.0) <= cfg.tolerance:
            kept += 1
            unit.report_progress(f"flats {filter_name or 'clear'}", kept, cfg.count)
        else:
            log.info("flat in %s at %.2f s reached %.0f ADU (target %.0f): not counted",
                     filter_name or "clear", exptime, level, target)
    return kept


async def dome_flats(unit: Observatory, *, filters: list[str | None] | None = None,
                     count: int | None = None, exptime_s: float | None = None,
                     reason: str = "dome flat") -> int:
    """Flats on the cover calibrator's panel (dome closed); returns the frames taken.

    By default the configured filters and count at the exposure a probe frame says
    reaches the target level; an operator's request gives its own.
    """
    cfg = unit.settings.calibrations.dome_flats
    calibrators = list(unit.devices.cover_calibrators.values())
    if not calibrators or (filters is None and not cfg.enabled):
        return 0
    panel = calibrators[0]
    info = await panel.info()
    if info.max_brightness <= 0:
        return 0
    await close_cover(panel)
    brightness = max(1, round(info.max_brightness * cfg.brightness / 100.0))
    await panel.calibrator_on(brightness)
    await panel.wait_until(lambda s: s.calibrator_state == CalibratorState.READY,
                           timeout_s=300.0, what="lighting the panel")
    instrument, camera = unit.instrument, unit.instrument.camera
    taken = 0
    try:
        bias = await _bias_level(unit) if exptime_s is None else 0.0
        hi = cfg.max_exptime.to_value("s")
        for filter_name in flat_filters(unit, cfg.filters) if filters is None else filters:
            if filter_name:
                await instrument.setup_instrument(filter=filter_name)
            exptime = exptime_s
            if exptime is None:
                probe_s = 1.0
                level = frame_level(await probe(camera, probe_s), bias)
                if level <= 0:
                    log.warning("dome flats in %s: the panel gives no light", filter_name)
                    continue
                exptime = min(hi, cfg.target_adu / (level / probe_s))
            ids = await instrument.take_flats(exptime, count or cfg.count, reason=reason,
                                              note=f"panel {brightness}/{info.max_brightness}")
            taken += len(ids)
    finally:
        await panel.calibrator_off()
    unit.nightlog.calibration("FLAT", taken)
    return taken
