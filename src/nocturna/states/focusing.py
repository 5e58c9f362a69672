"""Focusing: run autofocus on the field just reached, then track."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nocturna.observatory.unit import Observatory


async def on_enter(unit: Observatory) -> tuple[str, str]:
    result = await unit.autofocus()
    if result is None:
        return "tracking", "autofocus not run"
    return "tracking", f"autofocus: {result.reason}"
