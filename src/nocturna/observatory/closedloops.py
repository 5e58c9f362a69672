"""The unit's closed loops: pointing correction after a slew, autofocus when due, and
tracking correction between frames (the loops themselves are in :mod:`nocturna.loops`).

Each loop's result is recorded in storage as telemetry (kind ``pointing``, ``focus``
or ``tracking``; the latest focus is also the current ``focus`` record), where the
night summary reads it; the night log keeps what the next decisions need.

When autofocus is due: at the start of the night (coarse sweep, the unit does not
know where focus is), then a fine sweep every ``interval`` and whenever the focuser's
temperature has moved by ``temperature_change`` since the last focus. A failed run is
retried after :data:`FOCUS_RETRY_S` at the earliest, so a cloudy field cannot keep
the unit focusing all night.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nocturna.core.dayobs import day_obs
from nocturna.observatory.enclosure import align_dome

if TYPE_CHECKING:
    from nocturna.instrument.instrument import Instrument
    from nocturna.loops.pointing import PointingResult
    from nocturna.loops.tracking import TrackingCorrector
    from nocturna.observatory.unit import Observatory

log = logging.getLogger(__name__)

FOCUS_RETRY_S = 1800.0


@dataclass(frozen=True)
class FocusDue:
    """Why autofocus should run now, and whether it needs the coarse sweep."""

    coarse: bool
    reason: str


async def point_current_field(unit: Observatory) -> PointingResult | None:
    """Correct the pointing on the current observation's field; records the result."""
    from nocturna.loops.pointing import PointingSettings, correct_pointing

    observation, mount = unit.current, unit.mount
    if observation is None or mount is None:
        return None
    fld = observation.field
    settings = PointingSettings.from_config(unit.settings.pointing)
    result = await correct_pointing(mount, unit.instrument, fld.ra_deg, fld.dec_deg, settings,
                                    field_name=fld.name, after_move=lambda: align_dome(unit),
                                    clock=unit.clock)
    record = result.as_record()
    unit.storage.add_telemetry("pointing", record, source=mount.name, time=unit.clock.now())
    unit.publish("pointing", **record)
    return result


async def focus_due(unit: Observatory) -> FocusDue | None:
    """Whether autofocus should run now (see the module notes)."""
    settings = unit.settings.autofocus
    focuser = unit.instrument.context.focuser
    if not settings.enabled or unit.autofocus_hook is None or focuser is None:
        return None
    night = unit.nightlog
    now = unit.clock.now()
    last = night.last_focus
    if night.focus_failed_at is not None and \
            (now - night.focus_failed_at).total_seconds() < FOCUS_RETRY_S:
        return None
    if last is None:
        return FocusDue(True, "start of the night")
    interval = float(settings.interval.to_value("s"))
    elapsed = (now - last["time"]).total_seconds()
    if interval > 0 and elapsed >= interval:
        return FocusDue(False, f"{elapsed / 3600:.1f} h since the last focus")
    before = last.get("temperature_c")
    if before is not None:
        now_c = (await focuser.state()).temperature_c
        change = float(settings.temperature_change.to_value("K"))
        if now_c is not None and change > 0 and abs(now_c - before) >= change:
            return FocusDue(False, f"temperature {before:+.1f} → {now_c:+.1f} °C")
    return None


async def focus_unit(unit: Observatory) -> Any | None:
    """Run autofocus on the primary instrument if it is due; records the result.

    Each other imaging camera with a focuser of its own (its entry's ``focuser:``)
    focuses itself at the same time; its failure is logged and recorded, never the
    unit's (the primary's result decides when focus is next due)."""
    due = await focus_due(unit)
    if due is None:
        return None
    now = unit.clock.now()
    log.info("autofocus (%s): %s", "coarse" if due.coarse else "fine", due.reason)
    primary = unit.instrument
    others = [instrument for instrument in unit.imaging_followers
              if instrument.context.focuser not in (None, primary.context.focuser)]
    followers = [asyncio.ensure_future(_focus_follower(unit, instrument, due))
                 for instrument in others]
    try:
        result = await _focus_instrument(unit, primary, due, current=True)
    except BaseException:
        for task in followers:
            task.cancel()
        raise
    finally:
        await asyncio.gather(*followers, return_exceptions=True)
    night = unit.nightlog
    if result.success:
        night.last_focus = {"time": now, "temperature_c": result.temperature_c}
        night.focus_failed_at = None
    else:
        night.focus_failed_at = now
    return result


async def _focus_instrument(unit: Observatory, instrument: Instrument, due: FocusDue, *,
                            current: bool) -> Any:
    """Autofocus ``instrument`` with its focuser; records and announces the result."""
    from nocturna.loops.autofocus import AutofocusSettings, run_autofocus

    focuser = instrument.context.focuser
    assert focuser is not None
    day = str(day_obs(unit.clock.now(), unit.config.model.site.timezone))
    settings = AutofocusSettings.from_config(unit.settings.autofocus)
    result = await run_autofocus(instrument.camera, focuser, settings, coarse=due.coarse,
                                 plot_dir=instrument.data_dir / "focus" / day,
                                 clock=unit.clock, events=unit.events, name=instrument.name)
    record = result.as_record() | {"trigger": due.reason, "camera": instrument.camera.name}
    unit.storage.add_telemetry("focus", record, source=focuser.name, time=unit.clock.now(),
                               current=current)
    unit.publish("focus", **record)
    return result


async def _focus_follower(unit: Observatory, instrument: Instrument, due: FocusDue) -> None:
    """Autofocus another camera; a failure is logged, the night goes on."""
    try:
        result = await _focus_instrument(unit, instrument, due, current=False)
    except Exception as exc:
        log.warning("autofocus of %s failed: %s", instrument.name, exc)
        return
    if not result.success:
        log.warning("autofocus of %s: %s", instrument.name, result.reason)


async def tracking_corrector(unit: Observatory) -> TrackingCorrector | None:
    """The unit's tracking corrector (made on first use), or None if it is off."""
    from nocturna.loops.tracking import TrackingCorrector, TrackingSettings

    if not unit.settings.tracking.enabled or unit.mount is None:
        return None
    if unit.tracker is None:
        instrument = unit.instrument
        unit.tracker = TrackingCorrector(
            unit.mount, TrackingSettings.from_config(unit.settings.tracking),
            scale_arcsec=await instrument.plate_scale_arcsec(),
            rotation_deg=instrument.context.optics.rotation_deg, clock=unit.clock)
    return unit.tracker


async def correct_tracking(unit: Observatory, tracker: TrackingCorrector,
                           field_name: str) -> None:
    """Guide back onto the observation's first frame; records what was measured."""
    correction = await tracker.correct()
    if correction is None:
        return
    record = {"field": field_name, "east_arcsec": correction.east_arcsec,
              "north_arcsec": correction.north_arcsec,
              "ra_pulse": [correction.ra_direction.name.lower(), correction.ra_ms],
              "dec_pulse": [correction.dec_direction.name.lower(), correction.dec_ms],
              "clipped": correction.clipped}
    unit.storage.add_telemetry("tracking", record, source=tracker.mount.name,
                               time=unit.clock.now())
    unit.nightlog.tracking_measured += 1
    unit.nightlog.tracking_corrections += int(correction.applied)
