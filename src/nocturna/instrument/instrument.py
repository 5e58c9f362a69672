"""The instrument: one way to take data, frame by frame, for people and the night.

An :class:`Instrument` groups a camera with its filter wheel, focuser and optionally a
spectrograph (filter, grating, linear stage). Every sequence method (``take_bias``,
``take_object``, …) goes through :meth:`Instrument.take_imgtype`, which

1. checks everything first — image type, exposure time, counts, the setup keywords
   and their values — so a bad call moves nothing;
2. applies the setup (``filter=``, ``grating=``, ``linear_stage=``);
3. for each frame: awaits ``checkpoint(message)`` (which may cancel by raising),
   takes an exposure id (reserved a few frames ahead, :mod:`.exposure_ids`), exposes
   (the header sources are read as it starts), reads out, gathers the header
   (IMAGETYP, EXPID, GROUPID, REASON, PROGRAM, NOTE, TESTTYPE, …) and hands the frame
   to a background writer, so the next exposure starts while the last one is written
   and recorded. Ids, header, file and row come from the frame pipeline
   (:mod:`nocturna.instrument.pipeline`);
4. returns the exposure ids. When the sequence stops early (checkpoint, error,
   cancellation), the frames already taken are still written and recorded.

Progress goes out as ``instrument.progress`` events (phase ``exposing``, ``reading``,
``written``; frame ``index`` of ``total``), and ``instrument.sequence`` events when a
sequence starts and ends. :attr:`Instrument.written_observers` are called with a
:class:`WrittenFrame` as each frame's file and row are done (on the event loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from nocturna.components import Component, ComponentGroup
from nocturna.core.clock import Clock, get_clock
from nocturna.core.errors import (
    InvalidOperationError,
    InvalidValueError,
    OperationCancelledError,
)
from nocturna.core.events import EventBus, get_event_bus
from nocturna.core.units import is_quantity
from nocturna.devices.camera import Camera, CameraImage
from nocturna.images import header as h
from nocturna.images.encoders import image_encoder
from nocturna.images.fits import WrittenImage
from nocturna.images.wcs import plate_scale_arcsec
from nocturna.instrument.exposure_ids import ExposureIdSource, next_group_id, split_exposure_id
from nocturna.instrument.image_types import ImageType, image_type
from nocturna.instrument.pipeline import (
    FrameContext,
    FrameIdentity,
    FrameObserver,
    FramePipeline,
    StartReadings,
)
from nocturna.instrument.setup import AvailableSetup, InstrumentSetup
from nocturna.instrument.writer import FrameWriter

log = logging.getLogger(__name__)

Checkpoint = Callable[[str], Awaitable[Any]]

AZCAM_TYPES = {"zero": "ZERO", "object": "OBJECT", "flat": "FLAT", "dark": "DARK"}
"""azcam's image types (LATISS names are accepted too)."""


@dataclass(frozen=True)
class SequenceRequest:
    """One validated call of :meth:`Instrument.take_imgtype`."""

    kind: ImageType
    exptime: float
    n: int
    n_snaps: int
    group_id: str
    reason: str | None
    program: str | None
    note: str | None
    test_type: str | None
    n_shift: int | None
    row_shift: int | None
    title: str | None
    setup: dict[str, Any] = field(default_factory=dict)
    observation_id: int | None = None  # the observation the frames belong to (storage)

    @property
    def total(self) -> int:
        return self.n * self.n_snaps


@dataclass
class TakenFrame:
    """A frame taken and handed to the writer."""

    exposure_id: int
    image_id: str
    path: Path
    index: int


@dataclass(frozen=True)
class WrittenFrame:
    """A frame of a sequence, written and recorded: what the written observers get."""

    image_id: str
    path: Path
    image_type: str
    exposure_s: float
    index: int  # in its sequence, from 1
    total: int
    title: str | None
    reason: str | None
    header: Any  # the image header as written (fits.Header or HeaderCards)


WrittenObserver = Callable[[WrittenFrame], None]


