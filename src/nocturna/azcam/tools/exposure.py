"""azcam's exposure tool ("exposure"), built on a nocturna instrument.

Every image goes through the instrument's frame pipeline
(:mod:`nocturna.instrument.pipeline`): an exposure id (``EXPID``/``DAYOBS``/``SEQNUM``),
the header sources read as the exposure starts (site, time, camera, mount, filter,
focuser, weather, Moon, WCS), the cards of the other tools (``header_sources``), and
a database row (path = the azcam file). The camera image is laid out as raw amplifier
data by the detector geometry (simulated prescan/overscan when ``simulate``) and
written atomically by the file type's encoder (FITS, MEF or BIN; Rice-compressed
``.fits.fz`` when the instrument's image format is ``fits.fz``), off the event loop.

One exposure runs through four steps, callable one by one or all at once (``expose``):

``begin``
    checks everything (image type, time, file name, overwrite, instrument state),
    reserves the exposure id, sets the camera's binning and subframe from the ROI,
    lights the comparison lamps for a comp image, starts the camera exposure (shutter
    closed for zero and dark).
``integrate``
    waits until the open time is collected; pausable (``pause``/``resume``: camera pause,
    shutter closed, timer frozen). Lamps go off when it ends.
``readout``
    waits for the camera's image and builds the raw readout.
``end``
    writes the file, records it, increments the file sequence number, sends it to the
    remote image server and shows it on the display.

Calling a step out of order is an :class:`InvalidOperationError` naming the step
expected. ``abort`` works in any step: the camera exposure is abandoned, lamps go off,
nothing is written or recorded (an abort during writing deletes the new file), the flag
reads ABORT until the next exposure, and a running ``sequence`` stops.

While an exposure runs the instrument is held busy (its LATISS-style sequences are
refused), and the exposure tool refuses to start while the instrument runs a sequence
or its summary state (``instrument.gate``) does not allow it.

Image types: zero (0 s, shutter closed), object, flat, dark (shutter closed), the
LATISS names (bias, engtest, focus, cwfs, acq), and comparisons: ``comp`` or a lamp
name known to the instrument tool, written as ``IMAGETYP = 'COMP'`` with the lamps in
``COMPLAMP``/``LAMPS`` and lit only during the exposure. An exposure time of -1 (any
negative value) means the current one; a zero is always 0 s and keeps the current time.

Test images (``set_test_image(1)``) go to a temporary file that is sent and displayed,
then deleted: never kept, never recorded, no exposure id, sequence number unchanged.
Sending uses the local file name as the remote name (test images: ``test.<ext>``,
always overwriting remotely), so the remote copy matches the local one.

``sequence(number_exposures, flush_array_flag, delay)``: ``flush_array_flag`` keeps
azcam's meaning (-1 current, 0 flush before each, 1 before the first only, 2 never)
and is recorded (``FLUSHARR`` card, status); nocturna cameras — the simulator too —
clear the sensor at the start of every exposure, so it does not change the pixels.
Comparison lamps are lit per exposure, not for the whole sequence.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
from collections.abc import Awaitable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, ExitStack
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
from astropy.io import fits

from nocturna.azcam.detector import DetectorGeometry, Readout, Roi, ScanSizes
from nocturna.azcam.filenames import FileNames
from nocturna.azcam.filetypes import MAX_FITS_AMPS, FileType, ReadoutEncoder
from nocturna.azcam.remote import remote
from nocturna.azcam.tools.parameters import Parameter
from nocturna.core.atomic import temporary_name
from nocturna.core.clock import Clock
from nocturna.core.errors import (
    InvalidOperationError,
    InvalidValueError,
    OperationCancelledError,
)
from nocturna.devices.camera import CameraImage
from nocturna.images import header as h
from nocturna.images.fits import WrittenImage
from nocturna.instrument.exposure_ids import next_group_id, split_exposure_id
from nocturna.instrument.image_types import ImageType, image_type
from nocturna.instrument.instrument import Instrument
from nocturna.instrument.pipeline import FrameDescription, FrameRow, StartReadings
from nocturna.instrument.pipeline.sources import HeaderSource, clean_cards, tool_cards

log = logging.getLogger(__name__)

T = TypeVar("T")

AZCAM_IMAGE_TYPES = ("zero", "object", "flat", "dark")
"""azcam's own image types (comparison lamp names are added by the instrument tool)."""


class ExposureFlag(IntEnum):
    """azcam's exposure flags (numbers as azcam's ``exposureflags``)."""

    NONE = 0
    EXPOSING = 1
    ABORT = 2
    PAUSE = 3
    RESUME = 4
    READ = 5
    PAUSED = 6
    READOUT = 7
    SETUP = 8
    WRITING = 9
    GUIDEERROR = 10
    ERROR = 11


_STATE_OF_FLAG = {
    ExposureFlag.NONE: "idle", ExposureFlag.SETUP: "exposing",
    ExposureFlag.EXPOSING: "exposing", ExposureFlag.RESUME: "exposing",
    ExposureFlag.PAUSE: "paused", ExposureFlag.PAUSED: "paused",
    ExposureFlag.READ: "reading", ExposureFlag.READOUT: "reading",
    ExposureFlag.WRITING: "writing", ExposureFlag.ABORT: "aborted",
    ExposureFlag.ERROR: "error", ExposureFlag.GUIDEERROR: "error",
}

_FLUSH_MEANING = {0: "flush before each exposure", 1: "flush before the first only",
                  2: "no flush"}


# --- collaborators (small protocols, so tests can pass fakes) --------------------------


class ImageSender(Protocol):
    """The ``sendimage`` tool."""

    @property
    def enabled(self) -> bool: ...

    async def send_image(self, localfile: Any, remotefile: str | None = None, *,
                         overwrite: bool = False, filetype: int = 0, size_x: int = 0,
                         size_y: int = 0, display: bool = False) -> None: ...


class ImageDisplay(Protocol):
    """The ``display`` tool."""

    async def show(self, path: Any) -> Any: ...


class LampTool(Protocol):
    """The instrument tool's comparison lamps."""

    def is_comp(self, imagetype: str) -> bool: ...

    def lamps_lit(self, imagetype: str | None = None) -> AbstractAsyncContextManager[Any]: ...

    def get_all_comps(self) -> list[str]: ...


