"""Observing: take the current observation's next set (an operator's request may stop
it between two frames)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nocturna.observatory.observe import FieldSetting, MeridianFlipNeeded, OperatorPreempted

if TYPE_CHECKING:
    from nocturna.observatory.unit import Observatory


async def on_enter(unit: Observatory) -> tuple[str, str]:
    try:
        written = await unit.observe_current()
    except OperatorPreempted as exc:  # a hold sends "scheduling" on to paused or parking
        return "scheduling", str(exc)
    except MeridianFlipNeeded as exc:
        unit.nightlog.flips += 1
        return "slewing", str(exc)
    except FieldSetting as exc:
        if unit.current is not None:  # not again before it can have changed
            unit.set_aside[unit.current.field.name] = unit.clock.now()
        unit.on_target = None
        return "scheduling", str(exc)
    return "analyzing", f"{written} frames written"
