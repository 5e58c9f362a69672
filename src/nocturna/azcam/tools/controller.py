"""The ``controller`` tool: the camera electronics behind the exposure tool.

nocturna drives cameras through its camera interface rather than a controller's DSP
code, so this tool maps azcam's controller calls onto it: ``initialize`` connects,
``reset`` aborts an exposure and reads the whole sensor again, ``set_video_gain`` /
``set_video_speed`` choose the gain and readout mode, ``get_status`` reports the
camera's state. ``flush`` only checks the camera is idle: nocturna's cameras clear
the sensor at the start of every exposure.
"""

from __future__ import annotations

from typing import Any

from nocturna.azcam.remote import remote
from nocturna.core.errors import InvalidOperationError, InvalidValueError
from nocturna.devices.camera import Camera
from nocturna.devices.types import CameraState


class ControllerTool:
    """azcam's controller calls on a nocturna camera."""

    name = "controller"

    def __init__(self, camera: Camera) -> None:
        self.camera = camera

    @remote
    async def initialize(self) -> None:
        """Connect the camera (if it is not connected)."""
        if not self.camera.connected:
            await self.camera.connect()

    @remote
    async def reset(self) -> None:
        """Abort any exposure and read the whole sensor unbinned."""
        await self.camera.abort_exposure()
        info = await self.camera.info()
        await self.camera.set_frame(1, 1, 0, 0, info.width, info.height)

    @remote
    async def flush(self, cycles: int = 1) -> None:
        """Clear the sensor: the camera clears it at each exposure start, so this checks
        that no exposure is in progress."""
        if cycles < 0:
            raise InvalidValueError(f"controller.flush: cycles must be >= 0, got {cycles}")
        state = (await self.camera.state()).camera_state
        if state not in (CameraState.IDLE, CameraState.ERROR):
            raise InvalidOperationError(f"controller.flush: camera {self.camera.name} is "
                                        f"{state.name.lower()}")

    @remote
    async def set_video_gain(self, gain: int) -> None:
        """The camera's gain setting."""
        await self.camera.set_gain(gain)

    @remote
    async def get_video_gain(self) -> int | None:
        return (await self.camera.state()).gain

    @remote
    async def set_video_speed(self, speed: int) -> None:
        """The camera's readout mode, by index (see ``get_status``'s readout_modes)."""
        await self.camera.set_readout_mode(speed)

    @remote
    async def get_video_speed(self) -> int:
        return (await self.camera.state()).readout_mode

    @remote
    async def get_pixels_remaining(self) -> int:
        """Pixels still to read: the frame's size while reading out, else 0."""
        status = await self.camera.state()
        if status.camera_state is not CameraState.READING:
            return 0
        left = max(0, 100 - status.percent_completed) / 100.0
        return round(status.num_x * status.num_y * left)

    @remote
    async def get_status(self) -> dict[str, Any]:
        """The camera's state, frame, gain and temperatures."""
        info = await self.camera.info()
        status = await self.camera.state()
        return {
            "camera": self.camera.name, "driver": self.camera.driver_name,
            "state": status.camera_state.name.lower(), "paused": status.paused,
            "width": info.width, "height": info.height,
            "bin": [status.bin_x, status.bin_y],
            "subframe": [status.start_x, status.start_y, status.num_x, status.num_y],
            "gain": status.gain, "readout_mode": status.readout_mode,
            "readout_modes": list(info.readout_modes),
            "ccd_temperature_c": status.ccd_temperature_c,
            "cooler_on": status.cooler_on,
        }
