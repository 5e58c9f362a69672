"""Every light frame's ``unit.frame`` event numbers it within its observation: 1, 2, 3…
in the order taken, whatever the set's filters and however late its file is written."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from control_helpers import at, steered_night

from nocturna.runtime.control import UnitControl


async def nothing(control: UnitControl, notes: dict[str, Any]) -> None:
    return None


def test_light_frames_are_numbered_in_order_within_their_observation(tmp_path):
    night = steered_night(tmp_path, nothing, start=at(7, 0), until=at(9, 30),
                          topics="unit.frame")
    numbers: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for event in night.events:
        if event.data["image_type"] == "OBJECT":
            numbers[event.data["field"]].append((event.data["frame"], event.data["of"]))
    assert sum(len(frames) for frames in numbers.values()) >= 10
    assert any(len({f for f in frames}) > 3 for frames in numbers.values())
    for name, frames in numbers.items():
        taken = [number for number, _ in frames]
        assert taken == list(range(1, len(taken) + 1)), (name, taken)
        assert all(number <= of for number, of in frames), (name, frames)
