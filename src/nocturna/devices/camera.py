"""Camera interface (ASCOM ICameraV3 semantics).

Images are numpy arrays of shape ``(num_y, num_x)`` (rows, columns: the usual numpy
and FITS order; ASCOM's ImageArray is the transpose, which the Alpaca layer applies).
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from nocturna.devices.base import Device, Snapshot, command
from nocturna.devices.types import CameraState, GuideDirection, SensorType


@dataclass(frozen=True)
class CameraInfo(Snapshot):
    sensor_name: str
    sensor_type: SensorType
    width: int  # CameraXSize, unbinned pixels
    height: int  # CameraYSize
    pixel_size_x_um: float
    pixel_size_y_um: float
    max_bin_x: int
    max_bin_y: int
    can_asymmetric_bin: bool
    full_well_e: float
    electrons_per_adu: float
    max_adu: int
    exposure_min_s: float
    exposure_max_s: float
    exposure_resolution_s: float
    readout_modes: list[str]
    has_shutter: bool
    can_abort_exposure: bool
    can_stop_exposure: bool
    can_pulse_guide: bool
    can_set_ccd_temperature: bool
    can_get_cooler_power: bool
    can_fast_readout: bool
    bayer_offset_x: int | None = None  # None for monochrome sensors
    bayer_offset_y: int | None = None
    gain_min: int | None = None  # numeric gain range, or None
    gain_max: int | None = None
    gains: list[str] | None = None  # named gains, or None
    offset_min: int | None = None
    offset_max: int | None = None
    offsets: list[str] | None = None


@dataclass(frozen=True)
class CameraStatus(Snapshot):
    camera_state: CameraState
    ccd_temperature_c: float
    heat_sink_temperature_c: float
    cooler_on: bool
    cooler_power_pct: float
    set_ccd_temperature_c: float
    temperature_stable: bool  # within tolerance of the set point long enough
    bin_x: int
    bin_y: int
    start_x: int
    start_y: int
    num_x: int
    num_y: int
    gain: int | None
    offset: int | None
    readout_mode: int
    fast_readout: bool
    image_ready: bool
    percent_completed: int
    is_pulse_guiding: bool
    last_exposure_duration_s: float | None  # None: no exposure yet
    last_exposure_start_time: datetime | None




@dataclass(frozen=True)
class CameraImage:
    """Pixels and what produced them."""

    data: np.ndarray
    start_time: datetime
    duration_s: float
    light: bool
    bin_x: int
    bin_y: int
    start_x: int
    start_y: int
    gain: int | None
    offset: int | None
    readout_mode: int
    ccd_temperature_c: float
    set_ccd_temperature_c: float
    extra: dict[str, Any] = field(default_factory=dict)  # driver-specific (e.g. true pointing)


class Camera(Device):
    """A camera: exposures, binning, subframes, gain/offset, readout modes, cooling."""

    kind = "camera"
    interface_version = 3

    @abstractmethod
    @command
    async def info(self) -> CameraInfo:
        """Sensor geometry and capabilities."""

    @abstractmethod
    @command
    async def state(self) -> CameraStatus:
        """The camera's current state."""

    @command
    async def set_binning(self, bin_x: int, bin_y: int | None = None) -> None:
        """Set binning (also resets the subframe to the whole binned sensor)."""
        raise self.not_implemented("set_binning")

    @command
    async def set_subframe(self, start_x: int, start_y: int, num_x: int, num_y: int) -> None:
        """Read out only ``num_x`` × ``num_y`` binned pixels from (start_x, start_y)."""
        raise self.not_implemented("set_subframe")

    @command
    async def set_gain(self, gain: int) -> None:
        raise self.not_implemented("set_gain")

    @command
    async def set_offset(self, offset: int) -> None:
        raise self.not_implemented("set_offset")

    @command
    async def set_readout_mode(self, index: int) -> None:
        raise self.not_implemented("set_readout_mode")

    @command
    async def set_fast_readout(self, fast: bool) -> None:
        raise self.not_implemented("set_fast_readout")

    @command
    async def set_cooler(self, on: bool) -> None:
        raise self.not_implemented("set_cooler")

    @command
    async def set_target_temperature(self, celsius: float) -> None:
        raise self.not_implemented("set_target_temperature")

    @abstractmethod
    @command
    async def start_exposure(self, duration_s: float, light: bool = True) -> None:
        """Start an exposure and return; poll :meth:`state` (``image_ready``)."""

    @command
    async def abort_exposure(self) -> None:
        """Abandon the exposure; no image."""
        raise self.not_implemented("abort_exposure")

    @command
    async def stop_exposure(self) -> None:
        """End the exposure early; the image is read out."""
        raise self.not_implemented("stop_exposure")

    @command
    async def pulse_guide(self, direction: GuideDirection, duration_ms: int) -> None:
        raise self.not_implemented("pulse_guide")

    @abstractmethod
    @command
    async def image(self) -> CameraImage:
        """The last image (:class:`InvalidOperationError` if none is ready)."""

    async def expose(self, duration_s: float, light: bool = True, *,
                     poll_s: float | None = None) -> CameraImage:
        """Expose, wait (on the clock) until the image is ready, and return it."""
        await self.start_exposure(duration_s, light)
        poll = poll_s if poll_s is not None else max(0.05, min(1.0, duration_s / 20))
        await self.wait_until(lambda s: s.image_ready, timeout_s=duration_s + 600,
                              poll_s=poll, what="the exposure")
        return await self.image()
