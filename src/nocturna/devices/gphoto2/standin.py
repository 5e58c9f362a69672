"""A stand-in of the gphoto2 layer: Canon EOS cameras that replay recorded responses.

Each :class:`ReplayCamera` answers config reads with the widgets real Canon cameras
report (:mod:`.recorded`, by default), refuses what libgphoto2 refuses (an unknown
widget, a read-only one, a choice the widget does not offer), and acts on the remote
release as an EOS does: ``eosremoterelease = Press Full`` opens the shutter, ``Release
Full`` closes it, then the file the exposure produced is stored on the "card" and
announced by a file-added event. What the file holds comes from an
:class:`ExposureSource`: a fixed raw file (:class:`FileSource`), or a simulated camera
rendered as a Bayer mosaic and written as a DNG (:class:`SimCameraSource`, what a
simulated PANOPTES night uses). Every ``set_config`` is logged in order
(:attr:`ReplayCamera.settings_log`), so tests can check the release sequence.

:meth:`ReplayCamera.unplug` makes the camera vanish: every later call, and a wait in
progress, raises :class:`CameraGoneError`; detection no longer lists it.

Time is the nocturna clock given (a simulated night's virtual time).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any, Protocol

import numpy as np

from nocturna.core.clock import Clock, get_clock
from nocturna.devices.gphoto2.layer import (
    PRESS_FULL,
    RELEASE_FULL,
    CameraFile,
    CameraGoneError,
    CameraLink,
    ConfigValue,
    DetectedCamera,
    Gphoto2Error,
    Gphoto2Layer,
)
from nocturna.devices.gphoto2.recorded import recorded_canon_config

CARD_FOLDER = "/store_00020001/DCIM/100CANON"
"""Where an EOS stores its pictures (as libgphoto2 lists a Canon card)."""


class ExposureSource(Protocol):
    """What the sensor of a stand-in camera collects between press and release."""

    async def shutter_opened(self) -> None: ...

    async def shutter_closed(self) -> tuple[str, bytes]:
        """The file the exposure produced: (its extension without dot, its bytes)."""
        ...


class FileSource:
    """The same raw file after every exposure (a real raw file, or a DNG to the spec)."""

    def __init__(self, data: bytes, extension: str) -> None:
        self.data = data
        self.extension = extension.lstrip(".").upper()
        self.opened = 0

    async def shutter_opened(self) -> None:
        self.opened += 1

    async def shutter_closed(self) -> tuple[str, bytes]:
        return self.extension, self.data


class SimCameraSource:
    """A nocturna :class:`~nocturna.devices.sim.camera.SimCamera` (Bayer sensor) behind
    the shutter: open → its exposure starts (open-ended: its longest exposure), close →
    it stops, reads out on its clock, and its mosaic is written as a DNG."""

    def __init__(self, sim: Any, *, pattern: str = "RGGB") -> None:
        self.sim = sim
        self.pattern = pattern

    async def shutter_opened(self) -> None:
        if not self.sim.connected:
            await self.sim.connect()
        await self.sim.start_exposure(self.sim.model.exposure_max_s)

    async def shutter_closed(self) -> tuple[str, bytes]:
        from nocturna.devices.gphoto2.dng import dng_bytes

        await self.sim.stop_exposure()
        await self.sim.wait_until_ready(0.0)
        image = await self.sim.image()
        top = int(self.sim.model.max_adu)
        mosaic = np.clip(image.data, 0, top).astype(np.uint16)
        data = await asyncio.to_thread(dng_bytes, mosaic, pattern=self.pattern,
                                       white_level=top, camera_model=self.sim.model.sensor_name)
        return "DNG", data


class ReplayCamera(CameraLink):
    """One stand-in Canon EOS on a port (see the module docstring).

    ``config``: its widgets (default: the recorded Canon ones); ``values``: values
    this camera reads instead (its own serial number, owner...).
    """

    def __init__(self, model: str, port: str, source: ExposureSource, *,
                 config: Mapping[str, ConfigValue] | None = None,
                 values: Mapping[str, str] | None = None, clock: Clock | None = None) -> None:
        self.model = model
        self.port = port
        self.source = source
        self._clock = clock
        self.widgets = dict(recorded_canon_config() if config is None else config)
        for name, value in (values or {}).items():
            self.widgets[name] = dataclasses.replace(self._widget(name), value=value)
        self.settings_log: list[tuple[str, str]] = []
        self.files: dict[str, bytes] = {}
        self.gone = False
        self.is_open = False
        self.shutter_open = False
        self._added: asyncio.Queue[CameraFile | None] = asyncio.Queue()
        self._numbers = itertools.count(1)
        self._pending: set[asyncio.Task[None]] = set()

    @property
    def clock(self) -> Clock:
        return self._clock if self._clock is not None else get_clock()

    def _check(self, what: str) -> None:
        if self.gone:
            raise CameraGoneError(f"{self.model} on {self.port}: {what}: the camera does not "
                                  "answer (I/O error)")

    def _widget(self, name: str) -> ConfigValue:
        widget = self.widgets.get(name)
        if widget is None:
            raise Gphoto2Error(f"{self.model} on {self.port}: get config {name}: libgphoto2 "
                               "error [-2] Bad parameters (no such widget)")
        return widget

    # ------------------------------------------------------------ the camera
    def unplug(self) -> None:
        """The camera vanishes (USB unplugged, battery empty)."""
        self.gone = True
        self._added.put_nowait(None)

    def plug_in(self) -> None:
        """The camera is back on its port (closed: a driver opens it again)."""
        self.gone = False
        self.is_open = False
        self._added = asyncio.Queue()

    async def config(self, name: str) -> ConfigValue:
        self._check(f"get config {name}")
        return self._widget(name)

    async def set_config(self, name: str, value: str) -> None:
        what = f"set config {name}={value!r}"
        self._check(what)
        widget = self._widget(name)
        if widget.readonly or (widget.choices and value not in widget.choices):
            raise Gphoto2Error(f"{self.model} on {self.port}: {what}: libgphoto2 error [-2] "
                               "Bad parameters")
        self.settings_log.append((name, value))
        self.widgets[name] = dataclasses.replace(widget, value=value)
        if name == "eosremoterelease":
            await self._release(value)

    async def _release(self, value: str) -> None:
        if value == PRESS_FULL and not self.shutter_open:
            self.shutter_open = True
            await self.source.shutter_opened()
        elif value == RELEASE_FULL and self.shutter_open:
            self.shutter_open = False
            task = asyncio.get_running_loop().create_task(self._store_exposure())
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _store_exposure(self) -> None:
        extension, data = await self.source.shutter_closed()
        if self.gone:
            return
        file = CameraFile(CARD_FOLDER, f"IMG_{next(self._numbers):04d}.{extension}")
        self.files[file.path] = data
        self._added.put_nowait(file)

    async def wait_for_file(self, timeout_s: float) -> CameraFile | None:
        self._check("wait for a file")
        getter = asyncio.ensure_future(self._added.get())
        sleeper = asyncio.ensure_future(self.clock.sleep(timeout_s))
        try:
            await asyncio.wait((getter, sleeper), return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            if not getter.done():
                getter.cancel()
        if not getter.done() or getter.cancelled():
            return None
        file = getter.result()
        if file is None:
            self._check("wait for a file")
        return file

    async def download(self, file: CameraFile) -> bytes:
        self._check(f"download {file.path}")
        data = self.files.get(file.path)
        if data is None:
            raise Gphoto2Error(f"{self.model} on {self.port}: download {file.path}: "
                               "libgphoto2 error [-108] File not found")
        return data

    async def capture(self) -> CameraFile:
        self._check("capture")
        await self.source.shutter_opened()
        extension, data = await self.source.shutter_closed()
        file = CameraFile(CARD_FOLDER, f"IMG_{next(self._numbers):04d}.{extension}")
        self.files[file.path] = data
        return file

    async def list_files(self, folder: str = "/") -> list[CameraFile]:
        self._check(f"list files in {folder}")
        return [CameraFile(str(PurePosixPath(path).parent), PurePosixPath(path).name)
                for path in self.files if path.startswith(folder)]

    async def close(self) -> None:
        self.is_open = False
        for task in list(self._pending):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


class ReplayLayer(Gphoto2Layer):
    """A USB bus of stand-in cameras (see the module docstring)."""

    def __init__(self, cameras: list[ReplayCamera] | None = None) -> None:
        self.cameras: list[ReplayCamera] = list(cameras or [])

    def add(self, camera: ReplayCamera) -> ReplayCamera:
        self.cameras.append(camera)
        return camera

    async def detect(self) -> list[DetectedCamera]:
        return [DetectedCamera(c.model, c.port) for c in self.cameras if not c.gone]

    async def open(self, camera: DetectedCamera) -> CameraLink:
        for candidate in self.cameras:
            if candidate.port == camera.port and not candidate.gone:
                candidate.is_open = True
                return candidate
        raise CameraGoneError(f"{camera.model} on {camera.port}: cannot open the camera "
                              "(no camera on that port)")
