"""Simulated camera: renders the real sky at the mount's pointing (see :mod:`.sky`).

Physics, all on the nocturna clock:

* exposure → readout → image ready, with a readout time proportional to the pixels
  read (faster in the "fast" mode and when binned);
* the frame is rendered from the *true* pointing of the mount, the focuser's distance
  from best focus (plus the filter's focus offset) sets the PSF width, the sky
  background follows the Sun and the Moon, clouds from the weather station dim the
  stars and the sky, a dark filter or a dark frame lets no light in;
* what lights a light frame (``illumination`` in the image's ``extra``): the sky
  (stars and background) reaches the sensor only through an OPEN dome shutter (any
  other state blocks it: CLOSED, OPENING, CLOSING, ERROR) and past a cover that is
  OPEN or NOT_PRESENT (CLOSED, MOVING, UNKNOWN, ERROR block it) → ``"sky"``; a CLOSED
  cover whose calibrator is READY lights the sensor uniformly, no stars, at
  ``flat_panel_e_per_s`` × brightness / max brightness × the filter's throughput →
  ``"panel"`` (clouds and the dome do not matter); otherwise ``"none"`` (as a dark
  frame). A dome or calibrator that is absent or not connected blocks nothing;
* a colour sensor (``sensor_type: rggb``) reads an RGGB Bayer mosaic, unbinned: each
  pixel's signal above the bias scaled by its filter's response (:func:`bayer_mosaic`),
  so a simulated DSLR looks like a real one downstream;
* gain changes e⁻/ADU (``10^(-(gain - unity_gain)/200)``), offset adds to the bias;
* cooling is first order: the sensor approaches ``max(set point, ambient -
  max_cooling_delta)`` with time constant ``cooling_tau_s``; it is *stable* once it
  has stayed within ``tolerance_c`` of the set point for ``stability_s``; dark current
  doubles every 6.3 °C.

Rendering runs in a worker thread as soon as the exposure starts (the scene is fixed
at the start), so it overlaps the simulated exposure and never blocks the event loop.
The sky brightness (astropy: Sun, Moon, airmass) is computed at most once per minute
and 0.1° of pointing (nodes, cached), linearly interpolated in time between nodes.

Stuttered exposures (:meth:`SimCamera.start_stuttered_exposure`) run as a timeline on
the clock: segment ``k`` reads the scene at its start (pointing, focuser → PSF width,
filter, sky), its charge is rendered in a worker thread while it exposes, then the
charge shifts, ``between(k)`` is awaited, and the next segment starts; one read-out of
the whole frame at the end (see :class:`~nocturna.devices.sim.sky.render.StutteredFrame`
for the model: exact per-row background, stars and hot pixels shifted per segment).

Pausing (:meth:`SimCamera.pause_exposure`, azcam's pause): the shutter closes and the
integration timer stops; the exposure's end is unknown (as between the segments of a
stuttered exposure) until :meth:`SimCamera.resume_exposure` sets it to now plus the open
time still to collect. The camera stays EXPOSING (``paused`` in its state). The frame
is the one rendered at the start for the requested open time: the light is that of
the open time, and the dark current is *not* extended by the pause (a real sensor
would keep collecting dark charge while paused). A stuttered exposure cannot pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from nocturna.core.config.models import DeviceConfig, Site
from nocturna.core.errors import (
    DeviceTimeoutError,
    InvalidOperationError,
    InvalidValueError,
    OperationCancelledError,
)
from nocturna.devices.camera import (
    BetweenSegments,
    Camera,
    CameraImage,
    CameraInfo,
    CameraStatus,
    check_subframe,
)
from nocturna.devices.conditions import ObservingConditions
from nocturna.devices.covercalibrator import CoverCalibrator
from nocturna.devices.dome import Dome
from nocturna.devices.filterwheel import FilterWheel
from nocturna.devices.focuser import Focuser
from nocturna.devices.mount import Mount
from nocturna.devices.sim import options as opt
from nocturna.devices.sim.options import driver_options
from nocturna.devices.types import (
    CalibratorState,
    CameraState,
    CoverState,
    SensorType,
    ShutterState,
)

log = logging.getLogger(__name__)


# Relative throughput of common filters (luminance = 1); unknown names count as 1.
FILTER_THROUGHPUT = {"l": 1.0, "lum": 1.0, "clear": 1.0, "r": 0.3, "g": 0.3, "b": 0.3,
                     "v": 0.3, "i": 0.3, "ha": 0.03, "oiii": 0.03, "sii": 0.03, "dark": 0.0}


BAYER_RESPONSE = {"R": 0.55, "G": 1.0, "B": 0.7}
"""Signal through each colour filter of an RGGB sensor relative to green (about a
Canon DSLR's for a white source)."""


def bayer_mosaic(data: Any, *, bias_adu: float, start_x: int = 0, start_y: int = 0) -> Any:
    """``data`` as an RGGB sensor reads it: each pixel's signal above the bias scaled by
    its filter's :data:`BAYER_RESPONSE` (the pattern starts at unbinned pixel (0, 0), so a
    subframe starting at an odd column or row starts on another colour)."""
    import numpy as np

    gain = np.empty((2, 2), dtype=np.float32)
    for (dy, dx), colour in zip(((0, 0), (0, 1), (1, 0), (1, 1)), "RGGB", strict=True):
        gain[(dy + start_y) % 2, (dx + start_x) % 2] = BAYER_RESPONSE[colour]
    rows, columns = data.shape
    tiled = np.tile(gain, ((rows + 1) // 2, (columns + 1) // 2))[:rows, :columns]
    signal = (data.astype(np.float32) - bias_adu) * tiled + bias_adu
    if np.issubdtype(data.dtype, np.integer):
        info = np.iinfo(data.dtype)
        return np.clip(np.rint(signal), info.min, info.max).astype(data.dtype)
    return signal.astype(data.dtype)


@dataclass(frozen=True)
class SimCameraModel:
    """The simulated sensor and optics (defaults: a wide-field ~10″/px unit)."""

    sensor_name: str = "nocturna-sim-2k"
    width: int = 2048
    height: int = 2048
    pixel_size_um: float = 4.3
    sensor_type: SensorType = SensorType.MONOCHROME
    max_bin: int = 4
    focal_length_mm: float = 85.0
    aperture_mm: float = 60.0
    rotation_deg: float = 0.0
    throughput: float = 0.5
    seeing_fwhm_px: float = 1.6  # at best focus, unbinned pixels
    best_focus: int = 30_000  # focuser steps
    focus_steps_per_px: float = 60.0  # defocus steps that blur by one pixel
    full_well_e: float = 50_000.0
    unity_gain: int = 100  # gain setting at which e⁻/ADU = electrons_per_adu
    electrons_per_adu: float = 1.0
    gain_range: tuple[int, int] = (0, 300)
    offset_range: tuple[int, int] = (0, 1000)
    default_gain: int = 100
    default_offset: int = 10
    bias_adu: float = 300.0  # plus offset
    read_noise_e: float = 3.5
    max_adu: int = 65535
    dark_e_per_s_at_0c: float = 0.05
    # Flat panel at full brightness, unfiltered, per unbinned pixel: 5 s at 50 % in L
    # collects 25 000 e⁻ = 25 000 ADU above the bias at the default gain.
    flat_panel_e_per_s: float = 10_000.0
    hot_pixel_fraction: float = 1e-4
    sensor_seed: int = 1
    readout_s: float = 2.0  # full frame, unbinned, normal mode (0: instantaneous)
    fast_readout_s: float = 0.5
    readout_overhead_s: float = 0.05  # added to every readout, whatever its size
    exposure_min_s: float = 0.0
    exposure_max_s: float = 3600.0
    cooling_tau_s: float = 60.0
    max_cooling_delta_c: float = 40.0
    ambient_c: float = 10.0  # when no weather station reports a temperature
    tolerance_c: float = 0.5
    stability_s: float = 60.0
    noise_seed: int | None = None  # None: a different noise realisation each frame

    def __post_init__(self) -> None:
        for name in ("width", "height", "max_bin", "focal_length_mm", "aperture_mm",
                     "pixel_size_um", "full_well_e", "electrons_per_adu",
                     "cooling_tau_s", "focus_steps_per_px", "seeing_fwhm_px"):
            if not getattr(self, name) > 0:
                raise InvalidValueError(f"camera option {name} must be > 0, "
                                        f"got {getattr(self, name)!r}")
        for name in ("readout_s", "fast_readout_s", "readout_overhead_s",
                     "flat_panel_e_per_s"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise InvalidValueError(f"camera option {name} must be >= 0, got {value!r}")

    def readout_time_s(self, pixels: int, *, fast: bool = False) -> float:
        """Seconds to read ``pixels`` (binned) pixels: proportional, plus the fixed overhead."""
        full = self.fast_readout_s if fast else self.readout_s
        return full * pixels / (self.width * self.height) + self.readout_overhead_s


_REFERENCES = ("primary", "filterwheel", "focuser", "calibrator")
_SUFFIX_UNITS = {"_mm": "mm", "_um": "um", "_deg": "deg", "_s": "s", "_c": "deg_C"}


def _sensor_type(value: Any) -> SensorType:
    try:
        return SensorType[str(value).upper()]
    except KeyError:
        raise ValueError(f"expected one of {', '.join(t.name.lower() for t in SensorType)}") \
            from None


def _model_options() -> dict[str, opt.Converter]:
    """A converter per :class:`SimCameraModel` field; units from the name's suffix."""
    spec: dict[str, opt.Converter] = {key: opt.anything for key in _REFERENCES}
    for item in fields(SimCameraModel):
        default = item.default
        if item.name == "sensor_type":
            spec[item.name] = _sensor_type
        elif item.name.endswith("_range"):
            spec[item.name] = lambda v: tuple(opt.list_of(opt.integer(), min_length=2)(v))
        elif isinstance(default, bool):
            spec[item.name] = opt.boolean
        elif isinstance(default, int):
            spec[item.name] = opt.integer()
        elif default is None:
            spec[item.name] = opt.optional(opt.integer())
        elif isinstance(default, str):
            spec[item.name] = opt.text
        else:
            unit = next((u for s, u in _SUFFIX_UNITS.items() if item.name.endswith(s)), None)
            spec[item.name] = opt.number(unit)
    return spec


_MODEL_OPTIONS = _model_options()


def camera_model(cfg: DeviceConfig) -> SimCameraModel:
    """The simulated sensor and optics a camera entry describes (its extra keys)."""
    options = driver_options(cfg, _MODEL_OPTIONS)
    for key in (*_REFERENCES, "description", "timeout_s"):
        options.pop(key, None)
    return SimCameraModel(**options)


@dataclass
class _Stutter:
    """Progress of a stuttered exposure's timeline."""

    segment_s: float
    n_shift: int
    row_shift: int
    segment_start: datetime | None  # of the segment exposing now (None between segments)
    segments_done: int = 0
    settings: list[dict[str, Any]] = field(default_factory=list)  # per segment

    def open_s(self, now: datetime) -> float:
        """Seconds of light collected so far."""
        current = 0.0
        if self.segment_start is not None:
            current = min(self.segment_s, max(0.0, (now - self.segment_start).total_seconds()))
        return self.segments_done * self.segment_s + current


@dataclass
class _Exposure:
    start: datetime
    duration_s: float  # total open time
    light: bool
    readout_s: float
    settings: dict[str, Any]
    render: asyncio.Task[Any] | None  # the frame (a stuttered exposure's whole timeline)
    end: datetime | None  # when the last light was collected; None: not known yet
    stutter: _Stutter | None = None
    aborted: bool = False
    error: BaseException | None = None  # why a stuttered exposure was abandoned
    paused_at: datetime | None = None  # paused since then (end is None meanwhile)
    paused_s: float = 0.0  # closed time of earlier pauses
    remaining_s: float = 0.0  # open time still to collect, while paused

    def open_s(self, now: datetime) -> float:
        """Seconds of light collected by ``now``."""
        if self.stutter is not None:
            return self.stutter.open_s(now)
        until = self.paused_at if self.paused_at is not None else now
        if self.end is not None:
            until = min(until, self.end)
        return max(0.0, (until - self.start).total_seconds() - self.paused_s)

    @property
    def ready_at(self) -> datetime | None:
        if self.end is None:
            return None
        return self.end + timedelta(seconds=self.readout_s)


class SimCamera(Camera):
    """A simulated camera on a simulated (or real) mount, focuser and filter wheel,
    inside an optional dome, behind an optional cover calibrator (flat panel)."""

    driver_name = "sim"

    def __init__(
        self,
        name: str = "cam0",
        *,
        model: SimCameraModel | None = None,
        site: Site | None = None,
        mount: Mount | None = None,
        focuser: Focuser | None = None,
        filterwheel: FilterWheel | None = None,
        weather: ObservingConditions | None = None,
        dome: Dome | None = None,
        calibrator: CoverCalibrator | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name, **kwargs)
        self.model = model or SimCameraModel()
        self.site = site
        self.mount = mount
        self.focuser = focuser
        self.filterwheel = filterwheel
        self.weather = weather
        self.dome = dome
        self.calibrator = calibrator
        m = self.model
        self._bin = (1, 1)
        self._subframe = (0, 0, m.width, m.height)
        self._gain = m.default_gain
        self._offset = m.default_offset
        self._readout_mode = 0
        self._cooler_on = False
        self._target_c = 0.0
        self._temp_anchor: tuple[float, datetime] | None = None  # (temperature, time)
        self._exposure: _Exposure | None = None
        self._last: _Exposure | None = None  # the last completed exposure before _exposure
        self._frames = 0
        self._watcher: asyncio.Task[None] | None = None
        # Set (and replaced) whenever the exposure ends, is aborted or is replaced.
        self._changed = asyncio.Event()
        self._changed_loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_config(cls, cfg: DeviceConfig, **context: Any) -> SimCamera:
        """Build from a camera entry: its extra keys are :class:`SimCameraModel` fields.

        ``primary``, ``filterwheel``, ``focuser`` and ``calibrator`` name other devices
        (the factory resolves them and passes ``mount``, ``focuser``, ``filterwheel``,
        ``weather``, ``dome`` and ``calibrator`` in ``context``); ``description`` and
        ``timeout_s`` go to the device.
        """
        options = driver_options(cfg, _MODEL_OPTIONS)
        device = {key: options.pop(key) for key in ("description", "timeout_s")
                  if key in options}
        return cls(cfg.name, model=camera_model(cfg), **device, **context)

    # ------------------------------------------------------------ lifecycle
    async def _connect(self) -> None:
        self._temp_anchor = (await self._ambient_c(), self.clock.now())

    async def _disconnect(self) -> None:
        await self._cancel_exposure()

    # ------------------------------------------------------------ snapshots
    async def info(self) -> CameraInfo:
        m = self.model
        bayer = m.sensor_type not in (SensorType.MONOCHROME,)
        return CameraInfo(
            sensor_name=m.sensor_name, sensor_type=m.sensor_type, width=m.width,
            height=m.height, pixel_size_x_um=m.pixel_size_um, pixel_size_y_um=m.pixel_size_um,
            max_bin_x=m.max_bin, max_bin_y=m.max_bin, can_asymmetric_bin=False,
            full_well_e=m.full_well_e, electrons_per_adu=m.electrons_per_adu,
            max_adu=m.max_adu, exposure_min_s=m.exposure_min_s,
            exposure_max_s=m.exposure_max_s, exposure_resolution_s=0.001,
            readout_modes=["normal", "fast"], has_shutter=True, can_abort_exposure=True,
            can_stop_exposure=True, can_pulse_guide=False, can_set_ccd_temperature=True,
            can_get_cooler_power=True, can_fast_readout=True,
            bayer_offset_x=0 if bayer else None, bayer_offset_y=0 if bayer else None,
            gain_min=m.gain_range[0], gain_max=m.gain_range[1],
            offset_min=m.offset_range[0], offset_max=m.offset_range[1], can_stutter=True,
            can_pause=True,
        )

    async def state(self) -> CameraStatus:
        now = self.clock.now()
        ambient = await self._ambient_c()
        temperature = self._temperature_at(now, ambient)
        phase, percent = self._phase(now)
        ready = self._ready_exposure(now)
        last = ready or self._last
        return CameraStatus(
            camera_state=phase, ccd_temperature_c=round(temperature, 3),
            heat_sink_temperature_c=round(ambient + self._cooler_power(temperature, ambient)
                                          / 20.0, 3),
            cooler_on=self._cooler_on,
            cooler_power_pct=round(self._cooler_power(temperature, ambient), 2),
            set_ccd_temperature_c=self._target_c,
            temperature_stable=self._stable(now, ambient),
            bin_x=self._bin[0], bin_y=self._bin[1], start_x=self._subframe[0],
            start_y=self._subframe[1], num_x=self._subframe[2], num_y=self._subframe[3],
            gain=self._gain, offset=self._offset, readout_mode=self._readout_mode,
            fast_readout=self._readout_mode == 1,
            image_ready=ready is not None,
            percent_completed=percent, is_pulse_guiding=False,
            last_exposure_duration_s=last.duration_s if last else None,
            last_exposure_start_time=last.start if last else None,
            paused=self._paused_exposure() is not None,
        )

    def _phase(self, now: datetime) -> tuple[CameraState, int]:
        exposure = self._exposure
        if exposure is None or exposure.aborted:
            return CameraState.IDLE, 100 if self._last else 0
        if exposure.end is None or now < exposure.end:
            elapsed = exposure.open_s(now)
            percent = int(100 * elapsed / exposure.duration_s) if exposure.duration_s else 100
            return CameraState.EXPOSING, min(99, percent)
        ready_at = exposure.ready_at
        if ready_at is not None and now < ready_at:
            return CameraState.READING, 100
        return CameraState.IDLE, 100

    def _ready_exposure(self, now: datetime) -> _Exposure | None:
        """The exposure whose image can be downloaded now, if any."""
        exposure = self._exposure
        if exposure is None or exposure.aborted:
            return None
        ready_at = exposure.ready_at
        if ready_at is None or now < ready_at:
            return None
        return exposure

    def _change_event(self) -> asyncio.Event:
        """The event the next change of the exposure sets (one per event loop)."""
        loop = asyncio.get_running_loop()
        if self._changed_loop is not loop:
            self._changed, self._changed_loop = asyncio.Event(), loop
        return self._changed

    def _notify(self) -> None:
        """Wake whoever waits on the exposure (it ended, was aborted or replaced)."""
        self._changed.set()
        self._changed = asyncio.Event()

    # ---------------------------------------------------------- temperature
    async def _ambient_c(self) -> float:
        if self.weather is not None and self.weather.connected:
            reading = (await self.weather.state()).temperature_c
            if reading is not None:
                return float(reading)
        return self.model.ambient_c

    def _goal_c(self, ambient: float) -> float:
        if not self._cooler_on:
            return ambient
        return max(self._target_c, ambient - self.model.max_cooling_delta_c)

    def _temperature_at(self, now: datetime, ambient: float) -> float:
        start_c, since = self._temp_anchor or (ambient, now)
        goal = self._goal_c(ambient)
        elapsed = max(0.0, (now - since).total_seconds())
        return goal + (start_c - goal) * math.exp(-elapsed / self.model.cooling_tau_s)

    def _cooler_power(self, temperature: float, ambient: float) -> float:
        if not self._cooler_on:
            return 0.0
        return max(0.0, min(100.0, 100.0 * (ambient - temperature)
                            / self.model.max_cooling_delta_c))

    def _stable(self, now: datetime, ambient: float) -> bool:
        if not self._cooler_on or self._temp_anchor is None:
            return False
        goal = self._goal_c(ambient)
        tolerance = self.model.tolerance_c
        if abs(goal - self._target_c) > tolerance:
            return False  # the set point is out of the cooler's reach
        start_c, since = self._temp_anchor
        gap = abs(start_c - goal)
        entered = since if gap <= tolerance else (
            since + timedelta(seconds=self.model.cooling_tau_s * math.log(gap / tolerance)))
        return (now - entered).total_seconds() >= self.model.stability_s

    async def _reanchor(self) -> None:
        now = self.clock.now()
        self._temp_anchor = (self._temperature_at(now, await self._ambient_c()), now)

    async def set_cooler(self, on: bool) -> None:
        await self._reanchor()
        self._cooler_on = bool(on)
        self.publish("cooler", on=self._cooler_on, set_point_c=self._target_c)

    async def set_target_temperature(self, celsius: float) -> None:
        if not isinstance(celsius, int | float) or not -60.0 <= celsius <= 40.0:
            raise InvalidValueError(f"{self.name}: set point {celsius!r} °C is not in -60..40")
        await self._reanchor()
        self._target_c = float(celsius)

    # ------------------------------------------------------------- settings
    def _require_idle(self, what: str) -> None:
        if self._phase(self.clock.now())[0] in (CameraState.EXPOSING, CameraState.READING):
            raise InvalidOperationError(f"{self.name}: cannot {what} during an exposure")

    async def set_binning(self, bin_x: int, bin_y: int | None = None) -> None:
        bin_y = bin_x if bin_y is None else bin_y
        for value in (bin_x, bin_y):
            if isinstance(value, bool) or not isinstance(value, int) or \
                    not 1 <= value <= self.model.max_bin:
                raise InvalidValueError(
                    f"{self.name}: binning {value!r} is not in 1..{self.model.max_bin}")
        if bin_x != bin_y:
            raise InvalidValueError(f"{self.name}: asymmetric binning {bin_x}x{bin_y} "
                                    "is not supported")
        self._require_idle("change binning")
        self._bin = (bin_x, bin_y)
        self._subframe = (0, 0, self.model.width // bin_x, self.model.height // bin_y)

    async def set_subframe(self, start_x: int, start_y: int, num_x: int, num_y: int) -> None:
        width, height = self.model.width // self._bin[0], self.model.height // self._bin[1]
        check_subframe(self.name, start_x, start_y, num_x, num_y, width, height)
        self._require_idle("change the subframe")
        self._subframe = (start_x, start_y, num_x, num_y)

    async def set_gain(self, gain: int) -> None:
        low, high = self.model.gain_range
        if isinstance(gain, bool) or not isinstance(gain, int) or not low <= gain <= high:
            raise InvalidValueError(f"{self.name}: gain {gain!r} is not in {low}..{high}")
        self._gain = gain

    async def set_offset(self, offset: int) -> None:
        low, high = self.model.offset_range
        if isinstance(offset, bool) or not isinstance(offset, int) or not low <= offset <= high:
            raise InvalidValueError(f"{self.name}: offset {offset!r} is not in {low}..{high}")
        self._offset = offset

    async def set_readout_mode(self, index: int) -> None:
        if index not in (0, 1) or isinstance(index, bool):
            raise InvalidValueError(f"{self.name}: readout mode {index!r} is not 0 or 1")
        self._readout_mode = index

    async def set_fast_readout(self, fast: bool) -> None:
        self._readout_mode = 1 if fast else 0

    # ------------------------------------------------------------ exposures
    def electrons_per_adu(self, gain: int | None = None) -> float:
        gain = self._gain if gain is None else gain
        return self.model.electrons_per_adu * 10 ** (-(gain - self.model.unity_gain) / 200)

    def _readout_time(self) -> float:
        """Proportional to the (binned) pixels read, plus the fixed overhead."""
        return self.model.readout_time_s(self._subframe[2] * self._subframe[3],
                                         fast=self._readout_mode == 1)

    def _check_exposure_time(self, duration_s: Any, what: str = "exposure time") -> None:
        m = self.model
        if isinstance(duration_s, bool) or not isinstance(duration_s, int | float) or \
                not math.isfinite(duration_s) or duration_s < 0:
            raise InvalidValueError(f"{self.name}: {what} {duration_s!r} s is invalid "
                                    "(must be a number >= 0)")
        if not m.exposure_min_s <= duration_s <= m.exposure_max_s:
            raise InvalidValueError(f"{self.name}: {what} {duration_s} s is not in "
                                    f"{m.exposure_min_s:g}..{m.exposure_max_s:g} s")

    def _next_seed(self) -> int | None:
        self._frames += 1
        seed = self.model.noise_seed
        return None if seed is None else seed + self._frames

    async def start_exposure(self, duration_s: float, light: bool = True) -> None:
        self._check_exposure_time(duration_s)
        self._require_idle("start an exposure")
        now = self.clock.now()
        self._last = self._ready_exposure(now) or self._last
        spec, settings = await self._scene(now, float(duration_s), bool(light))
        seed = self._next_seed()
        task = asyncio.get_running_loop().create_task(self._render(spec, seed))
        self._exposure = _Exposure(now, float(duration_s), bool(light), self._readout_time(),
                                   settings, task,
                                   end=now + timedelta(seconds=float(duration_s)))
        self._watch(self._exposure)
        self.publish("exposure.started", duration_s=float(duration_s), light=bool(light),
                     frame=self._frames)

    async def start_stuttered_exposure(self, segment_s: float, n_shift: int, row_shift: int,
                                       light: bool = True,
                                       between: BetweenSegments | None = None) -> None:
        from nocturna.devices.sim.sky.render import StutteredFrame

        if isinstance(n_shift, bool) or not isinstance(n_shift, int) or n_shift < 1:
            raise InvalidValueError(f"{self.name}: n_shift {n_shift!r} must be an "
                                    "integer >= 1")
        if isinstance(row_shift, bool) or not isinstance(row_shift, int) or row_shift < 0:
            raise InvalidValueError(f"{self.name}: row_shift {row_shift!r} must be an "
                                    "integer >= 0")
        height = self.model.height // self._bin[1]
        if n_shift * row_shift >= height:
            raise InvalidValueError(
                f"{self.name}: n_shift × row_shift = {n_shift} × {row_shift} = "
                f"{n_shift * row_shift} rows must be less than the binned sensor height "
                f"{height}")
        self._check_exposure_time(segment_s, "segment time")
        total_s = float(segment_s) * n_shift
        if total_s > self.model.exposure_max_s:
            raise InvalidValueError(
                f"{self.name}: {n_shift} segments of {segment_s} s = {total_s:g} s exceed "
                f"the longest exposure {self.model.exposure_max_s:g} s")
        if between is not None and not callable(between):
            raise InvalidValueError(f"{self.name}: between {between!r} is not callable")
        self._require_idle("start an exposure")
        now = self.clock.now()
        self._last = self._ready_exposure(now) or self._last
        spec, settings = await self._scene(now, float(segment_s), bool(light))
        frame = StutteredFrame(n_shift, row_shift)
        stutter = _Stutter(float(segment_s), n_shift, row_shift, segment_start=now,
                           settings=[settings])
        exposure = _Exposure(now, total_s, bool(light), self._readout_time(), settings,
                             None, end=None, stutter=stutter)
        seed = self._next_seed()
        exposure.render = asyncio.get_running_loop().create_task(
            self._stutter_timeline(exposure, frame, spec, between, seed))
        self._exposure = exposure
        self._watch(exposure)
        self.publish("exposure.started", duration_s=total_s, light=bool(light),
                     frame=self._frames, stuttered=True, segment_s=float(segment_s),
                     n_shift=n_shift, row_shift=row_shift)

    async def _stutter_timeline(self, exposure: _Exposure, frame: Any, first_spec: Any,
                                between: BetweenSegments | None, seed: int | None) -> Any:
        """Expose the segments on the clock, shift between them, then read out once."""
        from nocturna.devices.sim.sky.render import with_readout_of

        stutter = exposure.stutter
        assert stutter is not None
        charges: list[asyncio.Future[None]] = []
        try:
            spec, start = first_spec, exposure.start
            for k in range(stutter.n_shift):
                if k > 0:
                    start = self.clock.now()
                    spec, settings = await self._scene(start, stutter.segment_s,
                                                       exposure.light)
                    spec = with_readout_of(spec, first_spec)
                    stutter.settings.append(settings)
                    stutter.segment_start = start
                # The segment's charge is rendered while it exposes.
                charges.append(asyncio.ensure_future(asyncio.to_thread(frame.add, k, spec)))
                end = start + timedelta(seconds=stutter.segment_s)
                await self.clock.sleep_until(end)
                stutter.segments_done, stutter.segment_start = k + 1, None
                if k < stutter.n_shift - 1:
                    self.publish("exposure.shift", segment=k, shift=k + 1,
                                 rows=stutter.row_shift)
                    if between is not None:
                        await between(k)
            exposure.end = end
            self._notify()
            await asyncio.gather(*charges)
            return await asyncio.to_thread(frame.read_out, seed)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # between() or the render failed: the exposure is abandoned, no image.
            log.warning("%s: stuttered exposure abandoned: %s", self.name, exc)
            if self._exposure is exposure:
                exposure.aborted, exposure.error = True, exc
                self._notify()
                self.publish("exposure.failed", error=str(exc))
            return None
        finally:
            for charge in charges:
                charge.cancel()
            await asyncio.gather(*charges, return_exceptions=True)

    async def _render(self, spec: Any, seed: int | None) -> Any:
        from nocturna.devices.sim.sky.render import render_frame

        return await asyncio.to_thread(render_frame, spec, seed)

    def _watch(self, exposure: _Exposure) -> None:
        """Announce the readout and the ready image when the clock gets there."""

        async def watch() -> None:
            while exposure.end is None:  # a stuttered exposure: its end is not known yet
                if self._exposure is not exposure or exposure.aborted:
                    return
                await self._change_event().wait()
            await self.clock.sleep_until(exposure.end)
            if self._exposure is exposure and not exposure.aborted:
                self.publish("exposure.reading", readout_s=exposure.readout_s)
            ready_at = exposure.ready_at
            assert ready_at is not None
            await self.clock.sleep_until(ready_at)
            if self._exposure is exposure and not exposure.aborted:
                self.publish("exposure.ready", duration_s=exposure.duration_s)

        if self._watcher is not None:
            self._watcher.cancel()
        self._watcher = asyncio.get_running_loop().create_task(watch())

    async def wait_until_ready(self, duration_s: float, *,
                               timeout_s: float | None = None) -> None:
        """Sleep on the clock until the current exposure's image is ready (no polling).

        Wakes at once when the exposure is aborted (:class:`OperationCancelledError`),
        stopped early (then waits for the shorter exposure) or, for a stuttered one,
        when its end becomes known.
        """
        limit = duration_s + 600.0 if timeout_s is None else timeout_s
        deadline = self.clock.now() + timedelta(seconds=max(0.0, limit))
        while True:
            changed = self._change_event()  # taken before looking: no change is missed
            exposure = self._exposure
            if exposure is None:
                raise InvalidOperationError(f"{self.name}: no exposure to wait for")
            if exposure.aborted:
                reason = f": {exposure.error}" if exposure.error is not None else ""
                raise OperationCancelledError(
                    f"{self.name}: the exposure was abandoned{reason}") from exposure.error
            now = self.clock.now()
            ready_at = exposure.ready_at
            if ready_at is not None and now >= ready_at:
                return
            if now >= deadline:
                raise DeviceTimeoutError(f"{self.name}: no image ready within {limit:g} s")
            until = deadline if ready_at is None else min(ready_at, deadline)
            await self._sleep_or_change(until, changed)

    async def _sleep_or_change(self, until: datetime, changed: asyncio.Event) -> None:
        if changed.is_set():
            return
        sleeper = asyncio.ensure_future(self.clock.sleep_until(until))
        waker = asyncio.ensure_future(changed.wait())
        try:
            await asyncio.wait((sleeper, waker), return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waker.cancel()

    async def abort_exposure(self) -> None:
        exposure = self._exposure
        if exposure is not None and self._phase(self.clock.now())[0] != CameraState.IDLE:
            await self._cancel_exposure()
            self.publish("exposure.aborted")

    async def _cancel_exposure(self) -> None:
        exposure = self._exposure
        if exposure is None:
            return
        exposure.aborted = True
        self._notify()
        if self._watcher is not None:
            self._watcher.cancel()
        if exposure.render is not None:
            exposure.render.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await exposure.render

    async def stop_exposure(self) -> None:
        exposure = self._exposure
        now = self.clock.now()
        if exposure is None or self._phase(now)[0] != CameraState.EXPOSING:
            raise InvalidOperationError(f"{self.name}: no exposure in progress to stop")
        if exposure.stutter is not None:
            raise InvalidOperationError(f"{self.name}: a stuttered exposure cannot be "
                                        "stopped early; abort it")
        elapsed = exposure.open_s(now)
        if exposure.render is not None:
            exposure.render.cancel()
        spec, settings = await self._scene(exposure.start, elapsed, exposure.light)
        stopped = _Exposure(exposure.start, elapsed, exposure.light, exposure.readout_s,
                            settings, asyncio.get_running_loop().create_task(
                                self._render(spec, None)), end=now)
        self._exposure = stopped
        self._notify()
        self._watch(stopped)
        self.publish("exposure.stopped", duration_s=elapsed)

    def _paused_exposure(self) -> _Exposure | None:
        exposure = self._exposure
        if exposure is None or exposure.aborted or exposure.paused_at is None:
            return None
        return exposure

    async def pause_exposure(self) -> None:
        """Close the shutter and stop the integration timer (see the module docstring)."""
        exposure = self._exposure
        now = self.clock.now()
        if exposure is None or self._phase(now)[0] != CameraState.EXPOSING:
            raise InvalidOperationError(f"{self.name}: no exposure in progress to pause")
        if exposure.stutter is not None:
            raise InvalidOperationError(f"{self.name}: a stuttered exposure cannot be "
                                        "paused; abort it")
        if exposure.paused_at is not None:
            raise InvalidOperationError(f"{self.name}: the exposure is already paused")
        assert exposure.end is not None
        exposure.remaining_s = max(0.0, (exposure.end - now).total_seconds())
        exposure.paused_at, exposure.end = now, None
        self._notify()
        self._watch(exposure)
        self.publish("exposure.paused", remaining_s=exposure.remaining_s)

    async def resume_exposure(self) -> None:
        """Reopen the shutter; the exposure ends after the open time it still lacks."""
        exposure = self._paused_exposure()
        if exposure is None:
            raise InvalidOperationError(f"{self.name}: no paused exposure to resume")
        assert exposure.paused_at is not None
        now = self.clock.now()
        exposure.paused_s += (now - exposure.paused_at).total_seconds()
        exposure.paused_at = None
        exposure.end = now + timedelta(seconds=exposure.remaining_s)
        self._notify()
        self._watch(exposure)
        self.publish("exposure.resumed", remaining_s=exposure.remaining_s)

    async def image(self) -> CameraImage:
        exposure = self._ready_exposure(self.clock.now())
        if exposure is None:
            raise InvalidOperationError(f"{self.name}: no image is ready")
        assert exposure.render is not None
        frame = await exposure.render
        if frame is None:  # a stuttered exposure that failed just now
            raise InvalidOperationError(f"{self.name}: no image is ready")
        s = exposure.settings  # readout settings: fixed for the whole frame
        stutter = exposure.stutter
        # The scene of the last (for a stuttered frame: unshifted) segment, as the WCS.
        scene = stutter.settings[-1] if stutter is not None else s
        extra = {"electrons_per_adu": s["electrons_per_adu"], "filter": scene["filter"],
                 "focuser_position": scene["focuser_position"],
                 "true_ra_deg": scene["ra_deg"], "true_dec_deg": scene["dec_deg"],
                 "wcs": frame.wcs, "stars": len(frame.stars.x),
                 "psf_fwhm_px": scene["psf_fwhm_px"],
                 "sky_e_per_s_per_px": scene["sky_e_per_s_per_px"],
                 "illumination": scene["illumination"],
                 "panel_e_per_s_per_px": scene["panel_e_per_s_per_px"]}
        if stutter is not None:
            extra.update(
                n_shift=stutter.n_shift, row_shift=stutter.row_shift,
                segment_s=stutter.segment_s,
                segment_psf_fwhm_px=[seg["psf_fwhm_px"] for seg in stutter.settings],
                segment_focuser_positions=[seg["focuser_position"]
                                           for seg in stutter.settings],
                segment_illumination=[seg["illumination"] for seg in stutter.settings])
        if exposure.paused_s:
            extra["paused_s"] = exposure.paused_s
        data = frame.data
        if self.model.sensor_type == SensorType.RGGB and s["bin"] == (1, 1):
            data = await asyncio.to_thread(
                bayer_mosaic, data, bias_adu=self.model.bias_adu + s["offset"],
                start_x=s["subframe"][0], start_y=s["subframe"][1])
        return CameraImage(
            data=data, start_time=exposure.start, duration_s=exposure.duration_s,
            light=exposure.light, bin_x=s["bin"][0], bin_y=s["bin"][1],
            start_x=s["subframe"][0], start_y=s["subframe"][1], gain=s["gain"],
            offset=s["offset"], readout_mode=s["readout_mode"],
            ccd_temperature_c=s["ccd_temperature_c"], set_ccd_temperature_c=s["set_point_c"],
            extra=extra,
        )

    # ---------------------------------------------------------------- scene
    async def _scene(self, start: datetime, duration_s: float,
                     light: bool) -> tuple[Any, dict[str, Any]]:
        """The render spec and the settings of an exposure starting at ``start``."""
        from nocturna.devices.sim.sky.render import FrameSpec, dark_current, defocus_fwhm

        m = self.model
        ambient = await self._ambient_c()
        temperature = self._temperature_at(start, ambient)
        ra_deg, dec_deg = await self._pointing(start)
        filter_name, filter_offset = await self._filter()
        focus = await self._focus_position()
        offset_steps = 0.0 if focus is None else focus - (m.best_focus + filter_offset)
        fwhm = defocus_fwhm(m.seeing_fwhm_px, offset_steps, m.focus_steps_per_px)
        transmission = FILTER_THROUGHPUT.get((filter_name or "").lower(), 1.0)
        illumination, panel = await self._illumination(light and transmission > 0)
        clouds = sky_rate = panel_rate = 0.0
        if illumination == "sky":
            clouds = await self._cloud_fraction()
            sky_rate = await self._cached_sky_rate(start, ra_deg, dec_deg)
            sky_rate *= transmission * (1.0 - 0.6 * clouds)
        elif illumination == "panel":
            panel_rate = m.flat_panel_e_per_s * panel * transmission
        spec = FrameSpec(
            ra_deg=ra_deg, dec_deg=dec_deg, time=start, exposure_s=duration_s,
            light=illumination != "none", stars=illumination == "sky",
            focal_length_mm=m.focal_length_mm, aperture_mm=m.aperture_mm,
            throughput=max(1e-6, m.throughput * transmission * (1.0 - 0.95 * clouds)),
            rotation_deg=m.rotation_deg, psf_fwhm_px=fwhm, pixel_size_um=m.pixel_size_um,
            width=m.width, height=m.height, binning=self._bin[0],
            start_x=self._subframe[0], start_y=self._subframe[1],
            num_x=self._subframe[2], num_y=self._subframe[3],
            background_e_per_s_per_px=sky_rate + panel_rate,
            dark_current_e_per_s=dark_current(temperature, ref_e_per_s=m.dark_e_per_s_at_0c),
            gain_e_per_adu=self.electrons_per_adu(), read_noise_e=m.read_noise_e,
            bias_adu=m.bias_adu + self._offset, full_well_e=m.full_well_e, max_adu=m.max_adu,
            hot_pixel_fraction=m.hot_pixel_fraction, sensor_seed=m.sensor_seed,
        )
        settings = {
            "bin": self._bin, "subframe": self._subframe, "gain": self._gain,
            "offset": self._offset, "readout_mode": self._readout_mode,
            "ccd_temperature_c": round(temperature, 2), "set_point_c": self._target_c,
            "electrons_per_adu": self.electrons_per_adu(), "filter": filter_name,
            "focuser_position": focus, "ra_deg": ra_deg, "dec_deg": dec_deg,
            "psf_fwhm_px": fwhm, "sky_e_per_s_per_px": sky_rate,
            "illumination": illumination, "panel_e_per_s_per_px": panel_rate,
        }
        return spec, settings

    async def _illumination(self, open_to_light: bool) -> tuple[str, float]:
        """What lights the sensor and, for the panel, its brightness fraction (0..1).

        ``"sky"``, ``"panel"`` or ``"none"``; see the module docstring. Only devices
        that are present and connected are asked, the calibrator first (it sits in
        front of the telescope, inside the dome).
        """
        if not open_to_light:
            return "none", 0.0
        calibrator = self.calibrator
        if calibrator is not None and calibrator.connected:
            status = await calibrator.state()
            if status.cover_state == CoverState.CLOSED:
                if status.calibrator_state != CalibratorState.READY:
                    return "none", 0.0
                top = (await calibrator.info()).max_brightness
                fraction = max(0.0, min(1.0, status.brightness / top)) if top > 0 else 0.0
                return ("panel", fraction) if fraction > 0 else ("none", 0.0)
            if status.cover_state not in (CoverState.OPEN, CoverState.NOT_PRESENT):
                return "none", 0.0
        dome = self.dome
        if dome is not None and dome.connected and \
                (await dome.state()).shutter_status != ShutterState.OPEN:
            return "none", 0.0
        return "sky", 0.0

    async def _pointing(self, when: datetime) -> tuple[float, float]:
        """Where the optical axis truly points (the zenith without a mount)."""
        mount = self.mount
        if mount is not None and mount.connected:
            true_pointing = getattr(mount, "true_pointing", None)
            if true_pointing is not None:
                ra, dec = true_pointing()
                return float(ra), float(dec)
            status = await mount.state()
            return status.ra_hours * 15.0, status.dec_deg
        return self._zenith(when)

    def _zenith(self, when: datetime) -> tuple[float, float]:
        from nocturna.core.astro import zenith_radec_deg

        return (0.0, 0.0) if self.site is None else zenith_radec_deg(self.site, when)

    async def _filter(self) -> tuple[str | None, int]:
        wheel = self.filterwheel
        if wheel is None or not wheel.connected:
            return None, 0
        info, status = await wheel.info(), await wheel.state()
        if status.position < 0:
            return None, 0
        if info.dark_position is not None and status.position == info.dark_position:
            return "dark", 0
        return status.name, info.focus_offsets[status.position]

    async def _focus_position(self) -> int | None:
        focuser = self.focuser
        if focuser is None or not focuser.connected:
            return None
        return (await focuser.state()).position

    async def _cloud_fraction(self) -> float:
        if self.weather is None or not self.weather.connected:
            return 0.0
        cover = (await self.weather.state()).cloud_cover_pct
        return 0.0 if cover is None else max(0.0, min(1.0, cover / 100.0))

    async def _cached_sky_rate(self, when: datetime, ra_deg: float, dec_deg: float) -> float:
        """Sky e⁻/s/px (no filter, no clouds) at ``when`` in the field.

        From the site's :class:`~nocturna.devices.sim.sky.ephemeris.SkyEphemeris`
        (the Sun and Moon tabulated a day at a time; a missing day is computed in a
        worker thread), so a frame costs microseconds, not an astropy transform.
        """
        from nocturna.devices.sim.sky.background import sky_rate_e_per_s_per_px
        from nocturna.devices.sim.sky.ephemeris import site_ephemeris
        from nocturna.images.wcs import plate_scale_arcsec

        if self.site is None:
            return 0.0
        ephemeris = site_ephemeris(self.site)
        t_s = when.timestamp()
        if not ephemeris.has_table(t_s):
            await asyncio.to_thread(ephemeris.conditions, t_s, ra_deg, dec_deg)
        conditions = ephemeris.conditions(t_s, ra_deg, dec_deg)
        return sky_rate_e_per_s_per_px(
            conditions.sky_brightness(), aperture_mm=self.model.aperture_mm,
            pixel_scale_arcsec=plate_scale_arcsec(self.model.pixel_size_um,
                                                  self.model.focal_length_mm),
            throughput=self.model.throughput)
