"""An observation of a field: exposures taken in sets until it is finished."""

from __future__ import annotations

from dataclasses import dataclass

from nocturna.scheduler.fields import Field


@dataclass(frozen=True)
class PlannedExposure:
    """One frame still to take: its filter, exposure time and index in the observation."""

    filter: str | None
    exptime_s: float
    index: int


class Observation:
    """Progress through a field's exposures.

    Frames come in sets of ``field.exp_set_size``; set k is taken in filter
    ``k % len(filters)``. The observation is finished when it has at least
    ``field.min_nexp`` frames and a whole number of sets.
    """

    def __init__(self, field: Field, exposures_taken: int = 0) -> None:
        if exposures_taken < 0:
            raise ValueError("exposures_taken must be >= 0")
        self.field = field
        self.exposures_taken = int(exposures_taken)
        self.image_ids: list[str | None] = []

    def __repr__(self) -> str:
        return (f"Observation({self.field.name!r}, {self.exposures_taken}/"
                f"{self.total_frames} frames)")

    @property
    def name(self) -> str:
        return self.field.name

    @property
    def total_frames(self) -> int:
        """``min_nexp`` rounded up to a whole number of sets."""
        return self.field.total_frames

    @property
    def sets_taken(self) -> int:
        """Complete sets taken."""
        return self.exposures_taken // self.field.exp_set_size

    @property
    def set_finished(self) -> bool:
        """Whether the last set taken is complete (no set is under way)."""
        return self.exposures_taken % self.field.exp_set_size == 0

    @property
    def is_finished(self) -> bool:
        """At least ``min_nexp`` frames, in a whole number of sets."""
        return self.exposures_taken >= self.field.min_nexp and self.set_finished

    @property
    def remaining_frames(self) -> int:
        """Frames still to take until the observation is finished."""
        if self.is_finished:
            return 0
        size = self.field.exp_set_size
        target = max(self.total_frames, -(-self.exposures_taken // size) * size)
        return target - self.exposures_taken

    def next_set(self) -> list[PlannedExposure]:
        """The frames of the current set still to take (a whole new set after a finished
        one; nothing once the observation is finished)."""
        if self.is_finished:
            return []
        size = self.field.exp_set_size
        set_index = self.exposures_taken // size
        filter_name, exptime = self.field.set_filter(set_index)
        end = (set_index + 1) * size
        return [PlannedExposure(filter_name, exptime, index)
                for index in range(self.exposures_taken, end)]

    def record_exposure(self, image_id: str | None = None) -> None:
        """Count one frame taken."""
        self.exposures_taken += 1
        self.image_ids.append(image_id)

    def estimated_duration_s(self, overhead_s: float = 0.0) -> float:
        """Seconds to finish from now: each remaining frame's exposure plus ``overhead_s``."""
        size = self.field.exp_set_size
        index, end = self.exposures_taken, self.exposures_taken + self.remaining_frames
        total = 0.0
        while index < end:  # set by set: one exposure time per set
            set_end = min(end, (index // size + 1) * size)
            total += (set_end - index) * (self.field.frame_exptime_s(index) + overhead_s)
            index = set_end
        return total

    def reset(self) -> None:
        """Forget the frames taken (a new night)."""
        self.exposures_taken = 0
        self.image_ids.clear()