# --- one exposure --------------------------------------------------------------------


@dataclass
class _Shot:
    """The exposure in progress, from begin to end."""

    imagetype: str  # as asked, lower case ("zero", "object", a lamp name…)
    kind: ImageType
    exposure_time: float  # effective (0 for a zero)
    requested: float  # the exposure time setting
    title: str
    test: bool
    filetype: FileType
    path: Path  # where the file goes (a temporary file for a test image)
    filename: str  # the name azcam reports (and the remote name)
    geometry: DetectorGeometry
    roi: Roi
    col_bin: int
    row_bin: int
    group_id: str
    flush: int | None
    exposure_id: int | None = None
    image_id: str | None = None
    lamps: list[str] = field(default_factory=list)
    stack: AsyncExitStack = field(default_factory=AsyncExitStack)
    step: str = "begin"  # the step running or expected next
    running: bool = False  # a step is executing now
    camera_started: bool = False
    claim: ExitStack = field(default_factory=ExitStack)  # holds Instrument.reserve()
    open_since: float | None = None  # clock timestamp the open time restarted
    open_s: float = 0.0  # open time before open_since
    paused_since: float | None = None
    paused_s: float = 0.0
    aborted: bool = False
    changed: asyncio.Event = field(default_factory=asyncio.Event)  # pause/resume/abort
    readings: asyncio.Future[StartReadings] | None = None  # header sources at the start
    image: CameraImage | None = None
    readout: Readout | None = None
    written: WrittenImage | None = None
    cards: dict[str, tuple[Any, str]] = field(default_factory=dict)  # from the caller


