"""What the night spends besides exposing, so that plans and rankings count it.

The figures are derived from the unit's configuration by
:func:`nocturna.observatory.overheads.unit_overheads` (through the code the night
uses); a scheduler built from its own section alone counts only
``scheduler.overhead`` per frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nocturna.core.config.models import SchedulerConfig


@dataclass(frozen=True)
class Overheads:
    """Seconds the night spends besides exposing (see the module notes)."""

    frame_s: float = 0.0  # added to every frame's exposure time
    pointing_s: float = 0.0  # after each slew to a field
    focus_start_s: float = 0.0  # the night's first (coarse) autofocus, at dark
    focus_s: float = 0.0  # a fine autofocus when due
    focus_interval_s: float = 0.0  # a fine autofocus this long after the last (0: never)

    @classmethod
    def from_scheduler(cls, config: SchedulerConfig) -> Overheads:
        """Only ``scheduler.overhead`` per frame (no camera, no closed loops known)."""
        return cls(frame_s=float(config.overhead.to_value("s")))
