"""INDI camera client (an INDI device with the CCD interface).

Properties: ``CCD_EXPOSURE`` (``CCD_EXPOSURE_VALUE``: setting it starts an exposure;
Busy while exposing, counting down; Ok once read out, Idle when aborted, Alert on a
failure), ``CCD_ABORT_EXPOSURE`` (``ABORT``), ``CCD_FRAME_TYPE`` (``FRAME_LIGHT``,
``FRAME_DARK``, ``FRAME_BIAS`` for a dark of 0 s; ``FRAME_FLAT`` unused), ``CCD_BINNING``
(``HOR_BIN``, ``VER_BIN``), ``CCD_FRAME`` (``X``, ``Y``, ``WIDTH``, ``HEIGHT``, in unbinned
pixels: nocturna's subframe is in binned pixels), ``CCD_INFO`` (``CCD_MAX_X``,
``CCD_MAX_Y``, ``CCD_PIXEL_SIZE_X``, ``CCD_PIXEL_SIZE_Y``, ``CCD_BITSPERPIXEL``),
``CCD_CFA`` (``CFA_TYPE``, ``CFA_OFFSET_X``, ``CFA_OFFSET_Y``) where offered,
``CCD_TEMPERATURE`` (``CCD_TEMPERATURE_VALUE``), ``CCD_COOLER`` (``COOLER_ON``,
``COOLER_OFF``) and ``CCD_COOLER_POWER`` (``CCD_COOLER_VALUE``) where offered, gain and
offset as ``CCD_GAIN`` (``GAIN``) / ``CCD_OFFSET`` (``OFFSET``) or as the ``Gain`` /
``Offset`` elements of ``CCD_CONTROLS`` where offered, ``TELESCOPE_TIMED_GUIDE_NS`` /
``TELESCOPE_TIMED_GUIDE_WE`` (``TIMED_GUIDE_N/S/W/E``, ms) for guiding through the
camera's port, and ``CCD1``: the image BLOB.

At connect the driver makes the device send its frames to clients as plain FITS:
``UPLOAD_MODE`` → ``UPLOAD_CLIENT`` (unless ``UPLOAD_BOTH``), ``CCD_TRANSFER_FORMAT`` →
``FORMAT_FITS`` and ``CCD_COMPRESSION`` → ``INDI_DISABLED`` where offered. These are
settings of the INDI device, seen by its other clients too.

Frames arrive on a connection of the camera's own (``enableBLOB Only`` for the device),
so a 32 MB frame never delays the other devices' updates on the shared connection. The
image is ready once its ``CCD1`` BLOB has arrived; it is decoded when :meth:`image` is
asked (:mod:`.blob`: the pixels are converted in place in the received buffer, in a
worker thread) and the FITS header the device wrote is kept as
``CameraImage.extra["indi_header"]`` (an :class:`astropy.io.fits.Header`). Rows are
kept in the order the camera sent them: ``data[0]`` is the first row of ``CCD_FRAME``
(INDI writes ``ROWORDER = 'TOP-DOWN'``).

Waits are in real seconds. The frame must arrive within the device's ``timeout_s``
after ``CCD_EXPOSURE`` turns Ok (:class:`DeviceTimeoutError` otherwise: e.g. another
client set ``UPLOAD_MODE`` to local).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from nocturna.core.errors import (
    DeviceTimeoutError,
    InvalidOperationError,
    InvalidValueError,
    NocturnaError,
    NotImplementedByDeviceError,
    OperationCancelledError,
)
from nocturna.devices.camera import (
    Camera,
    CameraImage,
    CameraInfo,
    CameraStatus,
    check_subframe,
)
from nocturna.devices.indi.blob import fits_image
from nocturna.devices.indi.connection import IndiConnection, acquire, release
from nocturna.devices.indi.device import IndiDevice
from nocturna.devices.indi.properties import Vector
from nocturna.devices.indi.wire import Message
from nocturna.devices.types import CameraState, GuideDirection, SensorType

log = logging.getLogger(__name__)

EXPOSURE = "CCD_EXPOSURE"
BLOB = "CCD1"
STABLE_WITHIN_C = 0.5
"""A cooled sensor within this of the set point (and its property Ok) is stable."""
_GUIDE = {GuideDirection.NORTH: ("TELESCOPE_TIMED_GUIDE_NS", "TIMED_GUIDE_N"),
          GuideDirection.SOUTH: ("TELESCOPE_TIMED_GUIDE_NS", "TIMED_GUIDE_S"),
          GuideDirection.EAST: ("TELESCOPE_TIMED_GUIDE_WE", "TIMED_GUIDE_E"),
          GuideDirection.WEST: ("TELESCOPE_TIMED_GUIDE_WE", "TIMED_GUIDE_W")}
_BAYER = {"RGGB": (0, 0), "GRBG": (1, 0), "GBRG": (0, 1), "BGGR": (1, 1)}
"""CFA patterns as ASCOM's RGGB with a Bayer offset."""


