"""Pointing: correct the pointing (plate solving), focus if due, then track."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nocturna.observatory.unit import Observatory


async def on_enter(unit: Observatory) -> tuple[str, str]:
    result = await unit.correct_pointing()
    reason = "pointing corrected" if result is None else f"pointing: {result.reason}"
    if await unit.autofocus_due() is not None:
        return "focusing", f"{reason}; focus due"
    return "tracking", reason
