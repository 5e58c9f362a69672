"""The night summary: frames per field, calibrations, time exposing vs dark time and
where the rest of the dark time went, pointing corrections, focus runs, tracking
corrections, weather interruptions, every park with its reason, what was planned but
did not happen, and whether the unit ended parked and closed."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nocturna.observatory.unit import Observatory

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 30.0
"""How long the summary waits for the mount or the dome to say whether it is safe."""
LIGHT_TYPES = ("OBJECT", "LIGHT")
POINTING_TYPES = ("ACQ",)  # the pointing loop's frames: neither science nor calibration


@dataclass
class NightSummary:
    start: datetime
    end: datetime
    light_frames: Counter[str] = field(default_factory=Counter)  # field → frames
    camera_frames: dict[str, Counter[str]] = field(default_factory=dict)
    """Camera → frames it wrote, by kind: ``light``, ``calibration``, ``pointing``."""
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
    dark_time_s: dict[str, float] = field(default_factory=dict)  # category → dark seconds
    parks: list[dict[str, Any]] = field(default_factory=list)  # start, end, duration, reason
    warnings: list[str] = field(default_factory=list)  # planned but did not happen
    refusals: Counter[str] = field(default_factory=Counter)  # "target: reason" → times

    @property
    def worst_safety_latency_s(self) -> float | None:
        """The longest time from unsafe weather to parked and closed (None: never unsafe)."""
        closed = [i["closed_after_s"] for i in self.interruptions
                  if i["closed_after_s"] is not None]
        return max(closed) if closed else None

    def as_dict(self) -> dict[str, Any]:
        """Plain data (times as ISO text), for JSON and the network."""
        from dataclasses import fields

        from nocturna.core.serialize import to_plain

        # not dataclasses.asdict: it rebuilds a Counter from its (key, count) pairs,
        # counting the pairs
        data = to_plain({f.name: getattr(self, f.name) for f in fields(self)})
        data["efficiency"] = self.efficiency
        data["worst_safety_latency_s"] = self.worst_safety_latency_s
        return data

    def no_light_reasons(self) -> list[str]:
        """Why there is no light frame (empty when there are some)."""
        if self.light_frames:
            return []
        reasons = [f"refused {count} times: {what}"
                   for what, count in self.refusals.most_common(3)]
        for item in self.interruptions[:3]:
            reasons.append(f"weather unsafe from {item['start']:%H:%M}Z: "
                           f"{'; '.join(item['reasons'][:2])}")
        if self.failure:
            reasons.append(self.failure)
        return reasons or ["no field was observable in dark time"]

    @property
    def efficiency(self) -> float:
        return self.exposing_s / self.dark_s if self.dark_s > 0 else 0.0

    def pointing_errors_arcsec(self) -> list[float]:
        """The pointing error of each corrected slew (first solved frame), arcseconds."""
        return [p["initial_error_arcsec"] for p in self.pointing
                if p.get("initial_error_arcsec") is not None]


def exposing_seconds(lights: list[tuple[datetime, float]]) -> float:
    """Seconds some shutter was open on the sky: the union of the light frames'
    (start, exposure time), so the frames two cameras take together count once."""
    total, reach = 0.0, None
    for begin, seconds in sorted(lights):
        end = begin + timedelta(seconds=seconds)
        if reach is None or begin >= reach:
            total += seconds
            reach = end
        elif end > reach:
            total += (end - reach).total_seconds()
            reach = end
    return total


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
    lights: list[tuple[datetime, float]] = []
    for row in rows:
        if row.created_at < start:
            continue
        summary.files += 1
        if row.image_type in LIGHT_TYPES:
            summary.light_frames[str(row.header.get("OBJECT") or "?")] += 1
            lights.append((row.start_time, row.exposure_time_s))
            kind = "light"
        elif row.image_type in POINTING_TYPES:
            summary.pointing_frames += 1
            kind = "pointing"
        else:
            summary.calibration_frames[row.image_type] += 1
            kind = "calibration"
        summary.camera_frames.setdefault(row.camera, Counter())[kind] += 1
    summary.exposing_s = exposing_seconds(lights)
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
    summary.refusals = Counter(unit.nightlog.refusals)
    transitions = sorted(unit.storage.list_transitions(since=start),
                         key=lambda t: (t.time, t.id))
    summary.dark_time_s = dark_time_breakdown(unit, transitions, start, end,
                                              summary.exposing_s)
    summary.parks = parks(transitions, end)
    summary.warnings = missed(unit, summary)
    summary.parked = await _reads(unit.mount, lambda s: s.at_park)
    summary.closed = await _reads(unit.dome,
                                  lambda s: s.shutter_status == ShutterState.CLOSED)
    return summary


async def _reads(device: Any, condition: Callable[[Any], bool]) -> bool:
    """Whether ``device`` (None: there is none) reads as meeting ``condition``; a device
    that cannot be read within :data:`READ_TIMEOUT_S` does not."""
    if device is None:
        return True
    try:
        async with asyncio.timeout(READ_TIMEOUT_S):
            return bool(condition(await device.state()))
    except Exception as exc:
        log.error("%s %s cannot be read for the summary: %s", device.kind, device.name, exc)
        return False


STATE_CATEGORIES = {
    "observing": "exposing", "analyzing": "exposing",
    "slewing": "slewing", "tracking": "slewing",
    "pointing": "pointing", "focusing": "focusing", "flats": "flats",
    "parking": "closed", "parked": "closed", "housekeeping": "closed",
}
"""Which category of the dark-time breakdown each state's time counts in (else idle)."""


