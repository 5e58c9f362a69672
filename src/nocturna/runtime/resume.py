"""Resume: on start, the unit takes back what storage says it already did tonight.

A run that was killed (a crash, SIGKILL, a power cut) and started again on the same
data directory must continue where it was, not replay the night:

* observations left ``observing`` by a run that did not end are closed as
  ``interrupted``;
* tonight's light frames are counted per field, from the database rows, and given
  back to the unit and its scheduler, so no field is observed beyond its plan;
* tonight's evening and morning sky flats and the morning housekeeping, if they were
  taken, are not taken again.

At the end of a night (and of a run), :func:`nocturna.observatory.observe.close_open_observations`
leaves no observation ``observing``: the night's unfinished ones end ``incomplete``.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from nocturna.observatory.observe import close_open_observations
from nocturna.observatory.summary import LIGHT_TYPES

if TYPE_CHECKING:
    from nocturna.core.storage import Storage
    from nocturna.observatory.unit import Observatory

log = logging.getLogger(__name__)

INTERRUPTED = "interrupted"
LOOK_BACK = timedelta(hours=6)
"""The night in progress is the one containing this long before now (mornings too)."""


@dataclass
class ResumeReport:
    """What a start found of tonight's work."""

    interrupted: list[str] = field(default_factory=list)  # observations closed
    frames: Counter[str] = field(default_factory=Counter)  # field → light frames tonight
    evening_flats: bool = False
    morning_flats: bool = False
    housekeeping: bool = False

    @property
    def resumed(self) -> bool:
        return bool(self.interrupted or self.frames or self.evening_flats
                    or self.housekeeping)

    def __str__(self) -> str:
        if not self.resumed:
            return "nothing to resume"
        parts = []
        if self.frames:
            parts.append("light frames tonight: " + ", ".join(
                f"{name} {count}" for name, count in sorted(self.frames.items())))
        if self.interrupted:
            parts.append(f"closed {len(self.interrupted)} interrupted observation(s)")
        done = [name for name, flag in (("evening flats", self.evening_flats),
                                        ("morning flats", self.morning_flats),
                                        ("housekeeping", self.housekeeping)) if flag]
        if done:
            parts.append("already done: " + ", ".join(done))
        return "; ".join(parts)


def resume_night(unit: Observatory, now: datetime) -> ResumeReport:
    """Reconcile the unit with storage (see the module docstring)."""
    from nocturna.scheduler import Observation

    storage = unit.storage
    report = ResumeReport(interrupted=close_open_observations(unit, INTERRUPTED))
    window = unit.scheduler.night_window(now - LOOK_BACK)
    since = window.flat_start - timedelta(hours=1)
    if now < since:
        return _logged(report)
    names: dict[int, str] = {}
    middle = window.start + (window.end - window.start) / 2
    for row in storage.list_exposures(since=since):
        if row.start_time > now:
            continue
        if row.image_type in LIGHT_TYPES and row.observation_id is not None:
            if row.observation_id not in names:
                record = storage.get_observation(row.observation_id)
                names[row.observation_id] = record.name if record is not None else ""
            name = names[row.observation_id]
            if name:
                report.frames[name] += 1
        reason = str(row.header.get("REASON") or "")
        if reason == "twilight flat":
            if row.start_time < middle:
                report.evening_flats = True
            else:
                report.morning_flats = True
        elif reason == "housekeeping" and row.start_time > window.end:
            report.housekeeping = True
    if report.housekeeping and now >= window.flat_end:
        log.info("the night of %s is over (housekeeping done): a new night begins",
                 f"{window.start:%Y-%m-%d}")
        return ResumeReport(interrupted=report.interrupted)
    known = {fld.name: fld for fld in unit.scheduler.fields}
    for name, frames in report.frames.items():
        fld = known.get(name)
        if fld is None:
            log.warning("tonight's %d frames of %r: no such field any more", frames, name)
            continue
        unit.observations[name] = Observation(fld, frames)
        unit.scheduler.record_visit(name, now, frames)
    unit.evening_flats_done |= report.evening_flats
    unit.morning_flats_done |= report.morning_flats
    unit.housekeeping_done |= report.housekeeping
    return _logged(report)


def _logged(report: ResumeReport) -> ResumeReport:
    if report.resumed:
        log.warning("resuming the night: %s", report)
    return report


def last_recorded_time(storage: Storage) -> datetime | None:
    """The latest instant the data directory records (a transition or the unit's status):
    where a simulated unit that was stopped or killed continues from."""
    times = [record.time for record in storage.list_transitions(limit=1)]
    status = storage.get_current("unit.status")
    if status is not None:
        times.append(status.time)
    return max(times) if times else None
