"""Scheduling: pick the best observation now (an operator's target of opportunity
first), wait for dark, or end the night."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from nocturna.states.ready import flats_due

if TYPE_CHECKING:
    from nocturna.observatory.unit import Observatory
    from nocturna.scheduler import Observation

log = logging.getLogger(__name__)

NOTHING_UP_WAIT_S = 600.0
SET_ASIDE_S = 600.0
"""A field whose next frame was refused (it would end in twilight or below the horizon)
is not chosen again for this long."""


def _set_aside(unit: Observatory, name: str) -> bool:
    since = unit.set_aside.get(name)
    return since is not None and (unit.clock.now() - since).total_seconds() < SET_ASIDE_S


def _target_of_opportunity(unit: Observatory, now: datetime) -> Any | None:
    """The operators' next target of opportunity that can be observed now; those that
    have set (or whose frames a checkpoint refused) are dropped, loudly."""
    from nocturna.observatory.observe import above_horizon

    requests = unit.operator
    while (target := requests.next_target()) is not None:
        fld = target.field
        if not _set_aside(unit, fld.name) and above_horizon(unit, fld.ra_deg, fld.dec_deg,
                                                            now):
            return target
        log.warning("target of opportunity %s dropped: it is no longer observable", fld.name)
        requests.targets.remove(target)
    return None


async def on_enter(unit: Observatory) -> tuple[str, str]:
    from nocturna.scheduler import Observation

    now = unit.clock.now()
    observe = unit.twilight("observe")
    if unit.is_morning(now) and unit.sun_altitude(now) >= observe:
        if flats_due(unit):
            return "flats", "morning twilight: time for sky flats"
        return "parking", "morning twilight: night over"
    if unit.sun_altitude(now) >= observe:
        dark = unit.sun.crossing(observe, now, rising=False)
        unit.status.field = "waiting for dark"
        if dark is not None:
            await unit.clock.sleep_until(dark)
        await unit.autofocus()
        return "scheduling", f"dark: the Sun is at {unit.sun_altitude():+.1f}°"
    target = _target_of_opportunity(unit, now)
    if target is not None:
        return await _work_on(unit, target, f"target of opportunity {target.field.name}")
    current = unit.current.field.name if unit.current is not None else None
    for ranked in unit.scheduler.best(unit.clock.now(), current=current):
        if ranked.score <= 0:
            break
        name = ranked.field.name
        observation = unit.observations.get(name)
        if observation is None:
            observation = unit.observations[name] = Observation(ranked.field)
        if observation.is_finished or _set_aside(unit, name):
            continue
        return await _work_on(unit, observation, f"{name} (merit {ranked.score:.3f})")
    unit.current = None
    unit.status.field = "nothing observable"
    await unit.clock.sleep_until(now + timedelta(seconds=NOTHING_UP_WAIT_S))
    return "scheduling", "nothing observable: waited"


async def _work_on(unit: Observatory, observation: Observation, why: str) -> tuple[str, str]:
    """Make ``observation`` the current one: track on if the mount is still on it (and
    no autofocus is due), else slew; the next state and ``why``."""
    name = observation.field.name
    unit.current = observation
    unit.status.field = name
    unit.status.frame = None
    if unit.on_target == name and await unit.autofocus_due() is None:
        return "tracking", f"{why}: still on target"
    return "slewing", why
