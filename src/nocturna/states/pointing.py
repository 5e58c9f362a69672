"""Pointing: correct the pointing (the hook's closed loop), then track."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nocturna.observatory.unit import Observatory


async def on_enter(unit: Observatory) -> tuple[str, str]:
    await unit.correct_pointing()
    return "tracking", "pointing corrected"
