"""The night summary: frames per field, calibrations, time exposing vs dark time,
pointing corrections, focus runs, tracking corrections, weather interruptions, and
whether the unit ended parked and closed."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nocturna.observatory.unit import Observatory

LIGHT_TYPES = ("OBJECT", "LIGHT")
POINTING_TYPES = ("ACQ",)  # the pointing loop's frames: neither science nor calibration


@dataclass
class NightSummary:
    start: datetime
    end: datetime
    light_frames: Counter[str] = field(default_factory=Counter)  # field → frames
    calibration_frames: Counter[str] = field(default_factory=Counter)  # image type → frames
    exposing_s: float = 0.0
    dark_s: float = 0.0
    interruptions: list[dict[str, Any]] = field(default_factory=list)
    transitions: int = 0
    flips: int = 0
    parked: bool = False
    closed: bool = False
    files: int = 0
    pointing_frames: int = 0
    pointing: list[dict[str, Any]] = field(default_factory=list)  # one record per slew
    focus_runs: list[dict[str, Any]] = field(default_factory=list)
    tracking_measured: int = 0
    tracking_corrections: int = 0
    failure: str | None = None  # the run ended early, unable to make the unit safe
    seed: int | None = None
    time_base: str = ""

    @property
    def efficiency(self) -> float:
        return self.exposing_s / self.dark_s if self.dark_s > 0 else 0.0

    def pointing_errors_arcsec(self) -> list[float]:
        """The pointing error of each corrected slew (first solved frame), arcseconds."""
        return [p["initial_error_arcsec"] for p in self.pointing
                if p.get("initial_error_arcsec") is not None]


def dark_seconds(unit: Observatory, start: datetime, end: datetime) -> float:
    """Seconds between ``start`` and ``end`` with the Sun below the observing twilight."""
    step = 60.0
    total, t = 0.0, start
    while t < end:
        span = min(step, (end - t).total_seconds())
        if unit.is_dark("observe", t + timedelta(seconds=span / 2)):
            total += span
        t += timedelta(seconds=span)
    return total


async def summarize(unit: Observatory, start: datetime, end: datetime) -> NightSummary:
    """What the run between ``start`` and ``end`` produced (from storage and the log)."""
    from nocturna.devices.types import ShutterState

    summary = NightSummary(start, end, transitions=unit.nightlog.transitions,
                           flips=unit.nightlog.flips)
    rows = unit.storage.list_exposures(since=start - timedelta(days=1))
    for row in rows:
        if row.created_at < start:
            continue
        summary.files += 1
        if row.image_type in LIGHT_TYPES:
            summary.light_frames[str(row.header.get("OBJECT") or "?")] += 1
            summary.exposing_s += row.exposure_time_s
        elif row.image_type in POINTING_TYPES:
            summary.pointing_frames += 1
        else:
            summary.calibration_frames[row.image_type] += 1
    summary.dark_s = dark_seconds(unit, start, end)
    for kind, target in (("pointing", summary.pointing), ("focus", summary.focus_runs)):
        rows = unit.storage.list_telemetry(kind, since=start)
        target.extend(row.data for row in reversed(rows))  # oldest first
    summary.tracking_measured = unit.nightlog.tracking_measured
    summary.tracking_corrections = unit.nightlog.tracking_corrections
    for item in unit.nightlog.interruptions:
        summary.interruptions.append({
            "start": item.start, "end": item.end, "reasons": item.reasons,
            "closed_after_s": None if item.closed_at is None
            else (item.closed_at - item.start).total_seconds()})
    if unit.mount is not None:
        summary.parked = (await unit.mount.state()).at_park
    else:
        summary.parked = True
    if unit.dome is not None:
        summary.closed = (await unit.dome.state()).shutter_status == ShutterState.CLOSED
    else:
        summary.closed = True
    return summary
