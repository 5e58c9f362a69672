"""How long configured devices take for the actions a plan must count, without
building them: a simulated device answers from its model, a real one is unknown (the
site file's ``scheduler.overhead`` carries its costs)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from nocturna.core.config.models import DeviceConfig


def _simulated_camera(entry: DeviceConfig | None) -> DeviceConfig | None:
    """The simulator entry behind a simulated camera entry (a ``driver: sim`` DSLR with
    its port: the simulated sensor behind it), else None."""
    if entry is None or entry.driver != "sim":
        return None
    from nocturna.devices.protocol_sims import dslr_sensor_entry, hardware_entry

    return entry if hardware_entry("cameras", entry) is None else dslr_sensor_entry(entry)


def camera_readout(entry: DeviceConfig | None) -> Callable[[int], float]:
    """``readout(pixels)``: seconds the camera of ``entry`` takes to read that many
    pixels (0 for a camera that is not simulated)."""
    simulated = _simulated_camera(entry)
    if simulated is None:
        return lambda pixels: 0.0
    from nocturna.devices.sim.camera import camera_model

    return camera_model(simulated).readout_time_s


def camera_size(entry: DeviceConfig | None) -> tuple[int, int] | None:
    """Width and height in pixels of a simulated camera, else None."""
    simulated = _simulated_camera(entry)
    if simulated is None:
        return None
    from nocturna.devices.sim.camera import camera_model

    model = camera_model(simulated)
    return model.width, model.height


@dataclass(frozen=True)
class FocuserMotion:
    """A focuser's travel: its speed and its upper limit in steps."""

    speed_steps_s: float
    max_step: int


def focuser_motion(entry: DeviceConfig | None) -> FocuserMotion:
    """The travel of the focuser of ``entry``; a real one's moves are not counted
    (infinitely fast, practically unlimited)."""
    if entry is None or entry.driver != "sim":
        return FocuserMotion(1.0e9, 1 << 30)
    from nocturna.devices.sim.focuser import SimFocuser

    focuser = SimFocuser.from_config(entry)
    return FocuserMotion(focuser.speed_steps_s, focuser.max_step)
