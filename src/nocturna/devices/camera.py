"""Camera interface (ASCOM ICameraV3 semantics).

Images are numpy arrays of shape ``(num_y, num_x)`` (rows, columns: the usual numpy
and FITS order; ASCOM's ImageArray is the transpose, which the Alpaca layer applies).

Beyond ASCOM, a camera may take *stuttered* (charge-shift) exposures
(:meth:`Camera.start_stuttered_exposure`, flagged by :attr:`CameraInfo.can_stutter`):
LATISS's ``take_stuttered`` and azcam's focus frame. It may also *pause* an exposure
(:meth:`Camera.pause_exposure` / :meth:`Camera.resume_exposure`, flagged by
:attr:`CameraInfo.can_pause`): azcam's pause/resume. ASCOM has neither.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from nocturna.core.errors import (
    DeviceTimeoutError,
    InvalidValueError,
    NocturnaError,
    NotImplementedByDeviceError,
    OperationCancelledError,
)
from nocturna.devices.base import Device, Snapshot, command
from nocturna.devices.types import CameraState, GuideDirection, SensorType

# Back-off of the default :meth:`Camera.wait_until_ready` once the exposure time has
# passed: the first poll after 5 ms, then doubling up to 0.5 s (clock seconds).
READY_POLL_FIRST_S = 0.005
READY_POLL_MAX_S = 0.5


def check_subframe(owner: str, start_x: int, start_y: int, num_x: int, num_y: int,
                   width: int, height: int) -> None:
    """Refuse a subframe (binned pixels) that is not whole numbers inside the
    ``width`` × ``height`` binned sensor; ``owner`` starts the message."""
    values = (start_x, start_y, num_x, num_y)
    if any(isinstance(v, bool) or not isinstance(v, int) for v in values) or \
            start_x < 0 or start_y < 0 or num_x < 1 or num_y < 1 or \
            start_x + num_x > width or start_y + num_y > height:
        raise InvalidValueError(
            f"{owner}: subframe start ({start_x}, {start_y}) size {num_x}x{num_y} "
            f"does not fit the {width}x{height} binned sensor")


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
    can_stutter: bool = False  # start_stuttered_exposure() (not an ASCOM member)
    can_pause: bool = False  # pause_exposure() / resume_exposure() (not ASCOM members)


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
    # An exposure paused by pause_exposure(): camera_state stays EXPOSING (ASCOM has no
    # paused state), the shutter is closed and the integration timer stopped.
    paused: bool = False


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


BetweenSegments = Callable[[int], Awaitable[None]]
"""Called with ``k`` after segment ``k`` of a stuttered exposure (and its shift)."""


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

    @command(timeout_s=10.0)
    async def start_stuttered_exposure(self, segment_s: float, n_shift: int, row_shift: int,
                                       light: bool = True,
                                       between: BetweenSegments | None = None) -> None:
        """Start a stuttered (charge-shift) exposure and return; wait as for any exposure.

        One exposure of ``n_shift`` segments of ``segment_s`` seconds each. After every
        segment but the last, the shutter closes, the charge is shifted ``row_shift``
        binned rows toward row 0 (the serial register; charge shifted past row 0 is
        lost, rows entering at the top start empty), then ``between(k)`` is awaited if
        given (``k``: the 0-based segment just ended; e.g. move the focuser for azcam's
        focus frame) and the next segment exposes. Each star therefore appears
        ``n_shift`` times, ``row_shift`` rows apart, the last segment's copy unshifted.

        :meth:`image` then returns the one frame read out at the end; its
        ``duration_s`` is the total open time (``n_shift × segment_s``). Arguments are
        checked before anything starts (:class:`InvalidValueError`: ``n_shift`` an
        integer ≥ 1, ``row_shift`` an integer ≥ 0, ``n_shift × row_shift`` below the
        binned sensor height, ``segment_s`` a valid exposure time); a busy camera
        raises :class:`InvalidOperationError`. :meth:`abort_exposure` abandons it.
        Cameras that can are flagged :attr:`CameraInfo.can_stutter`.
        """
        raise self.not_implemented("start_stuttered_exposure")

    @command
    async def abort_exposure(self) -> None:
        """Abandon the exposure; no image."""
        raise self.not_implemented("abort_exposure")

    @command
    async def pause_exposure(self) -> None:
        """Pause the exposure in progress: the shutter closes and the integration timer
        stops until :meth:`resume_exposure` (azcam's pause; not an ASCOM member).

        The camera stays EXPOSING (:attr:`CameraStatus.paused` is true) and its image is
        ready only after the resumed exposure has collected its full open time. Cameras
        that can are flagged :attr:`CameraInfo.can_pause`; the others raise
        :class:`NotImplementedByDeviceError`.
        """
        raise self._cannot_pause("pause_exposure")

    @command
    async def resume_exposure(self) -> None:
        """Resume a paused exposure: the shutter reopens (for a light frame) and the
        integration timer runs on for the open time still to collect."""
        raise self._cannot_pause("resume_exposure")

    def _cannot_pause(self, member: str) -> NotImplementedByDeviceError:
        return NotImplementedByDeviceError(
            f"{self.kind} {self.name!r} cannot pause an exposure ({member}): ASCOM cameras "
            "have no pause, and this driver does not provide one")

    @command
    async def stop_exposure(self) -> None:
        """End the exposure early; the image is read out."""
        raise self.not_implemented("stop_exposure")

    @command
    async def pulse_guide(self, direction: GuideDirection, duration_ms: int) -> None:
        raise self.not_implemented("pulse_guide")

    @abstractmethod
    @command(read_only=True)
    async def image(self) -> CameraImage:
        """The last image (:class:`InvalidOperationError` if none is ready)."""

    async def wait_until_ready(self, duration_s: float, *,
                               timeout_s: float | None = None) -> None:
        """Wait (on the clock) until the exposure just started has an image ready.

        ``duration_s`` is the exposure's (total) open time. The default, for any
        driver: sleep that long, then poll :meth:`state` for ``image_ready``, the first
        poll after 5 ms and the interval doubling up to 0.5 s. Drivers that know when
        the image will be ready override it with no polling at all.

        Raises :class:`DeviceTimeoutError` if no image is ready ``timeout_s`` clock
        seconds after the call (default ``duration_s + 600``), and
        :class:`OperationCancelledError` if the camera goes idle without an image (the
        exposure was aborted; idle on two polls in a row, so a driver a moment late in
        raising ``image_ready`` is not taken for an abort); an error state is a
        :class:`NocturnaError`.
        """
        limit = duration_s + 600.0 if timeout_s is None else timeout_s
        deadline = self.clock.timestamp() + limit
        await self.clock.sleep(min(max(0.0, duration_s), limit))
        interval = READY_POLL_FIRST_S
        idle_seen = False
        while True:
            state = await self.state()
            if state.image_ready:
                return
            if state.camera_state == CameraState.ERROR:
                raise NocturnaError(f"{self.kind} {self.name!r} reports an error instead of "
                                    "an image")
            if state.camera_state == CameraState.IDLE:
                if idle_seen:  # idle twice in a row, no image: the exposure was abandoned
                    raise OperationCancelledError(
                        f"{self.kind} {self.name!r}: the exposure ended without an image")
                idle_seen = True
            else:
                idle_seen = False
            remaining = deadline - self.clock.timestamp()
            if remaining <= 0:
                raise DeviceTimeoutError(f"{self.kind} {self.name!r}: no image ready within "
                                         f"{limit:g} s")
            await self.clock.sleep(min(interval, remaining))
            interval = min(READY_POLL_MAX_S, interval * 2)

    async def set_frame(self, bin_x: int, bin_y: int, start_x: int, start_y: int, num_x: int,
                        num_y: int) -> None:
        """Binning and subframe together, changing only what differs from now."""
        state = await self.state()
        if (state.bin_x, state.bin_y) != (bin_x, bin_y):
            await self.set_binning(bin_x, bin_y)
            state = await self.state()
        if (state.start_x, state.start_y, state.num_x, state.num_y) != \
                (start_x, start_y, num_x, num_y):
            await self.set_subframe(start_x, start_y, num_x, num_y)

    async def expose(self, duration_s: float, light: bool = True, *,
                     timeout_s: float | None = None) -> CameraImage:
        """Expose, wait (on the clock) until the image is ready, and return it.

        ``timeout_s``: see :meth:`wait_until_ready`.
        """
        await self.start_exposure(duration_s, light)
        await self.wait_until_ready(duration_s, timeout_s=timeout_s)
        return await self.image()