def dark_time_breakdown(unit: Observatory, transitions: list[Any], start: datetime,
                        end: datetime, exposing_s: float) -> dict[str, float]:
    """Dark seconds per category: exposing, readout (the rest of the observing states),
    slewing, pointing, focusing, flats, weather (closed while unsafe), closed (for
    another reason), idle."""
    totals: Counter[str] = Counter()
    spans = _state_spans(transitions, start, end)
    unsafe = [(i.start, i.end or end) for i in unit.nightlog.interruptions]
    for state, begin, finish in spans:
        category = STATE_CATEGORIES.get(state, "idle")
        seconds = dark_seconds(unit, begin, finish)
        if category == "closed" and seconds:
            weather = sum(dark_seconds(unit, max(begin, a), min(finish, b))
                          for a, b in unsafe if a < finish and b > begin)
            totals["weather"] += weather
            seconds -= weather
        totals[category] += seconds
    observing = totals.pop("exposing", 0.0)
    result = {"exposing": exposing_s, "readout": max(0.0, observing - exposing_s)}
    for name in ("slewing", "pointing", "focusing", "flats", "weather", "closed", "idle"):
        result[name] = totals.get(name, 0.0)
    return result


def _state_spans(transitions: list[Any], start: datetime, end: datetime
                 ) -> list[tuple[str, datetime, datetime]]:
    """(state, from, to) for every stretch of the run, from the transition records."""
    spans = []
    for current, following in zip(transitions, [*transitions[1:], None], strict=True):
        begin = max(current.time, start)
        finish = min(following.time if following is not None else end, end)
        if finish > begin:
            spans.append((current.to_state, begin, finish))
    return spans


def parks(transitions: list[Any], end: datetime) -> list[dict[str, Any]]:
    """Every time the unit parked: when, why, and how long until it reopened."""
    found: list[dict[str, Any]] = []
    for record in transitions:
        if record.to_state == "parking" and record.from_state not in ("parked", "parking"):
            found.append({"start": record.time, "end": None, "reason": record.reason})
        elif record.to_state == "ready" and found and found[-1]["end"] is None:
            found[-1]["end"] = record.time
    for item in found:
        finish = item["end"] or end
        item["duration_s"] = (finish - item["start"]).total_seconds()
    return found


def missed(unit: Observatory, summary: NightSummary) -> list[str]:
    """What the night planned but did not do."""
    settings = unit.settings.calibrations
    warnings = []
    if settings.twilight_flats.enabled:
        if not unit.evening_flats_done:
            warnings.append("no evening sky flats")
        if not unit.morning_flats_done:
            warnings.append("no morning sky flats")
    if not unit.housekeeping_done:
        warnings.append("no morning housekeeping (bias, darks, dome flats)")
    else:
        for kind in ("BIAS", "DARK"):
            if not summary.calibration_frames.get(kind):
                warnings.append(f"no {kind.lower()} frames")
    if summary.dark_s > 0 and not summary.light_frames:
        warnings.append("no light frame: " + "; ".join(summary.no_light_reasons()))
    if unit.settings.autofocus.enabled and summary.light_frames and not summary.focus_runs:
        warnings.append("no autofocus run")
    return warnings