class Instrument:
    """A camera with its filter wheel, focuser and optional spectrograph."""

    def __init__(
        self,
        camera: Camera,
        *,
        storage: Any,
        data_dir: str | Path,
        name: str | None = None,
        context: FrameContext | None = None,
        spectrograph: Any | None = None,
        timezone: str | None = None,
        image_format: str = "fits",
        compress: bool = False,
        writer_depth: int = 2,
        exposure_timeout_s: float = 600.0,
        exposure_stream: str | None = None,
        clock: Clock | None = None,
        events: EventBus | None = None,
    ) -> None:
        self.camera = camera
        self.name = name or camera.name
        self.context = context or FrameContext(camera=camera)
        if spectrograph is not None:  # a header source of every frame, as the wheel is
            self.context.spectrograph = spectrograph
        self.setup = InstrumentSetup(self.name, filterwheel=self.context.filterwheel,
                                     focuser=self.context.focuser,
                                     spectrograph=self.context.spectrograph)
        self.storage = storage
        self.data_dir = Path(data_dir)
        self.writer_depth = writer_depth
        self.exposure_timeout_s = exposure_timeout_s
        self._clock = clock
        self._events = events
        self.exposure_ids = ExposureIdSource(storage, exposure_stream or self.name,
                                             timezone=timezone, clock=clock)
        self.pipeline = FramePipeline(
            self.context, storage=storage, exposure_ids=self.exposure_ids,
            encoder=image_encoder("fits.fz" if compress else image_format), name=self.name)
        self.gate: Callable[[str], None] | None = None  # refuses commands (summary state)
        self.written_observers: list[WrittenObserver] = []
        self._busy = False

    # ------------------------------------------------------------------ plumbing
    @property
    def spectrograph(self) -> Any | None:
        return self.setup.spectrograph

    @property
    def clock(self) -> Clock:
        return self._clock if self._clock is not None else get_clock()

    @property
    def frame_observers(self) -> list[FrameObserver]:
        """Called with every frame as it is read out, before it is written (e.g. guiding):
        the pipeline's, so the azcam exposure tool's frames reach them too."""
        return self.pipeline.frame_observers

    @property
    def compress(self) -> bool:
        """True when frames are written Rice-compressed (``.fits.fz``)."""
        return self.pipeline.encoder.suffix.endswith(".fz")

    @property
    def events(self) -> EventBus:
        return self._events if self._events is not None else get_event_bus()

    def devices(self) -> list[Any]:
        """The devices this instrument commands (camera first)."""
        return [self.camera, *self.setup.devices()]

    @property
    def busy(self) -> bool:
        """True while a sequence (or another user holding :meth:`reserve`) takes frames."""
        return self._busy

    @contextlib.contextmanager
    def reserve(self, what: str = "a sequence") -> Iterator[None]:
        """Hold the camera for ``what`` (e.g. the azcam exposure tool's exposure): no
        sequence starts meanwhile; refused if one is running."""
        if self._busy:
            raise InvalidOperationError(f"{self.name}: a sequence is already running, "
                                        f"cannot start {what}")
        self._busy = True
        try:
            yield
        finally:
            self._busy = False

    def _publish(self, topic: str, **data: Any) -> None:
        self.events.publish(f"instrument.{topic}", self.name, time=self.clock.now(), **data)

    # --------------------------------------------------------------------- setup
    def image_id(self, exposure_id: int) -> str:
        """The image id (file stem, database key) of one of this instrument's exposures."""
        return self.pipeline.image_id(exposure_id)

    async def plate_scale_arcsec(self) -> float:
        """Arcseconds per unbinned pixel: the camera's pixels behind the configured optics."""
        pixel_um = (await self.camera.info()).pixel_size_x_um
        return plate_scale_arcsec(pixel_um, self.context.optics.focal_length_mm)

    def image_path(self, exposure_id: int) -> Path:
        """Where the frame of ``exposure_id`` is written."""
        day_obs, _ = split_exposure_id(exposure_id)
        name = f"{self.image_id(exposure_id)}{self.pipeline.encoder.suffix}"
        return self.data_dir / "images" / str(day_obs) / name

    async def setup_instrument(self, **setup: Any) -> tuple[str | None, str | None,
                                                            float | None]:
        """Move to ``filter=``, ``grating=``, ``linear_stage=`` (checked before moving)."""
        self._check_gate("setup_instrument")
        return (await self.setup.apply(setup)).as_tuple()

    async def get_setup(self) -> tuple[str | None, str | None, float | None]:
        """(filter, grating, linear stage position in mm); None where absent."""
        return (await self.setup.current()).as_tuple()

    async def get_available_setup(self) -> tuple[list[str], list[str],
                                                 tuple[float, float] | None]:
        """(filters, gratings, linear stage limits in mm)."""
        available: AvailableSetup = await self.setup.available()
        return available.as_tuple()

    # ----------------------------------------------------------------- sequences
    async def take_bias(self, n: int, **kwargs: Any) -> list[int]:
        """``n`` bias frames (0 s, shutter closed)."""
        return await self.take_imgtype("BIAS", 0.0, n, **kwargs)

    async def take_darks(self, exptime: float, n: int, **kwargs: Any) -> list[int]:
        """``n`` dark frames of ``exptime`` s (shutter closed)."""
        return await self.take_imgtype("DARK", exptime, n, **kwargs)

    async def take_flats(self, exptime: float, n: int, **kwargs: Any) -> list[int]:
        """``n`` flat fields of ``exptime`` s."""
        return await self.take_imgtype("FLAT", exptime, n, **kwargs)

    async def take_object(self, exptime: float, n: int = 1, n_snaps: int = 1,
                          **kwargs: Any) -> list[int]:
        """``n`` visits of ``n_snaps`` object frames each."""
        return await self.take_imgtype("OBJECT", exptime, n, n_snaps=n_snaps, **kwargs)

    async def take_engtest(self, exptime: float, n: int = 1, **kwargs: Any) -> list[int]:
        """``n`` engineering test frames."""
        return await self.take_imgtype("ENGTEST", exptime, n, **kwargs)

    async def take_focus(self, exptime: float, n: int = 1, **kwargs: Any) -> list[int]:
        """``n`` focus frames."""
        return await self.take_imgtype("FOCUS", exptime, n, **kwargs)

    async def take_cwfs(self, exptime: float, n: int = 1, **kwargs: Any) -> list[int]:
        """``n`` curvature wavefront sensing (defocused) frames."""
        return await self.take_imgtype("CWFS", exptime, n, **kwargs)

    async def take_acq(self, exptime: float = 1.0, n: int = 1, **kwargs: Any) -> list[int]:
        """``n`` acquisition frames."""
        return await self.take_imgtype("ACQ", exptime, n, **kwargs)

    async def take_stuttered(self, exptime: float, n_shift: int, row_shift: int, n: int = 1,
                             **kwargs: Any) -> list[int]:
        """``n`` frames of ``n_shift`` segments of ``exptime`` s, ``row_shift`` rows apart."""
        return await self.take_imgtype("STUTTERED", exptime, n, n_shift=n_shift,
                                       row_shift=row_shift, **kwargs)

    async def expose(self, exptime: float, imagetype: str = "object", title: str = "",
                     **kwargs: Any) -> int:
        """azcam's ``expose``: one frame of ``imagetype`` (zero, object, flat, dark, or a
        LATISS name) with ``title`` as OBJECT; returns its exposure id."""
        kind = AZCAM_TYPES.get(str(imagetype).strip().lower(), imagetype)
        ids = await self.take_imgtype(kind, exptime, 1, title=title or None, **kwargs)
        return ids[0]

    async def take_imgtype(
        self,
        imgtype: str,
        exptime: float,
        n: int,
        n_snaps: int = 1,
        n_shift: int | None = None,
        row_shift: int | None = None,
        group_id: str | None = None,
        test_type: str | None = None,
        reason: str | None = None,
        program: str | None = None,
        note: str | None = None,
        checkpoint: Checkpoint | None = None,
        title: str | None = None,
        observation_id: int | None = None,
        **setup: Any,
    ) -> list[int]:
        """Take ``n`` visits of ``n_snaps`` frames of ``imgtype``; returns the exposure ids.

        ``setup`` keywords (``filter``, ``grating``, ``linear_stage``) are applied before
        the first frame. ``observation_id`` links the frames' database rows to an
        observation. See the module docstring for the order of events.
        """
        request = await self._validate(imgtype, exptime, n, n_snaps, n_shift, row_shift,
                                       group_id, test_type, reason, program, note, title,
                                       setup)
        if observation_id is not None:
            request = replace(request, observation_id=_count(observation_id, "observation_id",
                                                             self.name))
        self._check_gate(f"take {request.kind.name.lower()}")
        if self._busy:
            raise InvalidOperationError(f"{self.name}: a sequence is already running")
        self._busy = True
        try:
            return await self._run(request, checkpoint)
        finally:
            self._busy = False

    # ------------------------------------------------------------------ internals
    def _check_gate(self, what: str) -> None:
        if self.gate is not None:
            self.gate(what)

    async def _validate(self, imgtype: str, exptime: Any, n: Any, n_snaps: Any, n_shift: Any,
                        row_shift: Any, group_id: Any, test_type: Any, reason: Any,
                        program: Any, note: Any, title: Any,
                        setup: dict[str, Any]) -> SequenceRequest:
        kind = image_type(imgtype)
        exptime = _seconds(exptime, self.name)
        if kind.zero_exposure and exptime != 0:
            raise InvalidValueError(f"{self.name}: a {kind.name.lower()} frame has no "
                                    f"exposure time, got {exptime:g} s")
        n = _count(n, "n", self.name)
        n_snaps = _count(n_snaps, "n_snaps", self.name)
        if n_snaps > 2:
            log.warning("%s: %d snaps per visit; 1 or 2 is the norm", self.name, n_snaps)
        if kind.stuttered:
            if n_shift is None or row_shift is None:
                raise InvalidValueError(f"{self.name}: stuttered frames need n_shift and "
                                        "row_shift")
            n_shift = _count(n_shift, "n_shift", self.name)
            row_shift = _count(row_shift, "row_shift", self.name, low=0)
            info = await self.camera.info()
            if not getattr(info, "can_stutter", False):
                raise InvalidOperationError(f"camera {self.camera.name!r} cannot take "
                                            "stuttered (charge-shift) frames")
        elif n_shift is not None or row_shift is not None:
            raise InvalidValueError(f"{self.name}: n_shift/row_shift only apply to stuttered "
                                    f"frames, not {kind.name.lower()}")
        # Text that goes into the header: the header section checks it now.
        h.SequenceInfo(exposure_id=0, group_id=group_id or "x", day_obs=20000101,
                       sequence_number=1, reason=reason, program=program, note=note,
                       test_type=test_type)
        if title is not None:
            h.ObservationInfo(object_name=title)
        await self.setup.check(setup)
        return SequenceRequest(kind, exptime, n, n_snaps, group_id or next_group_id(self.clock),
                               reason, program, note, test_type, n_shift, row_shift, title,
                               dict(setup))

    async def _run(self, request: SequenceRequest, checkpoint: Checkpoint | None) -> list[int]:
        kind = request.kind.name
        self._publish("sequence", phase="started", image_type=kind, total=request.total,
                      group_id=request.group_id, exptime=request.exptime)
        if request.setup:
            await self.setup.apply(request.setup)
        taken: list[TakenFrame] = []
        writer: FrameWriter[WrittenImage] = FrameWriter(
            self.writer_depth, on_done=lambda written, frame: self._written(request, frame,
                                                                            written))
        outcome = "finished"
        self.exposure_ids.expect(request.total)  # ids reserved a few frames ahead
        try:
            index = 0
            for visit in range(1, request.n + 1):
                for snap in range(1, request.n_snaps + 1):
                    index += 1
                    if checkpoint is not None:
                        await checkpoint(f"{kind.lower()} {index} of {request.total} "
                                         f"(group {request.group_id})")
                    frame = await self._take_frame(request, writer, index, visit, snap)
                    taken.append(frame)
            await writer.drain()
        except BaseException as exc:
            outcome = "cancelled" if _is_cancel(exc) else "failed"
            await writer.settle()
            self._publish("sequence", phase=outcome, image_type=kind, total=request.total,
                          group_id=request.group_id, taken=len(writer.results),
                          reason=str(exc) or type(exc).__name__)
            raise
        finally:
            self.exposure_ids.expect(0)
        self._publish("sequence", phase=outcome, image_type=kind, total=request.total,
                      group_id=request.group_id, taken=len(taken))
        return [frame.exposure_id for frame in taken]

    async def _take_frame(self, request: SequenceRequest, writer: FrameWriter[WrittenImage],
                          index: int, visit: int, snap: int) -> TakenFrame:
        ids = await self.pipeline.reserve_ids()
        progress = {"index": index, "total": request.total, "exposure_id": ids.exposure_id,
                    "image_type": request.kind.name, "group_id": request.group_id}
        image, readings = await self._expose(request, progress)
        self.pipeline.observe(image)
        identity = FrameIdentity.of_exposure(
            ids, request.kind.name, request.group_id, title=request.title,
            observation_id=request.observation_id, reason=request.reason,
            program=request.program, note=request.note, test_type=request.test_type,
            visit=visit, snap=snap, n_snaps=request.n_snaps, n_shift=request.n_shift,
            row_shift=request.row_shift)
        description = await self.pipeline.describe(image, readings, identity=identity)
        path = self.image_path(ids.exposure_id)
        frame = TakenFrame(ids.exposure_id, ids.image_id, path, index)
        await writer.submit(self.pipeline.save(path, image.data, description), frame)
        return frame

    async def _expose(self, request: SequenceRequest,
                      progress: dict[str, Any]) -> tuple[CameraImage, StartReadings]:
        """The frame, and the header sources read as its exposure started."""
        camera = self.camera
        light = request.kind.light
        if request.kind.stuttered:
            assert request.n_shift is not None and request.row_shift is not None
            await camera.start_stuttered_exposure(request.exptime, request.n_shift,
                                                  request.row_shift, light)
            open_s = request.exptime * request.n_shift
        else:
            await camera.start_exposure(request.exptime, light)
            open_s = request.exptime
        started = self.clock.timestamp()
        try:
            readings = await self.pipeline.read_at_start(self.clock.now())
            self._publish("progress", phase="exposing", **progress)
            open_s -= self.clock.timestamp() - started  # the readings took some of it
            if open_s > 0:
                await self.clock.sleep(open_s)
            self._publish("progress", phase="reading", **progress)
            await camera.wait_until_ready(0.0, timeout_s=self.exposure_timeout_s)
            return await camera.image(), readings
        except BaseException:
            with contextlib.suppress(Exception):
                await camera.abort_exposure()
            raise

    def _written(self, request: SequenceRequest, frame: TakenFrame,
                 written: WrittenImage) -> None:
        self._publish("progress", phase="written", index=frame.index, total=request.total,
                      exposure_id=frame.exposure_id, image_type=request.kind.name,
                      group_id=request.group_id, path=str(written.path),
                      size_bytes=written.size_bytes)
        if self.written_observers:
            done = WrittenFrame(frame.image_id, written.path, request.kind.name,
                                request.exptime, frame.index, request.total, request.title,
                                request.reason, written.header)
            for observer in list(self.written_observers):
                observer(done)


