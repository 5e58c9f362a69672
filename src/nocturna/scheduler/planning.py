"""A whole-night plan, greedily: the best field now, all of it, then the next.

From the start of the window, at each free moment the field with the highest merit
(the same constraints and weights as :meth:`Scheduler.best`) gets a block: the slew
from the previous field (from the zenith for the first), then the rest of its
observation in whole sets. A field is planned once per night; the duration
constraint guarantees it stays above the horizon, away from the Moon and before the
end of the window for the whole block. When nothing fits, the plan waits one grid
step and looks again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from nocturna.scheduler import constraints as con
from nocturna.scheduler.fields import Field
from nocturna.scheduler.night import from_posix
from nocturna.scheduler.tables import NightTables

if TYPE_CHECKING:
    from nocturna.scheduler.scheduler import _NightState


@dataclass(frozen=True)
class Block:
    """One field's time in the plan: exposures from ``start`` to ``end`` (UTC), after a
    slew of ``slew_s`` seconds (settling included) that ends at ``start``."""

    field: Field
    start: datetime
    end: datetime
    frames: int
    slew_s: float
    score: float

    @property
    def slew_start(self) -> datetime:
        return self.start - timedelta(seconds=self.slew_s)

    @property
    def duration_s(self) -> float:
        return (self.end - self.start).total_seconds()

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field.name, "start": self.start.isoformat(),
                "end": self.end.isoformat(), "frames": self.frames,
                "slew_s": round(self.slew_s, 1), "score": round(self.score, 4)}


def greedy_plan(tables: NightTables, limits: con.Limits, fields: list[Field],
                priority: np.ndarray, state: _NightState, start_s: float, end_s: float, *,
                current: int | None = None) -> list[Block]:
    """Blocks from ``start_s`` to ``end_s`` (POSIX seconds), best merit first."""
    remaining_s = state.remaining_s.copy()
    frames = state.remaining_frames.copy()
    visited = state.visited.copy()
    done = state.finished.copy()
    blocks: list[Block] = []
    t = max(start_s, tables.start_s)
    end_s = min(end_s, tables.end_s)
    while t < end_s and not done.all():
        instant = con.evaluate(tables, limits, t, priority=priority, remaining_s=remaining_s,
                               visited=visited, finished=done, current=current)
        merit = np.where(t + instant.need_s <= end_s, instant.merit, 0.0)
        row = int(np.argmax(merit)) if len(merit) else 0
        if not len(merit) or merit[row] <= 0:
            t = _next_grid_time(tables, t)
            continue
        slew = float(instant.slew_s[row])
        begin = t + slew
        finish = begin + float(remaining_s[row])
        blocks.append(Block(fields[row], from_posix(begin), from_posix(finish),
                            int(frames[row]), slew, float(merit[row])))
        done[row] = True
        remaining_s[row] = 0.0
        visited[row] = 0.0
        current = row
        t = finish
    return blocks


def _next_grid_time(tables: NightTables, t_s: float) -> float:
    """The next grid time after ``t_s``."""
    k = tables.index_at_or_after(t_s)
    if k < tables.size and tables.grid_s[k] > t_s:
        return float(tables.grid_s[k])
    return float(t_s + tables.step_s)
