"""A DSLR (Canon EOS) as a nocturna camera, through the gphoto2 layer.

Exposures are bulb exposures released as POCS's Canon driver does: the camera's
``eosremoterelease`` set to ``Press Full`` opens the shutter, the exposure time passes
on the nocturna clock, ``Release Full`` closes it; the camera then writes the raw file
and announces it (file added), the driver downloads it and LibRaw unpacks the Bayer
mosaic (:mod:`.raw`). States: EXPOSING while open, READING until the file is
announced, DOWNLOAD while it is fetched and unpacked, then the image is ready.

Options (a ``cameras:`` entry with ``driver: gphoto2``):

- ``port``: the camera's gphoto2 port (``usb:001,005``), and/or
- ``serial_number``: the serial number the camera reports (``eosserialnumber``, else
  ``serialnumber``). With several DSLRs on one bus give at least one of them; with
  neither, exactly one camera must be connected. Given both, they must agree.
- ``iso`` (default 100): set at connect; the camera's ISO choices are the named gains
  (``set_gain(i)`` selects ``gains[i]``).
- ``image_format`` (default ``RAW``): set on ``imageformat``, or on ``imageformat2``
  (newer libgphoto2) when only that widget offers it.
- ``owner_name``: written to ``ownername`` at connect (as POCS writes its unit name).
- ``pixel_size_um`` (4.3), ``width`` (5184), ``height`` (3456): the sensor, until the
  first raw file says its size; ``electrons_per_adu`` (1.5, POCS's value), ``max_adu``
  (16383, 14-bit raw).
- ``file_timeout_s`` (60): how long to wait for the file after the release.
- ``timeout_s``, ``description``: as for every device.

Covers: bulb exposures via eosremoterelease, ISO, image format, owner name, serial
number and model, abort (the shutter is released, the file discarded), a camera that
vanishes (the error names it; the device then reads disconnected, so the component goes
FAULT and reconnects), subframes (cut from the whole raw mosaic, the Bayer pattern
following the cut; binning 1 only). Not covered: binning (it would mix the colours),
cooling, gain beyond ISO, fixed shutter speeds (every exposure is a bulb one, which
needs the mode dial on B or M/bulb), a cable release on a serial port, dark frames with
a closed shutter (a DSLR has none a driver can keep shut: cover the lens).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nocturna.core.errors import (
    ConfigError,
    InvalidOperationError,
    InvalidValueError,
    NocturnaError,
)
from nocturna.devices.camera import (
    Camera,
    CameraImage,
    CameraInfo,
    CameraStatus,
    check_subframe,
)
from nocturna.devices.driver_options import driver_options
from nocturna.devices.gphoto2.layer import (
    PRESS_FULL,
    RELEASE_FULL,
    CameraGoneError,
    CameraLink,
    DetectedCamera,
    Gphoto2Error,
    Gphoto2Layer,
)
from nocturna.devices.gphoto2.raw import RawFrame, read_raw
from nocturna.devices.types import CameraState, SensorType
from nocturna.images.bayer import shifted_pattern

log = logging.getLogger(__name__)

OPTIONS = frozenset({"serial_number", "iso", "image_format", "owner_name", "pixel_size_um",
                     "width", "height", "electrons_per_adu", "max_adu", "file_timeout_s",
                     "timeout_s", "description"})
IGNORED = frozenset({"primary", "filterwheel", "focuser", "calibrator", "focal_length_mm",
                     "aperture_mm", "rotation_deg", "optics", "telescope", "simulator"})
SERIAL_WIDGETS = ("eosserialnumber", "serialnumber")
ALIVE_CHECK_S = 10.0
"""While idle, :meth:`Gphoto2Camera.state` asks the camera for a setting at most this
often (clock seconds), so a camera that vanished is noticed (then the component goes
FAULT and its recovery connects again)."""
FORMAT_WIDGETS = ("imageformat", "imageformat2")


@dataclass
class _Exposure:
    start: datetime
    duration_s: float
    light: bool
    iso: str
    area: tuple[int, int, int, int]  # the subframe asked for: (start_x, start_y, num_x, num_y)
    phase: CameraState = CameraState.EXPOSING
    task: asyncio.Task[None] | None = None
    frame: RawFrame | None = None
    file_name: str = ""
    error: BaseException | None = None


class Gphoto2Camera(Camera):
    """A Canon EOS DSLR on a gphoto2 port (see the module docstring)."""

    driver_name = "gphoto2"

    def __init__(self, name: str, *, layer: Gphoto2Layer | None = None, port: str | None = None,
                 serial_number: str | None = None, iso: int | str = 100,
                 image_format: str = "RAW", owner_name: str | None = None,
                 pixel_size_um: float = 4.3, width: int = 5184, height: int = 3456,
                 electrons_per_adu: float = 1.5, max_adu: int = 16383,
                 file_timeout_s: float = 60.0, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        for key, value in (("width", width), ("height", height), ("max_adu", max_adu)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name}.{key}: expected an integer >= 1, got {value!r}")
        for key, number in (("pixel_size_um", pixel_size_um),
                            ("electrons_per_adu", electrons_per_adu),
                            ("file_timeout_s", file_timeout_s)):
            if isinstance(number, bool) or not isinstance(number, int | float) or \
                    not number > 0:
                raise ConfigError(f"{name}.{key}: expected a number > 0, got {number!r}")
        for key, text in (("port", port), ("serial_number", serial_number),
                          ("owner_name", owner_name), ("image_format", image_format)):
            if text is not None and (not isinstance(text, str) or not text.strip()):
                raise ConfigError(f"{name}.{key}: expected a non-empty string, got {text!r}")
        if isinstance(iso, bool) or not isinstance(iso, int | str):
            raise ConfigError(f"{name}.iso: expected an ISO value such as 100, got {iso!r}")
        self.layer = layer
        self.port = port
        self.serial_number = serial_number
        self.iso = str(iso)
        self.image_format = image_format
        self.owner_name = owner_name
        self.pixel_size_um = float(pixel_size_um)
        self.size = (int(width), int(height))
        self.electrons_per_adu = float(electrons_per_adu)
        self.max_adu = int(max_adu)
        self.file_timeout_s = float(file_timeout_s)
        self.link: CameraLink | None = None
        self.model = ""
        self._iso_choices: tuple[str, ...] = ()
        self._exposure: _Exposure | None = None
        self._drain: asyncio.Task[None] | None = None
        self._found: tuple[DetectedCamera, str] | None = None  # the camera, its serial
        self._subframe: tuple[int, int, int, int] | None = None  # None: the whole sensor
        self._alive_at = -math.inf  # when the idle camera last answered (clock seconds)

    @classmethod
    def from_config(cls, cfg: Any, **context: Any) -> Gphoto2Camera:
        """Build from a ``cameras:`` entry (options: see the module docstring)."""
        name = cfg.name
        extra = dict(getattr(cfg, "model_extra", None) or {})
        kwargs, problems = driver_options(name, "gphoto2", extra, options=OPTIONS,
                                          ignored=IGNORED, listed="port, " + ", ".join(
                                              sorted(OPTIONS)))
        if problems:
            raise ConfigError(problems)
        kwargs.update((key, context[key]) for key in ("clock", "events", "layer")
                      if context.get(key) is not None)
        return cls(name, port=cfg.port, **kwargs)

    @classmethod
    def simulated(cls, name: str, sim: Any, *, port: str = "usb:001,001",
                  serial_number: str | None = None, model: str = "Canon EOS 100D",
                  **options: Any) -> Gphoto2Camera:
        """This driver on the stand-in, whose sensor is the simulated camera ``sim`` (a
        SimCamera with ``sensor_type: rggb``): its frames go through the whole path
        (release, DNG file, download, LibRaw). The serial number defaults to the
        camera's name."""
        from nocturna.devices.gphoto2.standin import ReplayCamera, ReplayLayer, SimCameraSource

        serial = serial_number or name
        camera = ReplayCamera(model, port, SimCameraSource(sim),
                              values={"serialnumber": serial}, clock=options.get("clock"))
        m = sim.model
        options.setdefault("width", m.width)
        options.setdefault("height", m.height)
        options.setdefault("pixel_size_um", m.pixel_size_um)
        options.setdefault("max_adu", m.max_adu)
        return cls(name, layer=ReplayLayer([camera]), port=port, serial_number=serial,
                   **options)

    # ------------------------------------------------------------ connection
    def _layer(self) -> Gphoto2Layer:
        if self.layer is None:
            from nocturna.devices.gphoto2.libgphoto2 import LibGphoto2Layer

            self.layer = LibGphoto2Layer()
        return self.layer

    async def _connect(self) -> None:
        link = await self._find()
        try:
            await self._setup(link)
        except BaseException:
            await link.close()
            raise
        self.link = link

    async def _find(self) -> CameraLink:
        layer = self._layer()
        found = await layer.detect()
        if self.port is not None:
            found = [c for c in found if c.port == self.port]
            if not found:
                raise CameraGoneError(f"camera {self.name!r}: no camera on port {self.port}")
        elif self.serial_number is None and len(found) != 1:
            listed = ", ".join(f"{c.model} on {c.port}" for c in found) or "none"
            raise ConfigError(f"camera {self.name!r}: {len(found)} cameras found ({listed}); "
                              "set port or serial_number to choose one")
        for candidate in found:
            link = await layer.open(candidate)
            serial = await self._serial(link)
            if self.serial_number is None or serial == self.serial_number:
                self._found = (candidate, serial)
                return link
            await link.close()
        where = f"on port {self.port}" if self.port else "on the bus"
        raise CameraGoneError(f"camera {self.name!r}: no camera {where} has serial number "
                              f"{self.serial_number!r}")

    async def _serial(self, link: CameraLink) -> str:
        for widget in SERIAL_WIDGETS:
            if await link.has_config(widget):
                return (await link.config(widget)).value.strip()
        return ""

    async def _setup(self, link: CameraLink) -> None:
        assert self._found is not None
        detected = self._found[0]
        self.model = detected.model
        iso = await link.config("iso")
        iso.check_choice(self.iso, f"camera {self.name!r}")
        self._iso_choices = iso.choices
        await link.set_config("iso", self.iso)
        await self._set_format(link)
        if self.owner_name is not None:
            await link.set_config("ownername", self.owner_name)
        if not await link.has_config("eosremoterelease"):
            raise Gphoto2Error(f"camera {self.name!r}: {detected.model} on {detected.port} has "
                               "no eosremoterelease (not a Canon EOS): no bulb release")

    async def _set_format(self, link: CameraLink) -> None:
        offered: list[str] = []
        for widget in FORMAT_WIDGETS:
            if not await link.has_config(widget):
                continue
            value = await link.config(widget)
            if self.image_format in value.choices:
                await link.set_config(widget, self.image_format)
                return
            offered.append(f"{widget}: {', '.join(value.choices) or 'none'}")
        raise InvalidValueError(f"camera {self.name!r}: image format {self.image_format!r} is "
                                f"not offered ({'; '.join(offered) or 'no imageformat widget'})")

    async def _disconnect(self) -> None:
        await self._cancel()
        link, self.link = self.link, None
        if link is not None:
            await link.close()

    def _lost(self, error: CameraGoneError) -> None:
        """The camera vanished: the device reads disconnected (the component recovers)."""
        log.warning("camera %s lost: %s", self.name, error)
        self._connected = False
        self.link = None

    async def _check_alive(self) -> None:
        """Ask the idle camera for its serial number every :data:`ALIVE_CHECK_S`."""
        now = self.clock.timestamp()
        if now - self._alive_at < ALIVE_CHECK_S:
            return
        link = self._require_link()
        try:
            await link.config(SERIAL_WIDGETS[-1])
        except CameraGoneError as exc:
            self._lost(exc)
            raise
        except Gphoto2Error:
            pass  # it answered (a camera without that widget)
        self._alive_at = now

    def _require_link(self) -> CameraLink:
        if self.link is None:
            raise CameraGoneError(f"camera {self.name!r}: the camera is gone")
        return self.link

    # ------------------------------------------------------------- snapshots
    async def info(self) -> CameraInfo:
        width, height = self.size
        return CameraInfo(
            sensor_name=self.model or "DSLR", sensor_type=SensorType.RGGB, width=width,
            height=height, pixel_size_x_um=self.pixel_size_um,
            pixel_size_y_um=self.pixel_size_um, max_bin_x=1, max_bin_y=1,
            can_asymmetric_bin=False, full_well_e=math.nan,
            electrons_per_adu=self.electrons_per_adu, max_adu=self.max_adu,
            exposure_min_s=0.0, exposure_max_s=3600.0, exposure_resolution_s=0.01,
            readout_modes=["raw"], has_shutter=False, can_abort_exposure=True,
            can_stop_exposure=False, can_pulse_guide=False, can_set_ccd_temperature=False,
            can_get_cooler_power=False, can_fast_readout=False, bayer_offset_x=0,
            bayer_offset_y=0, gains=list(self._iso_choices) or None)

    async def state(self) -> CameraStatus:
        exposure = self._exposure
        phase = CameraState.IDLE if exposure is None else exposure.phase
        if phase in (CameraState.IDLE, CameraState.ERROR):
            await self._check_alive()
        ready = exposure is not None and exposure.frame is not None
        percent = 0
        if exposure is not None:
            elapsed = (self.clock.now() - exposure.start).total_seconds()
            percent = 100 if phase != CameraState.EXPOSING or not exposure.duration_s else \
                min(99, int(100 * elapsed / exposure.duration_s))
        start_x, start_y, num_x, num_y = self._frame()
        gain = self._iso_choices.index(self.iso) if self.iso in self._iso_choices else None
        return CameraStatus(
            camera_state=phase, ccd_temperature_c=math.nan, heat_sink_temperature_c=math.nan,
            cooler_on=False, cooler_power_pct=0.0, set_ccd_temperature_c=math.nan,
            temperature_stable=False, bin_x=1, bin_y=1, start_x=start_x, start_y=start_y,
            num_x=num_x, num_y=num_y, gain=gain, offset=None, readout_mode=0, fast_readout=False,
            image_ready=ready, percent_completed=percent, is_pulse_guiding=False,
            last_exposure_duration_s=None if exposure is None else exposure.duration_s,
            last_exposure_start_time=None if exposure is None else exposure.start)

    # -------------------------------------------------------------- settings
    async def set_gain(self, gain: int) -> None:
        """Select ISO ``gains[gain]`` (the camera's ISO choices)."""
        choices = self._iso_choices
        if isinstance(gain, bool) or not isinstance(gain, int) or not 0 <= gain < len(choices):
            raise InvalidValueError(f"camera {self.name!r}: gain {gain!r} is not an index of "
                                    f"the ISO choices 0..{len(choices) - 1}")
        self._require_idle("change the ISO")
        await self._require_link().set_config("iso", choices[gain])
        self.iso = choices[gain]

    def _require_idle(self, what: str) -> None:
        exposure = self._exposure
        if exposure is not None and exposure.phase not in (CameraState.IDLE,
                                                           CameraState.ERROR):
            raise InvalidOperationError(f"camera {self.name!r}: cannot {what} during an "
                                        "exposure")

    async def set_binning(self, bin_x: int, bin_y: int | None = None) -> None:
        """Only 1 × 1: a DSLR reads its whole raw mosaic (binning would mix colours)."""
        for value in (bin_x, bin_x if bin_y is None else bin_y):
            if value != 1 or isinstance(value, bool):
                raise InvalidValueError(f"camera {self.name!r}: binning {value!r}: a DSLR "
                                        "reads its raw mosaic unbinned (1 only)")

    async def set_subframe(self, start_x: int, start_y: int, num_x: int, num_y: int) -> None:
        """A part of the sensor, cut from the whole raw mosaic the camera writes (its
        readout takes as long; the Bayer pattern follows the cut)."""
        width, height = self.size
        check_subframe(f"camera {self.name!r}", start_x, start_y, num_x, num_y, width, height)
        self._require_idle("change the subframe")
        whole = (start_x, start_y, num_x, num_y) == (0, 0, width, height)
        self._subframe = None if whole else (start_x, start_y, num_x, num_y)

    def _frame(self) -> tuple[int, int, int, int]:
        """(start_x, start_y, num_x, num_y) of the image now asked for."""
        width, height = self.size
        return self._subframe or (0, 0, width, height)

    # ------------------------------------------------------------- exposures
    async def start_exposure(self, duration_s: float, light: bool = True) -> None:
        if isinstance(duration_s, bool) or not isinstance(duration_s, int | float) or \
                not math.isfinite(duration_s) or not 0 <= duration_s <= 3600:
            raise InvalidValueError(f"camera {self.name!r}: exposure time {duration_s!r} s "
                                    "is not in 0..3600 s")
        self._require_idle("start an exposure")
        link = self._require_link()
        if self._drain is not None:  # the file of an aborted exposure
            with contextlib.suppress(Exception):
                await self._drain
            self._drain = None
        start = self.clock.now()
        try:
            await link.set_config("eosremoterelease", PRESS_FULL)
        except CameraGoneError as exc:
            self._lost(exc)
            raise
        exposure = _Exposure(start, float(duration_s), bool(light), self.iso, self._frame())
        exposure.task = asyncio.get_running_loop().create_task(self._run(link, exposure))
        self._exposure = exposure
        self.publish("exposure.started", duration_s=float(duration_s), light=bool(light))

    async def _run(self, link: CameraLink, exposure: _Exposure) -> None:
        try:
            await self.clock.sleep(exposure.duration_s)
            await link.set_config("eosremoterelease", RELEASE_FULL)
            exposure.phase = CameraState.READING
            file = await link.wait_for_file(self.file_timeout_s)
            if file is None:
                raise NocturnaError(f"camera {self.name!r}: no file came from the camera "
                                    f"within {self.file_timeout_s:g} s of the release")
            exposure.phase = CameraState.DOWNLOAD
            data = await link.download(file)
            frame = await asyncio.to_thread(read_raw, data, file.name)
            exposure.file_name = file.name
            rows, columns = frame.mosaic.shape
            self.size = (columns, rows)
            exposure.frame = frame  # last: the image is ready now
            exposure.phase = CameraState.IDLE
            self.publish("exposure.ready", duration_s=exposure.duration_s, file=file.name)
        except asyncio.CancelledError:
            raise
        except CameraGoneError as exc:
            exposure.phase, exposure.error = CameraState.ERROR, exc
            self._lost(exc)
        except Exception as exc:
            log.warning("camera %s: exposure failed: %s", self.name, exc)
            exposure.phase, exposure.error = CameraState.ERROR, exc
            self.publish("exposure.failed", error=str(exc))

    async def abort_exposure(self) -> None:
        exposure = self._exposure
        if exposure is None or exposure.phase in (CameraState.IDLE, CameraState.ERROR):
            return
        released = exposure.phase != CameraState.EXPOSING
        await self._cancel()
        link = self.link
        if link is not None:
            if not released:
                await link.set_config("eosremoterelease", RELEASE_FULL)
            # The camera still writes the file: wait for it in the background, unused.
            self._drain = asyncio.get_running_loop().create_task(self._discard(link))
        self._exposure = None
        self.publish("exposure.aborted")

    async def _discard(self, link: CameraLink) -> None:
        with contextlib.suppress(NocturnaError):
            await link.wait_for_file(self.file_timeout_s)

    async def _cancel(self) -> None:
        exposure = self._exposure
        if exposure is not None and exposure.task is not None:
            exposure.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await exposure.task
        if self._drain is not None and self.link is None:
            self._drain.cancel()

    async def image(self) -> CameraImage:
        exposure = self._exposure
        if exposure is None or exposure.frame is None:
            if exposure is not None and exposure.error is not None:
                raise InvalidOperationError(f"camera {self.name!r}: no image: "
                                            f"{exposure.error}")
            raise InvalidOperationError(f"camera {self.name!r}: no image is ready")
        frame = exposure.frame
        x, y, num_x, num_y = exposure.area
        pattern = shifted_pattern(frame.pattern, x, y)
        cards = {**frame.header_cards(),
                 "COLORTYP": (pattern, "colour filter pattern (MaxIm DL)"),
                 "ISOSPEED": (int(exposure.iso) if exposure.iso.isdigit() else exposure.iso,
                              "ISO speed"),
                 "CAMMODEL": (self.model, "camera model"),
                 "CAMSERNO": (self._found[1] if self._found else "", "camera serial number"),
                 "RAWFILE": (exposure.file_name, "raw file downloaded from the camera")}
        return CameraImage(
            data=frame.mosaic[y:y + num_y, x:x + num_x], start_time=exposure.start,
            duration_s=exposure.duration_s, light=exposure.light, bin_x=1, bin_y=1,
            start_x=x, start_y=y,
            gain=self._iso_choices.index(exposure.iso)
            if exposure.iso in self._iso_choices else None,
            offset=None, readout_mode=0, ccd_temperature_c=math.nan,
            set_ccd_temperature_c=math.nan,
            extra={"electrons_per_adu": self.electrons_per_adu, "bayer_pattern": pattern,
                   "header_cards": cards,
                   "raw_file": exposure.file_name, "iso": exposure.iso})

