"""Frames as the night writes them: ``unit.frame`` and ``unit.progress`` events.

:func:`announce_frames` registers an observer on every instrument of a unit: when a
frame's file and row are done it publishes ``unit.frame`` (image id, path, field,
type, filter, exposure, frame i of n, camera) and, for a sequence of more than one frame
(calibrations, a science set), ``unit.progress``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nocturna.observatory.summary import LIGHT_TYPES

if TYPE_CHECKING:
    from nocturna.instrument.instrument import WrittenFrame
    from nocturna.observatory.unit import Observatory


def frame_position(unit: Observatory, frame: WrittenFrame) -> tuple[int, int]:
    """(frame, of): within its observation for a light frame, else within its sequence."""
    observation = unit.observations.get(frame.title or "") \
        if frame.image_type in LIGHT_TYPES else None
    if observation is None:
        return frame.index, frame.total
    return observation.exposures_taken + frame.index, observation.total_frames


def progress_label(frame: WrittenFrame, filter_name: str | None) -> str:
    """What a sequence is taking, in a few words ("flat R", "dark 60 s", "M42 R")."""
    if frame.image_type in LIGHT_TYPES:
        what = frame.title or "object"
    elif frame.image_type == "DARK":
        what = f"dark {frame.exposure_s:g} s"
    else:
        what = frame.image_type.lower()
    return f"{what} {filter_name}" if filter_name and frame.image_type != "DARK" \
        and frame.image_type != "BIAS" else what


def announce_frames(unit: Observatory) -> None:
    """Publish every frame the unit's instruments write (see the module docstring)."""

    def observer(camera: str) -> Callable[[WrittenFrame], None]:
        def written(frame: WrittenFrame) -> None:
            number, of = frame_position(unit, frame)
            filter_name: Any = frame.header.get("FILTER")
            filter_name = str(filter_name) if filter_name not in (None, "") else None
            unit.publish("frame", image_id=frame.image_id, path=str(frame.path),
                         field=frame.title, image_type=frame.image_type, filter=filter_name,
                         exposure_s=frame.exposure_s, frame=number, of=of, camera=camera)
            if frame.total > 1:
                unit.report_progress(progress_label(frame, filter_name), number, of)

        return written

    for instrument in unit.instruments.values():
        instrument.written_observers.append(observer(instrument.camera.name))