def _is_cancel(exc: BaseException) -> bool:
    return isinstance(exc, asyncio.CancelledError | OperationCancelledError)


def _seconds(value: Any, owner: str) -> float:
    if is_quantity(value):
        value = float(value.to_value("s"))
    if isinstance(value, bool) or not isinstance(value, int | float) or \
            not math.isfinite(value) or value < 0:
        raise InvalidValueError(f"{owner}: exposure time must be a number of seconds >= 0, "
                                f"got {value!r}")
    return float(value)


def _count(value: Any, what: str, owner: str, *, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InvalidValueError(f"{owner}: {what} must be an integer >= {low}, got {value!r}")
    return value


class InstrumentComponent(Component):
    """The instrument under control: ENABLED to take data; alive while its camera answers.

    It becomes the instrument's gate, so a sequence is refused unless ENABLED. Its
    devices have components of their own (see :func:`instrument_components`).
    """

    kind = "instrument"
    probe_description = "camera state()"

    def __init__(self, instrument: Instrument, **options: Any) -> None:
        from nocturna import __version__

        options.setdefault("software_version", f"nocturna {__version__}")
        options.setdefault("simulation_mode", instrument.camera.driver_name == "sim")
        options.setdefault("clock", instrument._clock)
        options.setdefault("events", instrument._events)
        super().__init__(f"{instrument.name}-instrument", **options)
        self.instrument = instrument
        instrument.gate = self.require_enabled

    async def _probe(self) -> None:
        await self.instrument.camera.state()


def instrument_components(instrument: Instrument, others: Iterable[Any] = (),
                          **options: Any) -> ComponentGroup:
    """A group of the instrument, its devices and ``others`` (more devices), all OFFLINE.

    ``options`` (heartbeat interval, probe timeout, fault_after, on_change) go to every
    component.
    """
    devices = list(dict.fromkeys([*instrument.devices(), *others]))
    group = ComponentGroup.for_devices(devices, **options)
    return ComponentGroup([*group, InstrumentComponent(instrument, **options)])
