"""Flats: twilight sky flats (evening or morning)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nocturna.observatory.unit import Observatory


async def on_enter(unit: Observatory) -> tuple[str, str]:
    morning = unit.is_morning()
    unit.status.field = "twilight flats"
    try:
        kept = await unit.twilight_flats()
    finally:
        unit.status.field = None
        if morning:
            unit.morning_flats_done = True
        else:
            unit.evening_flats_done = True
    if morning:
        return "parking", f"morning flats done ({kept} frames): night over"
    return "scheduling", f"evening flats done ({kept} frames)"