@dataclass
class _Exposure:
    """One exposure this driver started, from the request to its frame."""

    start: datetime
    duration_s: float
    light: bool
    settings: dict[str, Any]
    sent_after: int
    """``CCD_EXPOSURE`` updates before it was sent: later ones are about this exposure."""
    frame: memoryview | None = None
    ended_at: float | None = None  # loop time CCD_EXPOSURE turned Ok (read out)
    failed: str = ""  # why there will be no frame
    aborted: bool = False
    image: CameraImage | None = field(default=None, repr=False)

    @property
    def over(self) -> bool:
        """No frame is coming any more (it came, or it never will)."""
        return self.frame is not None or self.aborted or bool(self.failed)


class IndiCamera(IndiDevice, Camera):
    """A camera on an INDI server."""

    required = ("CONNECTION", EXPOSURE, "CCD_INFO", "CCD_FRAME", BLOB)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._blobs: IndiConnection | None = None
        self._undo: list[Callable[[], None]] = []
        self._exposure: _Exposure | None = None
        self._last: _Exposure | None = None  # the last exposure that gave a frame
        self._target_c = math.nan
        self._changed = asyncio.Event()

    # ------------------------------------------------------------ connection
    async def _connect_device(self) -> None:
        await super()._connect_device()
        # the properties come defined first, their values set a moment later
        await self.connection.wait_for(
            lambda: (self.vector("CCD_INFO").values().get("CCD_MAX_X") or 0) > 0,
            self.connect_timeout_s, f"the sensor size (CCD_INFO) of {self.indi_device!r}")
        self._changed = asyncio.Event()
        self._undo.append(self.connection.listen(self._on_control))
        self._blobs = acquire(self.address, own=True, label=f"{self.name} frames")
        self._undo.append(self._blobs.listen(self._on_blob))
        self._blobs.enable_blob(self.indi_device, "Only")
        await self._blobs.wait_up(self.connect_timeout_s)
        await self._ensure_on("UPLOAD_MODE", "UPLOAD_CLIENT", also=("UPLOAD_BOTH",))
        await self._ensure_on("CCD_TRANSFER_FORMAT", "FORMAT_FITS")
        await self._ensure_on("CCD_COMPRESSION", "INDI_DISABLED")

    async def _ensure_on(self, name: str, switch: str, also: tuple[str, ...] = ()) -> None:
        """Switch ``switch`` of ``name`` on unless it (or one of ``also``) is on already;
        nothing if the device lacks either."""
        if not self.has(name):
            return
        vector = self.vector(name)
        on = vector.on()
        if switch not in vector.elements or any(s in on for s in (switch, *also)):
            return
        await self.send(name, {switch: True}, wait=True)

    async def _drop_connection(self) -> None:
        for undo in self._undo:
            undo()
        self._undo.clear()
        blobs, self._blobs = self._blobs, None
        exposure, self._exposure = self._exposure, None
        if exposure is not None and not exposure.over:
            exposure.failed = "the camera was disconnected"
        self._notify()
        if blobs is not None:
            await release(blobs)
        await super()._drop_connection()

    # ------------------------------------------------------------ incoming
    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def _on_control(self, message: Message, vector: Vector | None) -> None:
        """Follow ``CCD_EXPOSURE`` on the shared connection."""
        if vector is None or message.name != EXPOSURE or message.device != self.indi_device:
            return
        exposure = self._exposure
        if exposure is None or exposure.over or vector.updates <= exposure.sent_after:
            self._notify()
            return
        if vector.state == "Busy":
            exposure.ended_at = None  # a late Ok of the exposure before is superseded
        elif vector.state == "Ok" and exposure.ended_at is None:
            exposure.ended_at = asyncio.get_running_loop().time()
        elif vector.state == "Idle":  # aborted (by another client, or the driver)
            exposure.aborted = True
        elif vector.state == "Alert":
            exposure.failed = (f"the INDI camera failed the exposure"
                               f"{': ' + vector.message if vector.message else ''}")
        self._notify()

    def _on_blob(self, message: Message, vector: Vector | None) -> None:
        """Take this camera's ``CCD1`` frame from its own connection."""
        if message.tag != "setBLOBVector" or message.device != self.indi_device \
                or message.name != BLOB:
            return
        member = next((m for m in message.members
                       if m.attrs.get("name") == BLOB and m.blob is not None), None)
        if member is None or member.blob is None:
            return
        exposure = self._exposure
        if exposure is None or exposure.over:
            log.debug("INDI camera %r: a frame nobody here asked for, ignored",
                      self.indi_device, extra={"device": self.name})
            return
        form = member.attrs.get("format", "")
        if form.lower() != ".fits":
            exposure.failed = (f"the INDI camera sent a {form!r} frame, not '.fits' (check "
                               "CCD_TRANSFER_FORMAT and CCD_COMPRESSION)")
        else:
            exposure.frame = member.blob
            self._last = exposure
        self._notify()

    # ------------------------------------------------------------ snapshots
    async def _read_info(self) -> CameraInfo:
        ccd = self.vector("CCD_INFO")
        exposure = self.vector(EXPOSURE).elements["CCD_EXPOSURE_VALUE"]
        binning = self._binning_vector()
        max_bin = [int(binning.elements[e].maximum or 1) if binning else 1
                   for e in ("HOR_BIN", "VER_BIN")]
        bits = int(ccd.elements["CCD_BITSPERPIXEL"].value) \
            if "CCD_BITSPERPIXEL" in ccd.elements else 16
        sensor, bayer = self._sensor_type()
        gain, offset = self._control("gain"), self._control("offset")
        temperature = self.has("CCD_TEMPERATURE") and \
            self.vector("CCD_TEMPERATURE").perm != "ro"
        return CameraInfo(
            sensor_name=self.indi_device, sensor_type=sensor,
            width=int(ccd["CCD_MAX_X"]), height=int(ccd["CCD_MAX_Y"]),
            pixel_size_x_um=float(self._pixel_size(ccd, "X")),
            pixel_size_y_um=float(self._pixel_size(ccd, "Y")),
            max_bin_x=max_bin[0], max_bin_y=max_bin[1], can_asymmetric_bin=binning is not None,
            full_well_e=math.nan, electrons_per_adu=math.nan, max_adu=(1 << bits) - 1,
            exposure_min_s=float(exposure.minimum or 0.0),
            exposure_max_s=float(exposure.maximum or math.inf),
            exposure_resolution_s=0.0, readout_modes=[],  # INDI's step is a UI increment
            has_shutter=False, can_abort_exposure=self.has("CCD_ABORT_EXPOSURE"),
            can_stop_exposure=False, can_pulse_guide=self.has("TELESCOPE_TIMED_GUIDE_NS"),
            can_set_ccd_temperature=temperature,
            can_get_cooler_power=self.has("CCD_COOLER_POWER"), can_fast_readout=False,
            bayer_offset_x=None if bayer is None else bayer[0],
            bayer_offset_y=None if bayer is None else bayer[1],
            gain_min=_bound(gain, "minimum"), gain_max=_bound(gain, "maximum"),
            offset_min=_bound(offset, "minimum"), offset_max=_bound(offset, "maximum"))

    @staticmethod
    def _pixel_size(ccd: Vector, axis: str) -> float:
        name = f"CCD_PIXEL_SIZE_{axis}"
        return ccd[name] if name in ccd.elements else ccd["CCD_PIXEL_SIZE"]

    def _sensor_type(self) -> tuple[SensorType, tuple[int, int] | None]:
        if not self.has("CCD_CFA"):
            return SensorType.MONOCHROME, None
        cfa = self.vector("CCD_CFA")
        pattern = str(cfa.values().get("CFA_TYPE", "")).strip().upper()
        if not pattern:
            return SensorType.MONOCHROME, None
        shift = _BAYER.get(pattern)
        if shift is None:
            return SensorType.COLOR, None
        offsets = [int(float(cfa.values().get(f"CFA_OFFSET_{axis}") or 0)) for axis in "XY"]
        return SensorType.RGGB, ((shift[0] + offsets[0]) % 2, (shift[1] + offsets[1]) % 2)

    async def state(self) -> CameraStatus:
        phase, percent = self._phase()
        binning = self._bin()
        frame = self.vector("CCD_FRAME")
        temperature = self.value("CCD_TEMPERATURE", "CCD_TEMPERATURE_VALUE", math.nan)
        cooler = bool(self.value("CCD_COOLER", "COOLER_ON", False))
        exposure = self._exposure
        ready = exposure is not None and exposure.frame is not None
        last = self._last
        gain, offset = self._control("gain"), self._control("offset")
        return CameraStatus(
            camera_state=phase, ccd_temperature_c=float(temperature),
            heat_sink_temperature_c=math.nan, cooler_on=cooler,
            cooler_power_pct=float(self.value("CCD_COOLER_POWER", "CCD_COOLER_VALUE", 0.0)),
            set_ccd_temperature_c=self._target_c,
            temperature_stable=self._stable(cooler, temperature),
            bin_x=binning[0], bin_y=binning[1],
            start_x=int(frame["X"]) // binning[0], start_y=int(frame["Y"]) // binning[1],
            num_x=int(frame["WIDTH"]) // binning[0], num_y=int(frame["HEIGHT"]) // binning[1],
            gain=_current(gain), offset=_current(offset), readout_mode=0, fast_readout=False,
            image_ready=ready, percent_completed=percent,
            is_pulse_guiding=any(self.has(name) and self.vector(name).state == "Busy"
                                 for name, _ in _GUIDE.values()),
            last_exposure_duration_s=last.duration_s if last else None,
            last_exposure_start_time=last.start if last else None)

    def _phase(self) -> tuple[CameraState, int]:
        vector = self.vector(EXPOSURE)
        exposure = self._exposure
        if exposure is None or exposure.over:
            if vector.state == "Busy":  # another client's exposure
                return CameraState.EXPOSING, 0
            done = exposure is not None and exposure.frame is not None
            return CameraState.IDLE, 100 if done else 0
        if vector.updates <= exposure.sent_after:  # not answered yet
            return CameraState.EXPOSING, 0
        remaining = float(vector["CCD_EXPOSURE_VALUE"])
        if vector.state == "Busy" and remaining > 0:
            done = 1 - remaining / exposure.duration_s if exposure.duration_s else 1
            return CameraState.EXPOSING, min(99, max(0, int(100 * done)))
        return CameraState.READING, 100  # read out: the frame is on its way

    def _stable(self, cooler: bool, temperature: float) -> bool:
        if not cooler or math.isnan(self._target_c) or not self.has("CCD_TEMPERATURE"):
            return False
        return self.vector("CCD_TEMPERATURE").state == "Ok" and \
            abs(temperature - self._target_c) <= STABLE_WITHIN_C

    # ------------------------------------------------------------- settings
    def _binning_vector(self) -> Vector | None:
        return self.vector("CCD_BINNING") if self.has("CCD_BINNING") else None

    def _bin(self) -> tuple[int, int]:
        binning = self._binning_vector()
        if binning is None:
            return 1, 1
        return int(binning["HOR_BIN"]), int(binning["VER_BIN"])

    def _require_idle(self, what: str) -> None:
        phase, _ = self._phase()
        if phase in (CameraState.EXPOSING, CameraState.READING):
            raise InvalidOperationError(f"camera {self.name!r}: cannot {what} during an "
                                        "exposure")

    async def set_binning(self, bin_x: int, bin_y: int | None = None) -> None:
        bin_y = bin_x if bin_y is None else bin_y
        info: CameraInfo = self._info
        binning = self._binning_vector()
        if binning is None:
            if (bin_x, bin_y) == (1, 1):
                return
            raise self.not_implemented("set_binning (the INDI camera has no CCD_BINNING)")
        for value, most in ((bin_x, info.max_bin_x), (bin_y, info.max_bin_y)):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
                raise InvalidValueError(f"camera {self.name!r}: binning {value!r} is not in "
                                        f"1..{most}")
        self._require_idle("change binning")
        await self._set_exactly("CCD_BINNING", {"HOR_BIN": bin_x, "VER_BIN": bin_y})
        await self._set_exactly("CCD_FRAME", {"X": 0, "Y": 0, "WIDTH": info.width,
                                              "HEIGHT": info.height})

    async def set_subframe(self, start_x: int, start_y: int, num_x: int, num_y: int) -> None:
        info: CameraInfo = self._info
        bin_x, bin_y = self._bin()
        width, height = info.width // bin_x, info.height // bin_y
        check_subframe(f"camera {self.name!r}", start_x, start_y, num_x, num_y, width, height)
        self._require_idle("change the subframe")
        await self._set_exactly("CCD_FRAME", {"X": start_x * bin_x, "Y": start_y * bin_y,
                                              "WIDTH": num_x * bin_x, "HEIGHT": num_y * bin_y})

    async def _set_exactly(self, name: str, values: dict[str, float]) -> None:
        """Set numbers and wait until the device shows them, not Busy.

        INDI does not tie an answer to its request, and a driver may send the property
        for reasons of its own (the simulator resets ``CCD_FRAME`` after a binning
        change), so the first answer may show older values.
        """
        await self.send(name, values, wait=True)

        def shown() -> bool:
            vector = self.vector(name)
            return vector.state not in ("Busy", "Alert") and all(
                abs(float(vector[key]) - value) < 1e-6 for key, value in values.items())

        await self.connection.wait_for(shown, self.timeout_s,
                                       f"{self.indi_device!r} {name} showing {values}")

    def _control(self, what: str) -> tuple[str, Any] | None:
        """(property, element) holding the gain or offset, or None if not offered."""
        own = {"gain": ("CCD_GAIN", "GAIN"), "offset": ("CCD_OFFSET", "OFFSET")}[what]
        if self.has(own[0]) and own[1] in self.vector(own[0]).elements:
            return own[0], self.vector(own[0]).elements[own[1]]
        if self.has("CCD_CONTROLS"):
            controls = self.vector("CCD_CONTROLS")
            for name, element in controls.elements.items():
                if name.lower() == what:
                    return "CCD_CONTROLS", element
        return None

    async def _set_control(self, what: str, value: int) -> None:
        control = self._control(what)
        if control is None:
            raise NotImplementedByDeviceError(
                f"camera {self.name!r}: INDI device {self.indi_device!r} has no {what} "
                f"(neither CCD_{what.upper()} nor a CCD_CONTROLS element)")
        name, element = control
        low, high = element.minimum, element.maximum
        if isinstance(value, bool) or not isinstance(value, int) or \
                (low is not None and value < low) or (high is not None and value > high):
            raise InvalidValueError(f"camera {self.name!r}: {what} {value!r} is not in "
                                    f"{low:g}..{high:g}")
        await self.send(name, {element.name: value}, wait=True)

    async def set_gain(self, gain: int) -> None:
        await self._set_control("gain", gain)

    async def set_offset(self, offset: int) -> None:
        await self._set_control("offset", offset)

    async def set_cooler(self, on: bool) -> None:
        if not self.has("CCD_COOLER"):
            raise self.not_implemented("set_cooler (the INDI camera has no CCD_COOLER)")
        await self.send("CCD_COOLER", {"COOLER_ON": bool(on), "COOLER_OFF": not on},
                        wait=True, busy_ok=True)

    async def set_target_temperature(self, celsius: float) -> None:
        element = self.vector("CCD_TEMPERATURE").elements["CCD_TEMPERATURE_VALUE"]
        low, high = element.minimum, element.maximum
        if isinstance(celsius, bool) or not isinstance(celsius, int | float) or \
                not math.isfinite(celsius) or (low is not None and celsius < low) or \
                (high is not None and celsius > high):
            raise InvalidValueError(f"camera {self.name!r}: set point {celsius!r} °C is not "
                                    f"in {low:g}..{high:g}")
        await self.send("CCD_TEMPERATURE", {"CCD_TEMPERATURE_VALUE": float(celsius)},
                        wait=True, busy_ok=True)
        self._target_c = float(celsius)

    # ------------------------------------------------------------ exposures
    async def start_exposure(self, duration_s: float, light: bool = True) -> None:
        element = self.vector(EXPOSURE).elements["CCD_EXPOSURE_VALUE"]
        low, high = element.minimum or 0.0, element.maximum or math.inf
        bias = not light and duration_s == 0
        if isinstance(duration_s, bool) or not isinstance(duration_s, int | float) or \
                not (bias or low <= duration_s <= high):
            raise InvalidValueError(f"camera {self.name!r}: exposure time {duration_s!r} s "
                                    f"is not in {low:g}..{high:g} s (or 0 for a bias)")
        await self._wait_previous_read_out()
        self._require_idle("start an exposure")
        frame_type = "FRAME_LIGHT" if light else "FRAME_BIAS" if bias else "FRAME_DARK"
        if self.has("CCD_FRAME_TYPE") and frame_type not in self.vector("CCD_FRAME_TYPE").on():
            await self.send("CCD_FRAME_TYPE", {frame_type: True}, wait=True)
        exposure = _Exposure(self.clock.now(), float(duration_s), bool(light),
                             self._settings(), self.vector(EXPOSURE).updates)
        self._exposure = exposure
        self._notify()
        try:
            await self.send(EXPOSURE, {"CCD_EXPOSURE_VALUE": max(low, float(duration_s))},
                            wait=True, busy_ok=True)
        except BaseException as exc:
            exposure.failed = f"the exposure did not start: {exc}"
            raise

    async def _wait_previous_read_out(self) -> None:
        """After this driver's last exposure (its frame came, or it was aborted), wait
        for ``CCD_EXPOSURE`` to leave Busy: that news comes on the shared connection,
        maybe after the frame on the camera's own."""
        previous = self._exposure
        if previous is None or not (previous.frame is not None or previous.aborted):
            return
        await self.connection.wait_for(lambda: self.vector(EXPOSURE).state != "Busy",
                                       self.timeout_s, f"{self.indi_device!r} {EXPOSURE} "
                                       "leaving Busy after the last frame")

    def _settings(self) -> dict[str, Any]:
        """The frame's settings, as the exposure starts."""
        binning = self._bin()
        frame = self.vector("CCD_FRAME")
        return {"bin": binning, "start": (int(frame["X"]) // binning[0],
                                          int(frame["Y"]) // binning[1]),
                "gain": _current(self._control("gain")),
                "offset": _current(self._control("offset")),
                "ccd_temperature_c": float(self.value("CCD_TEMPERATURE",
                                                      "CCD_TEMPERATURE_VALUE", math.nan)),
                "set_point_c": self._target_c}

    async def abort_exposure(self) -> None:
        exposure = self._exposure
        if exposure is not None and not exposure.over:
            exposure.aborted = True
            self._notify()
        if self.vector(EXPOSURE).state == "Busy":
            await self.send("CCD_ABORT_EXPOSURE", {"ABORT": True}, wait=True)
            await self.connection.wait_for(lambda: self.vector(EXPOSURE).state != "Busy",
                                           self.timeout_s,
                                           f"{self.indi_device!r} {EXPOSURE} aborted")

    async def pulse_guide(self, direction: GuideDirection, duration_ms: int) -> None:
        name, element = _GUIDE[GuideDirection(direction)]
        if isinstance(duration_ms, bool) or not isinstance(duration_ms, int) or \
                duration_ms < 0:
            raise InvalidValueError(f"camera {self.name!r}: pulse of {duration_ms!r} ms")
        await self.send(name, {element: duration_ms}, wait=True, busy_ok=True)

    async def wait_until_ready(self, duration_s: float, *,
                               timeout_s: float | None = None) -> None:
        """Wait (real seconds, no polling) until the frame of the exposure just started
        has arrived.

        :class:`OperationCancelledError` if it was aborted, :class:`NocturnaError` if
        the INDI camera failed it, :class:`DeviceTimeoutError` if no frame arrived
        within ``timeout_s`` (default ``duration_s + 600``) or within the device's
        ``timeout_s`` of the exposure's end.
        """
        exposure = self._exposure
        if exposure is None:
            raise InvalidOperationError(f"camera {self.name!r}: no exposure to wait for")
        loop = asyncio.get_running_loop()
        limit = duration_s + 600.0 if timeout_s is None else timeout_s
        deadline = loop.time() + limit
        while True:
            changed = self._changed
            if exposure.frame is not None:
                return
            if exposure.aborted:
                raise OperationCancelledError(f"camera {self.name!r}: the exposure was "
                                              "aborted")
            if exposure.failed:
                raise NocturnaError(f"camera {self.name!r}: {exposure.failed}")
            now = loop.time()
            if now >= deadline:
                exposure.failed = "its frame never arrived"
                raise DeviceTimeoutError(f"camera {self.name!r}: no image ready within "
                                         f"{limit:g} s")
            until = deadline
            if exposure.ended_at is not None:
                if now >= exposure.ended_at + self.timeout_s:
                    raise self._no_frame(exposure)
                until = min(until, exposure.ended_at + self.timeout_s)
            try:
                async with asyncio.timeout(until - now):
                    await changed.wait()
            except TimeoutError:
                pass

    def _no_frame(self, exposure: _Exposure) -> DeviceTimeoutError:
        exposure.failed = "its frame never arrived"
        upload = self.vector("UPLOAD_MODE").on() if self.has("UPLOAD_MODE") else []
        hint = f" (UPLOAD_MODE is {', '.join(upload)}: frames are not sent to clients)" \
            if upload and not {"UPLOAD_CLIENT", "UPLOAD_BOTH"} & set(upload) else ""
        return DeviceTimeoutError(f"camera {self.name!r}: the exposure ended but its frame "
                                  f"(BLOB {BLOB}) did not arrive within {self.timeout_s:g} s"
                                  f"{hint}")

    async def image(self) -> CameraImage:
        exposure = self._exposure
        if exposure is None or exposure.frame is None or exposure.aborted:
            raise InvalidOperationError(f"camera {self.name!r}: no image is ready")
        if exposure.image is None:
            data, header = await asyncio.to_thread(fits_image, exposure.frame)
            exposure.frame = memoryview(b"")  # the image is a view of the received buffer
            s = exposure.settings
            exposure.image = CameraImage(
                data=data, start_time=exposure.start, duration_s=exposure.duration_s,
                light=exposure.light, bin_x=s["bin"][0], bin_y=s["bin"][1],
                start_x=s["start"][0], start_y=s["start"][1], gain=s["gain"],
                offset=s["offset"], readout_mode=0, ccd_temperature_c=s["ccd_temperature_c"],
                set_ccd_temperature_c=s["set_point_c"],
                extra={"indi_header": header, "indi_device": self.indi_device})
        return exposure.image


def _bound(control: tuple[str, Any] | None, which: str) -> int | None:
    if control is None or getattr(control[1], which) is None:
        return None
    return int(getattr(control[1], which))


def _current(control: tuple[str, Any] | None) -> int | None:
    return None if control is None else round(float(control[1].value))