class ExposureTool:
    """azcam's exposure tool on a nocturna :class:`Instrument` (see the module docstring)."""

    name = "exposure"

    def __init__(
        self,
        instrument: Instrument,
        geometry: DetectorGeometry,
        *,
        filenames: FileNames,
        filetype: FileType | str | int = FileType.FITS,
        simulate: bool,
        sendimage: ImageSender | None = None,
        display: ImageDisplay | None = None,
        header_sources: tuple[HeaderSource, ...] | list[HeaderSource] = (),
        instrument_tool: LampTool | None = None,
        image_bias_adu: float | None = None,
        rng: np.random.Generator | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.instrument = instrument
        self.camera = instrument.camera
        self.geometry = geometry
        self.filenames = filenames
        self.filetype = FileType.parse(filetype)
        self.simulate = bool(simulate)
        self.sendimage = sendimage
        self.display = display
        self.header_sources = tuple(header_sources)
        self.instrument_tool = instrument_tool
        self.image_bias_adu = image_bias_adu
        self.rng = rng if rng is not None else np.random.default_rng()
        self._clock = clock
        self.display_image = display is not None  # azcam's display_image flag
        self.send_image = sendimage is not None  # azcam's send_image flag
        # Settings azcam keeps between exposures.
        self.exposure_time = 1.0
        self.image_type = "zero"
        self.title = ""
        self.roi = geometry.full_roi()
        self.col_bin = self.row_bin = 1
        self.predark = (geometry.scan.prescan_columns, geometry.scan.prescan_rows)
        self.exposure_sequence_total = 1
        self.exposure_sequence_delay = 0.0
        self.exposure_sequence_flush = 0
        # State.
        self.flag = ExposureFlag.NONE
        self.message = ""
        self.image_count = 0
        self.last_filename = ""
        self.last_exposure_id: int | None = None
        self.last_error: BaseException | None = None
        self._shot: _Shot | None = None
        self._task: asyncio.Task[None] | None = None  # expose1 / sequence1
        self._in_sequence = False
        self._sequence_number = 0
        self._stop_sequence = False
        self._last_shot: _Shot | None = None
        self._image_ready = False

    @property
    def clock(self) -> Clock:
        return self._clock if self._clock is not None else self.instrument.clock

    # ================================================================ exposures
    @remote
    async def expose(self, exposure_time: float = -1, imagetype: str = "",
                     title: str = "") -> None:
        """A complete exposure; returns when the file is written (and sent/shown)."""
        self._refuse_if_busy()
        await self._begin(exposure_time, imagetype, title, None)
        await self.integrate()
        await self.readout()
        await self.end()

    @remote
    async def expose1(self, exposure_time: float = -1, image_type: str = "",
                      image_title: str = "") -> None:
        """A complete exposure that returns once it has begun (checked, camera started);
        the rest runs in the background: follow it with get_status / get_exposureflag."""
        self._refuse_if_busy()
        await self._begin(exposure_time, image_type, image_title, None)
        self._task = asyncio.get_running_loop().create_task(self._finish_in_background())

    async def _finish_in_background(self) -> None:
        try:
            await self.integrate()
            await self.readout()
            await self.end()
        except Exception:
            pass  # kept in last_error / flag / message by the step that failed

    @remote
    async def begin(self, exposure_time: float = -1, imagetype: str = "",
                    title: str = "") -> None:
        """Check, reserve the exposure id, start the camera exposure (step 1 of 4)."""
        self._refuse_if_busy()
        await self._begin(exposure_time, imagetype, title, None)

    @remote
    async def integrate(self) -> None:
        """Wait until the exposure has collected its open time (step 2 of 4)."""
        shot = self._step("integrate")
        try:
            await self._integrate(shot)
        except BaseException as exc:
            await self._close(shot, exc)
            raise
        shot.running, shot.step = False, "readout"
        if not shot.aborted:
            self.flag = ExposureFlag.READ

    @remote
    async def readout(self) -> None:
        """Read the camera's image and lay it out as raw amplifier data (step 3 of 4)."""
        shot = self._step("readout")
        try:
            await self._readout(shot)
        except BaseException as exc:
            await self._close(shot, exc)
            raise
        shot.running, shot.step = False, "end"

    @remote
    async def end(self) -> None:
        """Write, record, send and display the image (step 4 of 4)."""
        shot = self._step("end")
        try:
            await self._end(shot)
        except BaseException as exc:
            await self._close(shot, exc)
            raise
        await self._close(shot, None)

    @remote
    async def abort(self) -> None:
        """Abort the exposure in progress (any step) and stop a running sequence."""
        self._stop_sequence = True
        shot = self._shot
        if shot is None:
            if self._in_sequence:  # between two exposures of a sequence
                self.flag, self.message = ExposureFlag.ABORT, "sequence aborted"
            return
        log.info("exposure aborted (during %s)", shot.step)
        shot.aborted = True
        shot.changed.set()
        self.flag = ExposureFlag.ABORT
        self.message = "exposure aborted"
        if shot.camera_started:
            with contextlib.suppress(Exception):
                await self.camera.abort_exposure()
        if not shot.running:  # between step-wise calls: nobody else will clean up
            await self._close(shot, OperationCancelledError("exposure aborted"))

    @remote
    async def pause(self) -> None:
        """Pause the integration: the camera closes its shutter and the timer stops."""
        shot = self._shot
        if shot is None or shot.step not in ("begin", "integrate") or not shot.camera_started \
                or shot.aborted:
            raise InvalidOperationError("pause: no exposure is integrating")
        if shot.paused_since is not None:
            raise InvalidOperationError("pause: the exposure is already paused")
        if self._remaining(shot) <= 0:
            raise InvalidOperationError("pause: the integration has already ended")
        await self.camera.pause_exposure()
        now = self.clock.timestamp()
        shot.open_s = self._open_s(shot, now)
        shot.open_since, shot.paused_since = None, now
        shot.changed.set()
        self.flag = ExposureFlag.PAUSED
        log.info("exposure paused, %.3f s still to integrate", self._remaining(shot))

    @remote
    async def resume(self) -> None:
        """Resume a paused integration."""
        shot = self._shot
        if shot is None or shot.paused_since is None or shot.aborted:
            raise InvalidOperationError("resume: no exposure is paused")
        await self.camera.resume_exposure()
        now = self.clock.timestamp()
        shot.paused_s += now - shot.paused_since
        shot.paused_since, shot.open_since = None, now
        shot.changed.set()
        self.flag = ExposureFlag.EXPOSING
        log.info("exposure resumed")

    @remote
    async def sequence(self, number_exposures: int = -1, flush_array_flag: int = -1,
                       delay: float = -1) -> None:
        """``number_exposures`` exposures with the current time, type and title, ``delay``
        seconds apart (-1: the current settings; see the module docstring for the flag)."""
        self._refuse_if_busy()
        await self._sequence(number_exposures, flush_array_flag, delay)

    @remote
    async def sequence1(self, number_exposures: int = 1, flush_array_flag: int = -1,
                        delay: float = -1) -> None:
        """:meth:`sequence` in the background: returns at once."""
        self._refuse_if_busy()
        count, flush, pause = self._sequence_settings(number_exposures, flush_array_flag,
                                                      delay)

        async def run() -> None:
            with contextlib.suppress(Exception):  # kept in last_error / flag / message
                await self._sequence(count, flush, pause)

        self._in_sequence = True  # refuse other commands from now on
        self._task = asyncio.get_running_loop().create_task(run())

    @remote
    async def test(self, exposure_time: float = 0.0, shutter: int = 0) -> None:
        """azcam's test exposure: a test image (not kept), shutter open (1) or closed (0);
        the image type, time and test flag are restored afterwards."""
        saved = (self.filenames.test_image, self.image_type, self.exposure_time, self.title)
        self.filenames.test_image = True
        try:
            await self.expose(exposure_time, "object" if shutter else "dark", "test image")
        finally:
            (self.filenames.test_image, self.image_type, self.exposure_time,
             self.title) = saved

    @remote
    def check_image_ready(self) -> bool:
        """True once per image written since the last call (azcam's image-ready toggle)."""
        ready, self._image_ready = self._image_ready, False
        return ready

    @remote
    async def reset(self) -> None:
        """Abort anything in progress and clear the flag and message (azcam's reset)."""
        await self.abort()
        if self._task is not None:
            with contextlib.suppress(BaseException):
                await self._task
        self.flag, self.message, self.last_error = ExposureFlag.NONE, "", None

    # ------------------------------------------------------------- the steps
    def _refuse_if_busy(self) -> None:
        if self._shot is not None:
            raise InvalidOperationError(
                f"an exposure is in progress ({self._shot.step} is next); finish it or "
                "abort() it first")
        if self._in_sequence or (self._task is not None and not self._task.done()):
            raise InvalidOperationError("an exposure or sequence is running in the "
                                        "background; wait for it or abort() it")

    def _step(self, step: str) -> _Shot:
        shot = self._shot
        if shot is None:
            raise InvalidOperationError(f"{step}: no exposure has begun; call begin() first")
        if shot.running:
            raise InvalidOperationError(f"{step}: {shot.step} is still running")
        if shot.step != step:
            raise InvalidOperationError(f"{step}: out of order, {shot.step}() is the next "
                                        "step of this exposure")
        shot.running = True
        return shot

    def _check_instrument(self) -> None:
        gate = self.instrument.gate
        if gate is not None:
            gate("azcam exposure")
        if self.instrument.busy:
            raise InvalidOperationError(f"instrument {self.instrument.name!r} is running a "
                                        "sequence; the exposure tool waits for it to end")

    async def _begin(self, exposure_time: float, imagetype: str, title: str,
                     flush: int | None) -> None:
        self._check_instrument()
        shot = await self._plan(exposure_time, imagetype, title, flush)
        self._shot, shot.running = shot, True
        self.flag, self.message, self.last_error = ExposureFlag.SETUP, "", None
        shot.claim.enter_context(self.instrument.reserve("an azcam exposure"))
        try:
            await self._start(shot)
        except BaseException as exc:
            await self._close(shot, exc)
            raise
        shot.running, shot.step = False, "integrate"
        if not shot.aborted:
            self.flag = ExposureFlag.EXPOSING if shot.paused_since is None \
                else ExposureFlag.PAUSED

    async def _plan(self, exposure_time: float, imagetype: str, title: str,
                    flush: int | None) -> _Shot:
        """Everything checked, nothing moved: the exposure as it will run."""
        name = _text(imagetype, "imagetype").strip().lower() or self.image_type
        kind = self._kind(name)
        requested = self.exposure_time
        seconds = _number(exposure_time, "exposure_time")
        if seconds >= 0:
            requested = seconds
        title = _text(title, "title")
        if title:
            h.ObservationInfo(object_name=title)  # checked as header text
        else:
            title = self.title
        filetype = self.filetype
        test = self.filenames.test_image
        final = self.filenames.path(self._extension(filetype), name)
        self.filenames.check_free(final)
        path = temporary_name(final) if test else final
        info = await self.camera.info()
        if (info.width, info.height) != (self.geometry.columns, self.geometry.rows):
            raise InvalidOperationError(
                f"detector {self.geometry.name!r} is {self.geometry.columns} x "
                f"{self.geometry.rows} but camera {self.camera.name!r} is {info.width} x "
                f"{info.height}: configure a geometry of the camera's size")
        if filetype is FileType.FITS and len(self.geometry.layout(
                self.roi, self.col_bin, self.row_bin).amps) > MAX_FITS_AMPS:
            raise InvalidOperationError(f"filetype FITS holds at most {MAX_FITS_AMPS} "
                                        "amplifiers; set_filetype('MEF')")
        self.exposure_time = requested
        self.image_type = name
        self.title = title
        return _Shot(imagetype=name, kind=kind,
                     exposure_time=0.0 if kind.zero_exposure else requested,
                     requested=requested, title=title, test=test, filetype=filetype,
                     path=path, filename=final.as_posix(), geometry=self.geometry,
                     roi=self.roi, col_bin=self.col_bin, row_bin=self.row_bin,
                     group_id=next_group_id(self.clock), flush=flush)

    async def write_frame(self, image: CameraImage, imagetype: str, title: str,
                          cards: dict[str, tuple[Any, str]] | None = None) -> str:
        """Write a frame taken by another tool (the focus tool's charge-shift frame) as
        this tool's next image: same names, file type, geometry, header and database row.
        The exposure settings (time, type, title) are left as they were. Returns the
        file name."""
        saved = (self.exposure_time, self.image_type, self.title)
        try:
            shot = await self._plan(image.duration_s, imagetype, title, None)
        finally:
            self.exposure_time, self.image_type, self.title = saved
        rows, cols = image.data.shape[:2]
        shot.col_bin, shot.row_bin = image.bin_x, image.bin_y
        shot.roi = Roi(image.start_x * image.bin_x + 1, (image.start_x + cols) * image.bin_x,
                       image.start_y * image.bin_y + 1, (image.start_y + rows) * image.bin_y)
        shot.cards = dict(cards or {})
        shot.image = image
        with self.instrument.reserve("writing a frame"):
            if not shot.test:
                shot.exposure_id = await self.instrument.pipeline.next_exposure_id()
                shot.image_id = self.instrument.image_id(shot.exposure_id)
            shot.readings = asyncio.ensure_future(
                self.instrument.pipeline.read_at_start(image.start_time))
            shot.readout = await asyncio.to_thread(
                shot.geometry.readout, image.data, roi=shot.roi, col_bin=shot.col_bin,
                row_bin=shot.row_bin, image_bias_adu=self._image_bias(image),
                simulate=self.simulate, rng=self.rng)
            await self._end(shot)
        return shot.filename

    def _kind(self, name: str) -> ImageType:
        if self._is_comp(name):
            return image_type("COMP")
        try:
            kind = image_type(name)
        except InvalidValueError:
            raise InvalidValueError(f"imagetype {name!r} is not known (known: "
                                    f"{', '.join(self._image_types())})") from None
        if kind.stuttered:
            raise InvalidValueError("imagetype 'stuttered' needs charge shifts: use the "
                                    "focus tool or the instrument's take_stuttered")
        return kind

    def _is_comp(self, name: str) -> bool:
        if name == "comp":
            return True
        tool = self.instrument_tool
        return tool is not None and bool(tool.is_comp(name))

    async def _start(self, shot: _Shot) -> None:
        camera = self.camera
        bin_x, bin_y = shot.col_bin, shot.row_bin
        await camera.set_frame(bin_x, bin_y, (shot.roi.first_col - 1) // bin_x,
                               (shot.roi.first_row - 1) // bin_y, shot.roi.ncols // bin_x,
                               shot.roi.nrows // bin_y)
        if not shot.test:
            shot.exposure_id = await self.instrument.pipeline.next_exposure_id()
            shot.image_id = self.instrument.image_id(shot.exposure_id)
        if shot.kind.name == "COMP":
            tool = self.instrument_tool
            if tool is None:
                raise InvalidOperationError(f"imagetype {shot.imagetype!r} is a comparison "
                                            "but no instrument tool drives lamps")
            lit = await self._guard(shot, shot.stack.enter_async_context(
                tool.lamps_lit(shot.imagetype)))
            shot.lamps = [str(n) for n in lit] if isinstance(lit, list | tuple) \
                else [shot.imagetype]
        self._raise_if_aborted(shot)
        await camera.start_exposure(shot.exposure_time, shot.kind.light)
        shot.camera_started = True
        shot.open_since = self.clock.timestamp()
        shot.readings = asyncio.ensure_future(
            self.instrument.pipeline.read_at_start(self.clock.now()))
        await self._guard(shot, asyncio.shield(shot.readings))  # read before begin returns
        log.info("exposure started: %s %g s %r -> %s", shot.imagetype, shot.exposure_time,
                 shot.title, shot.filename)

    async def _integrate(self, shot: _Shot) -> None:
        while True:
            shot.changed.clear()
            self._raise_if_aborted(shot)
            remaining = self._remaining(shot)
            if shot.paused_since is None and remaining <= 0:
                break
            if shot.paused_since is not None:
                await shot.changed.wait()
            else:
                await _first(self.clock.sleep(remaining), shot.changed.wait())
        await shot.stack.aclose()  # lamps off as soon as the light is collected
        log.debug("integration finished")

    async def _readout(self, shot: _Shot) -> None:
        self.flag = ExposureFlag.READOUT
        await self._guard(shot, self.camera.wait_until_ready(
            0.0, timeout_s=self.instrument.exposure_timeout_s))
        image = await self.camera.image()
        self._raise_if_aborted(shot)
        for observer in list(self.instrument.frame_observers):
            observer(image)
        shot.image = image
        shot.readout = await asyncio.to_thread(
            shot.geometry.readout, image.data, roi=shot.roi, col_bin=shot.col_bin,
            row_bin=shot.row_bin, image_bias_adu=self._image_bias(image),
            simulate=self.simulate, rng=self.rng)
        self._raise_if_aborted(shot)

    async def _end(self, shot: _Shot) -> None:
        assert shot.image is not None and shot.readout is not None
        self.flag = ExposureFlag.WRITING
        description = await self._header(shot)
        row = None
        if not shot.test:
            assert shot.image_id is not None
            row = FrameRow(shot.image_id, camera=self.camera.name, image_type=shot.kind.name,
                           exposure_time_s=shot.image.duration_s,
                           start_time=shot.image.start_time)
        shot.written = await self.instrument.pipeline.save(
            shot.path, shot.readout, description, row=row,
            encoder=self._encoder(shot.filetype),
            overwrite=shot.test or self.filenames.overwrite,
            adjust=lambda header: self._shift_wcs(shot, header),
            keep=lambda: not shot.aborted)
        if not shot.test:
            self.image_count += 1
            self.filenames.increment()
            self.last_exposure_id = shot.exposure_id
        self.last_filename = shot.filename
        self._image_ready = True
        log.info("image written: %s (%d bytes)", shot.filename, shot.written.size_bytes)
        await self._send_and_show(shot)

    async def _send_and_show(self, shot: _Shot) -> None:
        assert shot.written is not None and shot.readout is not None
        try:
            if self.display_image and self.display is not None and \
                    shot.filetype is not FileType.BIN:  # a viewer needs a FITS file
                try:
                    await self.display.show(shot.written.path)
                except Exception as exc:  # azcam never fails an exposure for the display
                    log.warning("could not display %s: %s", shot.filename, exc)
            sender = self.sendimage
            if self.send_image and sender is not None and sender.enabled:
                size_x, size_y = shot.readout.size
                try:
                    await sender.send_image(
                        shot.written.path, Path(shot.filename).name,
                        overwrite=shot.test or self.filenames.overwrite,
                        filetype=int(shot.filetype), size_x=size_x, size_y=size_y,
                        display=bool(self.display_image))
                except Exception as exc:
                    kept = "" if shot.test else f"; it is kept as {shot.filename}"
                    log.error("sending the image failed: %s%s", exc, kept)
                    raise
        finally:
            if shot.test:
                shot.path.unlink(missing_ok=True)

    # ------------------------------------------------------------- the header
    async def _header(self, shot: _Shot) -> FrameDescription:
        assert shot.image is not None and shot.readout is not None
        assert shot.readings is not None
        extra = await tool_cards(self.header_sources)
        extra.update(clean_cards(shot.cards))
        extra.update(self._own_cards(shot))
        observation = None
        sequence = None
        if shot.exposure_id is not None:
            day_obs, number = split_exposure_id(shot.exposure_id)
            sequence = h.SequenceInfo(exposure_id=shot.exposure_id, group_id=shot.group_id,
                                      day_obs=day_obs, sequence_number=number)
            observation = h.ObservationInfo(object_name=shot.title or None,
                                            image_id=shot.image_id)
        kind = shot.kind.name
        description = await self.instrument.pipeline.describe(
            shot.image, await shot.readings,
            image_type=kind if kind in h.IMAGE_TYPES else "LIGHT",
            observation=observation, sections=[sequence] if sequence else [], extra=extra)
        amps = shot.readout.amps
        if len(amps) != 1 or amps[0].amp.flip_x or amps[0].amp.flip_y:
            # Several amps (overscans between them) or a flipped raw array: no single
            # linear WCS describes the file's pixels.
            description = description.without_wcs()
        return description

    @staticmethod
    def _shift_wcs(shot: _Shot, header: fits.Header) -> None:
        if "CRPIX1" in header:  # one amp read as it lies: the data follow the prescan
            header["CRPIX1"] += shot.geometry.scan.prescan_columns
            header["CRPIX2"] += shot.geometry.scan.prescan_rows

    def _own_cards(self, shot: _Shot) -> dict[str, tuple[Any, str]]:
        assert shot.image is not None
        cards: dict[str, tuple[Any, str]] = {
            "IMAGETYP": (shot.kind.name, "image type"),
            "OBJECT": (shot.title, "image title"),
            "EXPREQ": (shot.exposure_time, "[s] exposure time requested"),
            "DARKTIME": (shot.image.duration_s + shot.paused_s, "[s] dark time (open time "
                         "plus pauses)"),
            "FILENAME": (Path(shot.filename).name, "file name"),
            "FILETYPE": (shot.filetype.name, "azcam file type"),
        }
        if shot.paused_s:
            cards["PAUSED"] = (round(shot.paused_s, 3), "[s] time the exposure was paused")
        if shot.kind.name == "COMP":
            names = " ".join(shot.lamps)
            cards["COMPLAMP"] = (names, "comparison lamps lit")
            cards["LAMPS"] = (",".join(shot.lamps), "comparison lamps lit")
        if shot.flush is not None:
            cards["FLUSHARR"] = (shot.flush, _FLUSH_MEANING[shot.flush])
        return cards

    def _image_bias(self, image: CameraImage) -> float:
        """The bias level in the camera's pixels (removed before the amps' own bias)."""
        if self.image_bias_adu is not None:
            return float(self.image_bias_adu)
        model = getattr(self.camera, "model", None)  # the simulator says what it adds
        bias = getattr(model, "bias_adu", None)
        if self.simulate and isinstance(bias, int | float):
            return float(bias) + float(image.offset or 0)
        return 0.0

    # ------------------------------------------------------------- clean-up
    async def _close(self, shot: _Shot, error: BaseException | None) -> None:
        """End ``shot`` (once): lamps off, camera stopped on failure, instrument freed."""
        if self._shot is not shot:
            return
        self._shot = None
        self._last_shot = shot
        shot.running = False
        try:
            await shot.stack.aclose()
        except Exception:
            log.exception("could not switch the comparison lamps off")
        if error is not None and shot.camera_started:
            with contextlib.suppress(Exception):
                await self.camera.abort_exposure()
        if shot.readings is not None and not shot.readings.done():
            shot.readings.cancel()
            await asyncio.gather(shot.readings, return_exceptions=True)
        shot.claim.close()
        if shot.test and error is not None:
            shot.path.unlink(missing_ok=True)
        if error is None:
            self.flag = ExposureFlag.NONE
        elif shot.aborted or isinstance(error, asyncio.CancelledError | OperationCancelledError):
            self.flag, self.message = ExposureFlag.ABORT, "exposure aborted"
        else:
            self.flag, self.message, self.last_error = ExposureFlag.ERROR, str(error), error
            log.error("exposure failed during %s: %s", shot.step, error)

    def _raise_if_aborted(self, shot: _Shot) -> None:
        if shot.aborted:
            raise OperationCancelledError("exposure aborted")

    async def _guard(self, shot: _Shot, awaitable: Awaitable[T]) -> T:
        """Await ``awaitable`` unless the exposure is aborted first."""
        task = asyncio.ensure_future(awaitable)
        while not task.done():
            shot.changed.clear()
            if shot.aborted:
                break
            await _first(asyncio.shield(task), shot.changed.wait())
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._raise_if_aborted(shot)
        return task.result()

    # ------------------------------------------------------------- the timer
    def _open_s(self, shot: _Shot, now: float | None = None) -> float:
        if shot.open_since is None:
            return shot.open_s
        now = self.clock.timestamp() if now is None else now
        return shot.open_s + max(0.0, now - shot.open_since)

    def _remaining(self, shot: _Shot) -> float:
        return max(0.0, shot.exposure_time - self._open_s(shot))

    # ------------------------------------------------------------- sequences
    def _sequence_settings(self, number_exposures: int, flush_array_flag: int,
                           delay: float) -> tuple[int, int, float]:
        count = _integer(number_exposures, "number_exposures", -1)
        count = self.exposure_sequence_total if count == -1 else count
        if count < 1:
            raise InvalidValueError(f"number_exposures must be >= 1 (or -1 for the current "
                                    f"{self.exposure_sequence_total}), got {number_exposures}")
        flush = _integer(flush_array_flag, "flush_array_flag", -1)
        flush = self.exposure_sequence_flush if flush == -1 else flush
        if flush not in _FLUSH_MEANING:
            raise InvalidValueError(f"flush_array_flag must be -1, 0, 1 or 2, got "
                                    f"{flush_array_flag}")
        pause = _number(delay, "delay")
        pause = self.exposure_sequence_delay if pause < 0 else pause
        return count, flush, pause

    async def _sequence(self, number_exposures: int, flush_array_flag: int,
                        delay: float) -> None:
        count, flush, pause = self._sequence_settings(number_exposures, flush_array_flag,
                                                      delay)
        self.exposure_sequence_total = count
        self._in_sequence, self._stop_sequence = True, False
        try:
            for index in range(count):
                if index and pause > 0:
                    await _first(self.clock.sleep(pause), self._stopped())
                if self._stop_sequence:
                    break
                self._sequence_number = index + 1
                frame_flush = flush if index == 0 or flush != 1 else 2
                await self._begin(-1, self.image_type, self.title, frame_flush)
                await self.integrate()
                await self.readout()
                await self.end()
        finally:
            self._in_sequence = False
            self._sequence_number = 0

    async def _stopped(self) -> None:
        while not self._stop_sequence:
            await self.clock.sleep(0.1)

    # ================================================================ status
    @remote
    def get_exposureflag(self) -> list[Any]:
        """``[flag number, flag name]`` as azcam returns it."""
        return [int(self.flag), self.flag.name]

    @remote
    async def get_status(self) -> dict[str, Any]:
        """The exposure's state, times, counts and names (azcam's keys and nocturna's)."""
        shot = self._shot
        state = _STATE_OF_FLAG[self.flag]
        remaining = self._remaining(shot) if shot is not None else 0.0
        exposure_time = shot.exposure_time if shot is not None else self.exposure_time
        progress = 0.0
        label = ""
        if shot is not None and state in ("exposing", "paused") and shot.camera_started:
            progress = 100.0 * (1 - remaining / exposure_time) if exposure_time else 100.0
            label = f"{remaining:.1f} sec remaining" + (" (paused)" if state == "paused"
                                                        else "")
        elif state in ("reading", "writing"):
            progress = 100.0
            label = state
        message = self.message
        if not message and state != "idle":
            message = self.flag.name
            if self._in_sequence:
                message += f" - {self._sequence_number} of {self.exposure_sequence_total}"
        current = shot or self._last_shot
        camtemp, dewtemp = await self._temperatures()
        return {
            "state": state, "message": message, "exposure_time": exposure_time,
            "time_remaining": round(remaining, 3), "progress": round(progress, 1),
            "image_count": self.image_count, "filename": self.get_filename(),
            "last_filename": self.last_filename,
            "exposure_id": current.exposure_id if current is not None else None,
            "paused": shot is not None and shot.paused_since is not None,
            # azcam's keys
            "exposurelabel": label, "exposurestate": self.flag.name if state != "idle" else "",
            "progressbar": round(progress, 1), "camtemp": camtemp, "dewtemp": dewtemp,
            "seqcount": self._sequence_number if self._in_sequence else 0,
            "seqtotal": self.exposure_sequence_total if self._in_sequence else 0,
            "timestamp": self.clock.now().isoformat(timespec="seconds"),
            "imagetitle": self.title, "imagetype": self.image_type,
            "imagetest": int(self.filenames.test_image), "exposuretime": self.exposure_time,
            "colbin": self.col_bin, "rowbin": self.row_bin,
        }

    async def _temperatures(self) -> tuple[float, float]:
        try:
            state = await self.camera.state()
        except Exception:
            return -999.9, -666.6  # azcam's "could not read"
        camtemp, dewtemp = state.ccd_temperature_c, state.heat_sink_temperature_c
        return (round(camtemp, 1) if math.isfinite(camtemp) else -999.9,
                round(dewtemp, 1) if math.isfinite(dewtemp) else -666.6)

    # ================================================================ settings
    @remote
    def get_exposuretime(self) -> float:
        return self.exposure_time

    @remote
    def set_exposuretime(self, exposure_time: float) -> None:
        """The exposure time (s) of the next exposures."""
        seconds = _number(exposure_time, "exposure_time")
        if seconds < 0:
            raise InvalidValueError(f"exposure_time must be >= 0 s, got {exposure_time!r}")
        self.exposure_time = seconds

    @remote
    def get_exposuretime_remaining(self) -> float:
        """Seconds of integration still to go (0 when not integrating)."""
        return round(self._remaining(self._shot), 3) if self._shot is not None else 0.0

    @remote
    def get_image_types(self) -> list[str]:
        """zero, object, flat, dark and the comparison lamps' names."""
        return self._image_types()

    def _image_types(self) -> list[str]:
        types = list(AZCAM_IMAGE_TYPES)
        tool = self.instrument_tool
        if tool is not None:
            with contextlib.suppress(Exception):
                types += [str(n) for n in tool.get_all_comps()]
        return types

    @remote
    def set_image_type(self, imagetype: str = "zero") -> None:
        name = _text(imagetype, "imagetype").strip().lower()
        self._kind(name)
        self.image_type = name

    @remote
    def get_image_type(self) -> str:
        return self.image_type

    @remote
    def set_image_title(self, title: str = "") -> None:
        """The image title (OBJECT) of the next exposures ("" clears it)."""
        title = _text(title, "title")
        if title:
            h.ObservationInfo(object_name=title)
        self.title = title

    @remote
    def get_image_title(self) -> str:
        return self.title

    @remote
    def set_test_image(self, flag: bool) -> None:
        """Test images are sent/shown but neither kept nor recorded."""
        self.filenames.test_image = flag

    @remote
    def get_test_image(self) -> bool:
        return self.filenames.test_image

    @remote
    def set_filetype(self, filetype: str) -> None:
        """FITS, MEF or BIN (or azcam's 0, 1, 2)."""
        self.filetype = FileType.parse(filetype)

    @remote
    def get_filetype(self) -> str:
        return self.filetype.name

    # -- file names
    @remote
    def get_filename(self) -> str:
        """The next image's file name (azcam: ``test.<ext>`` for a test image)."""
        return self.filenames.filename(self._extension(self.filetype), self.image_type)

    def _encoder(self, filetype: FileType) -> ReadoutEncoder:
        """The file type as an encoder of the frame pipeline, compressed as the
        instrument's image format says."""
        return ReadoutEncoder(filetype, compress=self.instrument.compress)

    def _extension(self, filetype: FileType) -> str:
        return self._encoder(filetype).suffix[1:]

    @remote
    def set_filename(self, filename: str) -> None:
        """Folder and root from a path (azcam's rule: root = the name up to its first dot)."""
        self.filenames.set_filename(filename)

    @remote
    def get_root(self) -> str:
        return self.filenames.root

    @remote
    def set_root(self, root: str) -> None:
        self.filenames.root = root

    @remote
    def get_folder(self) -> str:
        return self.filenames.folder.as_posix()

    @remote
    def set_folder(self, folder: str) -> None:
        self.filenames.folder = folder

    @remote
    def get_sequence_number(self) -> int:
        return self.filenames.sequence_number

    @remote
    def set_sequence_number(self, sequence_number: int) -> None:
        self.filenames.sequence_number = sequence_number

    @remote
    def set_overwrite(self, flag: bool) -> None:
        self.filenames.overwrite = flag

    @remote
    def get_overwrite(self) -> bool:
        return self.filenames.overwrite

    @remote
    def set_auto_increment(self, flag: bool) -> None:
        self.filenames.auto_increment = flag

    @remote
    def get_auto_increment(self) -> bool:
        return self.filenames.auto_increment

    # -- region of interest and format
    @remote
    async def set_roi(self, first_col: int = -1, last_col: int = -1, first_row: int = -1,
                      last_row: int = -1, col_bin: int = -1, row_bin: int = -1,
                      roi_num: int = 0) -> None:
        """The region read (1-based inclusive unbinned detector pixels) and the binning
        of the next exposures; -1 keeps a value. The camera reads exactly this region."""
        if roi_num != 0:
            raise InvalidValueError(f"roi_num must be 0 (one ROI), got {roi_num}")
        values = [first_col, last_col, first_row, last_row, col_bin, row_bin]
        current = [self.roi.first_col, self.roi.last_col, self.roi.first_row,
                   self.roi.last_row, self.col_bin, self.row_bin]
        names = ("first_col", "last_col", "first_row", "last_row", "col_bin", "row_bin")
        chosen = [old if _integer(new, key, -1) == -1 else new
                  for new, old, key in zip(values, current, names, strict=True)]
        roi = Roi(*chosen[:4])
        await self._check_frame(roi, chosen[4], chosen[5])
        self.roi, self.col_bin, self.row_bin = roi, chosen[4], chosen[5]

    async def _check_frame(self, roi: Roi, col_bin: int, row_bin: int) -> None:
        self.geometry.check_roi(roi, col_bin, row_bin)
        for key, first, binning in (("first_col", roi.first_col, col_bin),
                                    ("first_row", roi.first_row, row_bin)):
            if (first - 1) % binning:
                raise InvalidValueError(
                    f"{key} = {first}: with binning {binning} the region must start on a "
                    f"binned pixel ({key} - 1 a multiple of {binning})")
        info = await self.camera.info()
        if col_bin > info.max_bin_x or row_bin > info.max_bin_y:
            raise InvalidValueError(f"binning {col_bin}x{row_bin}: camera {self.camera.name!r}"
                                    f" bins at most {info.max_bin_x}x{info.max_bin_y}")
        if col_bin != row_bin and not info.can_asymmetric_bin:
            raise InvalidValueError(f"binning {col_bin}x{row_bin}: camera {self.camera.name!r}"
                                    " bins both axes alike")

    @remote
    def get_roi(self, roi_num: int = 0) -> list[int]:
        """``[first_col, last_col, first_row, last_row, col_bin, row_bin]``."""
        if roi_num != 0:
            raise InvalidValueError(f"roi_num must be 0 (one ROI), got {roi_num}")
        return [self.roi.first_col, self.roi.last_col, self.roi.first_row, self.roi.last_row,
                self.col_bin, self.row_bin]

    @remote
    def roi_reset(self) -> None:
        """The whole detector at the current binning (trimmed to whole binned pixels)."""
        self.roi = self.geometry.fit_roi(None, self.col_bin, self.row_bin)

    @remote
    def set_format(self, ns_total: int = -1, ns_predark: int = -1, ns_underscan: int = -1,
                   ns_overscan: int = -1, np_total: int = -1, np_predark: int = -1,
                   np_underscan: int = -1, np_overscan: int = -1,
                   np_frametransfer: int = -1) -> None:
        """azcam's per-amplifier format; -1 keeps a value. The totals are the detector's
        imaging columns/rows (they cannot change); ``*_underscan`` (≤ ``*_predark``) are
        the prescan pixels read, ``*_overscan`` the overscan; no frame transfer."""
        scan = self.geometry.scan
        g = self.geometry
        old = [g.columns, self.predark[0], scan.prescan_columns, scan.overscan_columns,
               g.rows, self.predark[1], scan.prescan_rows, scan.overscan_rows, 0]
        keys = ("ns_total", "ns_predark", "ns_underscan", "ns_overscan", "np_total",
                "np_predark", "np_underscan", "np_overscan", "np_frametransfer")
        given = (ns_total, ns_predark, ns_underscan, ns_overscan, np_total, np_predark,
                 np_underscan, np_overscan, np_frametransfer)
        new = dict(zip(keys, (o if _integer(v, k, -1) == -1 else v
                              for v, o, k in zip(given, old, keys, strict=True)), strict=True))
        if new["ns_total"] != g.columns or new["np_total"] != g.rows:
            raise InvalidValueError(
                f"ns_total = {new['ns_total']}, np_total = {new['np_total']}: detector "
                f"{g.name!r} has {g.columns} x {g.rows} imaging pixels, which cannot change")
        if new["np_frametransfer"] != 0:
            raise InvalidValueError(f"np_frametransfer = {new['np_frametransfer']}: this "
                                    "detector has no frame-transfer area (expected 0)")
        for axis, limit in (("ns", g.amp_columns), ("np", g.amp_rows)):
            predark, under, over = (new[f"{axis}_predark"], new[f"{axis}_underscan"],
                                    new[f"{axis}_overscan"])
            if under > predark:
                raise InvalidValueError(f"{axis}_underscan = {under}: cannot read more "
                                        f"prescan than {axis}_predark = {predark}")
            for key, value in ((f"{axis}_predark", predark), (f"{axis}_overscan", over)):
                if value > limit:
                    raise InvalidValueError(f"{key} = {value}: expected at most {limit} "
                                            "(one amplifier's size)")
        self.geometry = dataclasses.replace(g, scan=ScanSizes(
            new["ns_underscan"], new["ns_overscan"], new["np_underscan"],
            new["np_overscan"]))
        self.predark = (new["ns_predark"], new["np_predark"])

    @remote
    def get_format(self) -> list[int]:
        """azcam's format list: ns_total, ns_predark, ns_underscan, ns_overscan, np_total,
        np_predark, np_underscan, np_overscan, np_frametransfer."""
        g, s = self.geometry, self.geometry.scan
        return [g.columns, self.predark[0], s.prescan_columns, s.overscan_columns, g.rows,
                self.predark[1], s.prescan_rows, s.overscan_rows, 0]

    # ================================================================ parameters
    def parameters(self) -> list[Parameter]:
        """azcam's exposure/image parameters for the ``parameters`` tool."""
        names = self.filenames

        def image_par(key: str) -> Parameter:
            return Parameter(key, lambda: names.get_par(key),
                             lambda value: names.set_par(key, value))

        def flag(attribute: str) -> Any:
            return lambda value: setattr(self, attribute, _flag_text(value, attribute))

        return [
            *(image_par(key) for key in ("imagefolder", "imageroot", "imagesequencenumber",
                                         "imageincludesequencenumber", "imageautoname",
                                         "imageautoincrementsequencenumber", "imageoverwrite",
                                         "imagetest")),
            Parameter("imagetype", lambda: self.image_type, self.set_image_type),
            Parameter("imagetitle", lambda: self.title, self.set_image_title),
            Parameter("imagefiletype", lambda: int(self.filetype), self.set_filetype),
            Parameter("exposuretime", lambda: self.exposure_time,
                      lambda value: self.set_exposuretime(_number(value, "exposuretime"))),
            Parameter("exposureflag", lambda: int(self.flag)),
            Parameter("lastfilename", lambda: self.last_filename),
            Parameter("displayimage", lambda: int(self.display_image), flag("display_image")),
            Parameter("sendimage", lambda: int(self.send_image), flag("send_image")),
            Parameter("imagesizex", lambda: self.roi.ncols // self.col_bin),
            Parameter("imagesizey", lambda: self.roi.nrows // self.row_bin),
            Parameter("colbin", lambda: self.col_bin),
            Parameter("rowbin", lambda: self.row_bin),
            Parameter("firstcol", lambda: self.roi.first_col),
            Parameter("lastcol", lambda: self.roi.last_col),
            Parameter("firstrow", lambda: self.roi.first_row),
            Parameter("lastrow", lambda: self.roi.last_row),
        ]


# --- helpers ---------------------------------------------------------------------------


async def _first(*awaitables: Awaitable[Any]) -> None:
    """Wait until the first of ``awaitables`` finishes; cancel the others."""
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidValueError(f"{what} must be text, got {value!r}")
    return value.strip().strip('"').strip("'")  # azcam clients quote titles


def _number(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidValueError(f"{what} must be a number, got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(number):
        raise InvalidValueError(f"{what} must be a finite number, got {value!r}")
    return number


def _integer(value: Any, what: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InvalidValueError(f"{what} must be an integer >= {low}, got {value!r}")
    return value


def _flag_text(value: Any, what: str) -> bool:
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise InvalidValueError(f"{what} must be a flag (0/1), got {value!r}")
