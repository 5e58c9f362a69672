"""The night summary as a short text (from the plain dict of ``unit.night.summary``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from nocturna.core.serialize import from_plain


def _when(value: Any) -> datetime | None:
    value = from_plain(value)
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value if isinstance(value, datetime) else None


def summary_title(summary: dict[str, Any]) -> str:
    """``night summary: 42 light frames, 63 % of the dark time exposing`` (and trouble)."""
    lights = sum((summary.get("light_frames") or {}).values())
    efficiency = 100 * float(summary.get("efficiency") or 0.0)
    frames = "1 light frame" if lights == 1 else f"{lights} light frames"
    title = f"night summary: {frames}, {efficiency:.0f} % of the dark time exposing"
    if summary.get("failure"):
        return title + ", FAILED"
    if not (summary.get("parked") and summary.get("closed")):
        return title + ", NOT parked and closed"
    return title


def summary_text(summary: dict[str, Any]) -> str:
    """A few lines: frames per field, time, interruptions, parks, warnings, the end state."""
    start, end = _when(summary.get("start")), _when(summary.get("end"))
    lines = []
    if start is not None and end is not None:
        hours = (end - start).total_seconds() / 3600
        lines.append(f"{start:%Y-%m-%d %H:%M}Z – {end:%Y-%m-%d %H:%M}Z ({hours:.1f} h)")
    fields = summary.get("light_frames") or {}
    if fields:
        lines.append("light frames: " + ", ".join(f"{name} {count}"
                                                  for name, count in sorted(fields.items())))
    else:
        lines.append("light frames: none")
    calibrations = summary.get("calibration_frames") or {}
    if calibrations:
        lines.append("calibration frames: " + ", ".join(
            f"{kind.lower()} {count}" for kind, count in sorted(calibrations.items())))
    dark_h = float(summary.get("dark_s") or 0.0) / 3600
    exposing_h = float(summary.get("exposing_s") or 0.0) / 3600
    lines.append(f"exposing {exposing_h:.2f} h of {dark_h:.2f} h dark time")
    for item in summary.get("interruptions") or []:
        begin = _when(item.get("start"))
        closed = item.get("closed_after_s")
        after = "" if closed is None else f", closed after {closed:.0f} s"
        at = f" at {begin:%H:%M}Z" if begin is not None else ""
        lines.append(f"weather interruption{at}{after}: {'; '.join(item.get('reasons', [])[:2])}")
    for park in summary.get("parks") or []:
        begin = _when(park.get("start"))
        at = f" at {begin:%H:%M}Z" if begin is not None else ""
        lines.append(f"parked{at} for {float(park.get('duration_s') or 0) / 60:.0f} min: "
                     f"{park.get('reason', '')}")
    lines += [f"warning: {warning}" for warning in summary.get("warnings") or []]
    if summary.get("failure"):
        lines.append(f"FAILED: {summary['failure']}")
    parked = "parked" if summary.get("parked") else "NOT parked"
    closed = "closed" if summary.get("closed") else "NOT closed"
    lines.append(f"ended {parked} and {closed}")
    return "\n".join(lines)
