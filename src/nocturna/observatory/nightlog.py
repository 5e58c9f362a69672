"""The night's bookkeeping: frames per field, time exposing, weather interruptions,
pointing corrections and focus runs."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Interruption:
    """A time the unit had to close: from ``start`` (unsafe) to ``end`` (safe again)."""

    start: datetime
    reasons: list[str]
    end: datetime | None = None
    closed_at: datetime | None = None  # parked and closed

    @property
    def duration_s(self) -> float | None:
        return None if self.end is None else (self.end - self.start).total_seconds()


@dataclass
class NightLog:
    """What happened during the night (kept in memory; storage has the full record)."""

    light_frames: Counter[str] = field(default_factory=Counter)  # field name → frames
    exposing_s: float = 0.0  # open shutter on the sky (light frames)
    calibration_frames: Counter[str] = field(default_factory=Counter)  # image type → frames
    interruptions: list[Interruption] = field(default_factory=list)
    transitions: int = 0
    flips: int = 0
    last_focus: dict[str, Any] | None = None  # time and temperature of the last good focus
    focus_failed_at: datetime | None = None
    tracking_measured: int = 0  # frames measured against their observation's reference
    tracking_corrections: int = 0  # guide corrections applied between frames
    refusals: Counter[str] = field(default_factory=Counter)  # "target: reason" → times

    def new_night(self) -> None:
        self.light_frames.clear()
        self.calibration_frames.clear()
        self.interruptions.clear()
        self.last_focus = self.focus_failed_at = None
        self.tracking_measured = self.tracking_corrections = 0
        self.exposing_s = 0.0
        self.transitions = self.flips = 0
        self.refusals.clear()

    def refused(self, target: str, reasons: list[str]) -> None:
        """A transition to ``target`` was refused for ``reasons``."""
        for reason in reasons:
            self.refusals[f"{target}: {reason}"] += 1

    def light(self, field_name: str, frames: int, exptime_s: float) -> None:
        self.light_frames[field_name] += frames
        self.exposing_s += frames * exptime_s

    def calibration(self, image_type: str, frames: int) -> None:
        self.calibration_frames[image_type] += frames

    @property
    def interrupted(self) -> Interruption | None:
        """The interruption still going on, if any."""
        if self.interruptions and self.interruptions[-1].end is None:
            return self.interruptions[-1]
        return None

    def unsafe(self, when: datetime, reasons: list[str]) -> None:
        """Weather went bad (a new interruption unless one is going on)."""
        if self.interrupted is None:
            self.interruptions.append(Interruption(when, list(reasons)))

    def closed(self, when: datetime) -> None:
        current = self.interrupted
        if current is not None and current.closed_at is None:
            current.closed_at = when

    def safe_again(self, when: datetime) -> None:
        current = self.interrupted
        if current is not None:
            current.end = when
