"""A simulated unit with the demo camera's full 2048² sensor (5.9° fields, in the range
the plate solver's index files cover) and the closed loops chosen per test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nocturna.core.config import Config
from unit_helpers import PERFECT_MOUNT, SMALL_CAMERA, unit_config

DEMO_CAMERA = {**SMALL_CAMERA, "width": 2048, "height": 2048}


def loop_config(tmp_path: Path, *, mount: dict[str, Any] | None = None,
                **observatory: Any) -> Config:
    """The unit configuration with the demo camera, loop settings and a perfect mount
    but for the error ``mount`` options add."""
    return unit_config(tmp_path, cameras=[DEMO_CAMERA],
                       mount={"name": "mount0", "driver": "sim", **PERFECT_MOUNT,
                              **(mount or {})},
                       observatory=observatory)


async def field_overhead(unit: Any, dec_deg: float = 25.0,
                         hour_angle_deg: float = 2.0) -> tuple[float, float]:
    """(ra, dec) of a field at ``hour_angle_deg`` now, near the zenith of the demo site."""
    status = await unit.mount.state()
    return (status.sidereal_time_hours * 15.0 - hour_angle_deg) % 360.0, dec_deg
