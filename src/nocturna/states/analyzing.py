"""Analyzing: account for the set just taken; go on with the field or schedule anew."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nocturna.observatory.observe import needs_meridian_flip

if TYPE_CHECKING:
    from nocturna.observatory.unit import Observatory


async def on_enter(unit: Observatory) -> tuple[str, str]:
    observation = unit.current
    if observation is None:
        return "scheduling", "no current observation"
    name = observation.field.name
    if observation.is_finished:
        unit.current = None
        unit.status.frame = None
        return "scheduling", f"{name} finished ({observation.exposures_taken} frames)"
    if await needs_meridian_flip(unit, observation):
        unit.nightlog.flips += 1
        return "slewing", f"{name} crossed the meridian: flipping the mount"
    return "scheduling", f"{name}: {observation.exposures_taken} of " \
                         f"{observation.total_frames} frames"
