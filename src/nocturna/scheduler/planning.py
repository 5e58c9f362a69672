"""A whole-night plan, set by set, as the night itself decides.

The night picks a field, takes one set of its frames, and asks the scheduler again
(the field it is on keeps its "visited" score and needs no slew, so it usually
stays). The plan does the same from the start of the window: at each free moment the
field with the highest merit (the same constraints and weights as
:meth:`Scheduler.best`, whose duration constraint asks for the whole rest of the
observation) gets its next set. Moving to another field costs its slew and a
pointing correction; autofocus runs when the night begins and whenever it is due
(:class:`~nocturna.scheduler.overheads.Overheads`, derived from the same
configuration). Consecutive sets on one field make one :class:`Block`. When nothing
fits, the plan waits one grid step and looks again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from nocturna.scheduler import constraints as con
from nocturna.scheduler.fields import Field
from nocturna.scheduler.night import from_posix
from nocturna.scheduler.observation import Observation
from nocturna.scheduler.overheads import Overheads
from nocturna.scheduler.tables import NightTables

if TYPE_CHECKING:
    from nocturna.scheduler.scheduler import _NightState


@dataclass(frozen=True)
class Block:
    """One field's time in the plan: exposures from ``start`` to ``end`` (UTC). Before
    ``start``: a slew of ``slew_s`` seconds (settling included), a pointing correction
    of ``pointing_s`` and an autofocus run of ``focus_s`` (0 when none)."""

    field: Field
    start: datetime
    end: datetime
    frames: int
    slew_s: float
    score: float
    pointing_s: float = 0.0
    focus_s: float = 0.0

    @property
    def setup_s(self) -> float:
        """Seconds from the end of the previous block to the first frame."""
        return self.slew_s + self.pointing_s + self.focus_s

    @property
    def slew_start(self) -> datetime:
        return self.start - timedelta(seconds=self.setup_s)

    @property
    def duration_s(self) -> float:
        return (self.end - self.start).total_seconds()

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field.name, "start": self.start.isoformat(),
                "end": self.end.isoformat(), "frames": self.frames,
                "slew_s": round(self.slew_s, 1), "pointing_s": round(self.pointing_s, 1),
                "focus_s": round(self.focus_s, 1), "score": round(self.score, 4)}


def greedy_plan(tables: NightTables, limits: con.Limits, fields: list[Field],
                priority: np.ndarray, state: _NightState, start_s: float, end_s: float, *,
                overheads: Overheads, current: int | None = None,
                focused_s: float | None = None) -> list[Block]:
    """Blocks from ``start_s`` to ``end_s`` (POSIX seconds), set by set (module notes).

    ``focused_s``: when the unit last focused (None: not yet tonight, so the night's
    first autofocus comes first when ``start_s`` is the start of the night).
    """
    remaining_s = state.remaining_s.copy()
    visited = state.visited.copy()
    done = state.finished.copy()
    taken = {row: int(state.total_frames[row] - state.remaining_frames[row])
             for row in np.flatnonzero(state.remaining_frames < state.total_frames)}
    blocks: list[Block] = []
    t = max(start_s, tables.start_s)
    end_s = min(end_s, tables.end_s)
    focus_pending = 0.0
    if focused_s is None and overheads.focus_start_s > 0:
        if t <= tables.start_s:  # the night's first autofocus, at dark
            focus_pending = overheads.focus_start_s
        focused_s = t
    while t < end_s and not done.all():
        instant = con.evaluate(tables, limits, t + focus_pending, priority=priority,
                               remaining_s=remaining_s, visited=visited, finished=done,
                               current=current, deadline_s=end_s)
        candidates = instant.candidates
        if not len(candidates):
            t = _next_grid_time(tables, t)
            continue
        row = int(candidates[np.argmax(instant.merit[candidates])])
        score = float(instant.merit[row])
        focus_s = focus_pending
        if not focus_s and overheads.focus_interval_s > 0 and focused_s is not None \
                and t - focused_s >= overheads.focus_interval_s:
            focus_s = overheads.focus_s
        stays = row == current and not focus_s
        slew = 0.0 if stays else max(float(instant.values([row])["slew_s"][0]),
                                     limits.settle_s)
        pointing = 0.0 if stays else overheads.pointing_s
        begin = t + slew + pointing + focus_s
        observation = Observation(fields[row], taken.get(row, 0))
        frames = observation.next_set()
        finish = begin + sum(f.exptime_s + overheads.frame_s for f in frames)
        if stays and blocks:
            last = blocks[-1]
            blocks[-1] = replace(last, end=from_posix(finish), frames=last.frames + len(frames))
        else:
            blocks.append(Block(fields[row], from_posix(begin), from_posix(finish),
                                len(frames), slew, score, pointing, focus_s))
        if focus_s:
            focused_s, focus_pending = t + slew + pointing, 0.0
        taken[row] = observation.exposures_taken + len(frames)
        after = Observation(fields[row], taken[row])
        remaining_s[row] = after.estimated_duration_s(overheads.frame_s)
        visited[row] = after.remaining_frames / after.total_frames
        done[row] = after.is_finished
        current = row
        t = finish
    return blocks


def _next_grid_time(tables: NightTables, t_s: float) -> float:
    """The next grid time after ``t_s``."""
    k = tables.index_at_or_after(t_s)
    if k < tables.size and tables.grid_s[k] > t_s:
        return float(tables.grid_s[k])
    return float(t_s + tables.step_s)
