"""The gphoto2 layer on python-gphoto2 (libgphoto2 bundled in its wheel).

Every libgphoto2 call blocks, so each runs in a worker thread
(:func:`asyncio.to_thread`), one at a time per camera (libgphoto2 is not safe for
concurrent calls on one camera). libgphoto2 errors become :class:`Gphoto2Error`
naming the operation, except those that mean the camera is gone (I/O, USB, no such
port or model), which become :class:`CameraGoneError`.

Note: python-gphoto2 chooses its port drivers when it is first imported; with
``VCAMERADIR`` set in the environment then, the only port is libgphoto2's virtual
camera (used by the tests), never a real USB camera.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

from nocturna.devices.gphoto2.layer import (
    CameraFile,
    CameraGoneError,
    CameraLink,
    ConfigValue,
    DetectedCamera,
    Gphoto2Error,
    Gphoto2Layer,
)

T = TypeVar("T")

_GONE = ("GP_ERROR_IO", "GP_ERROR_IO_READ", "GP_ERROR_IO_WRITE", "GP_ERROR_IO_USB_FIND",
         "GP_ERROR_IO_USB_CLAIM", "GP_ERROR_IO_UNKNOWN_PORT", "GP_ERROR_MODEL_NOT_FOUND")
"""libgphoto2 errors meaning the camera is not (or no longer) reachable."""


def _gp() -> Any:
    import gphoto2

    return gphoto2


def _error(what: str, exc: Exception) -> Exception:
    gp = _gp()
    code = getattr(exc, "code", None)
    if code in {getattr(gp, name) for name in _GONE if hasattr(gp, name)}:
        return CameraGoneError(f"{what}: the camera does not answer ({exc})")
    return Gphoto2Error(f"{what}: libgphoto2 error {exc}")


def _widget_value(widget: Any) -> ConfigValue:
    gp = _gp()
    kind = widget.get_type()
    names = {gp.GP_WIDGET_TEXT: "TEXT", gp.GP_WIDGET_RADIO: "RADIO",
             gp.GP_WIDGET_MENU: "MENU", gp.GP_WIDGET_TOGGLE: "TOGGLE",
             gp.GP_WIDGET_RANGE: "RANGE", gp.GP_WIDGET_DATE: "DATE"}
    choices: tuple[str, ...] = ()
    if kind in (gp.GP_WIDGET_RADIO, gp.GP_WIDGET_MENU):
        choices = tuple(str(c) for c in widget.get_choices())
    value = widget.get_value()
    return ConfigValue(name=widget.get_name(), label=widget.get_label(),
                       type=names.get(kind, str(kind)), readonly=bool(widget.get_readonly()),
                       value="" if value is None else str(value), choices=choices)


class LibGphoto2Link(CameraLink):
    """One camera opened through python-gphoto2."""

    def __init__(self, camera: Any, detected: DetectedCamera) -> None:
        self._camera: Any = camera
        self.port = detected.port
        self.model = detected.model
        self._lock = asyncio.Lock()

    async def _call(self, what: str, func: Callable[[], T]) -> T:
        async with self._lock:
            if self._camera is None:
                raise CameraGoneError(f"{what}: the camera on {self.port} is closed")
            try:
                return await asyncio.to_thread(func)
            except _gp().GPhoto2Error as exc:
                raise _error(f"{self.model} on {self.port}: {what}", exc) from None

    async def config(self, name: str) -> ConfigValue:
        return await self._call(f"get config {name}",
                                lambda: _widget_value(self._camera.get_single_config(name)))

    async def set_config(self, name: str, value: str) -> None:
        def run() -> None:
            widget = self._camera.get_single_config(name)
            widget.set_value(value)
            self._camera.set_single_config(name, widget)

        await self._call(f"set config {name}={value!r}", run)

    async def wait_for_file(self, timeout_s: float) -> CameraFile | None:
        gp = _gp()

        def run() -> CameraFile | None:
            deadline = time.monotonic() + timeout_s
            while True:
                left_ms = int(max(0.0, deadline - time.monotonic()) * 1000)
                kind, data = self._camera.wait_for_event(min(left_ms, 1000))
                if kind == gp.GP_EVENT_FILE_ADDED:
                    return CameraFile(data.folder, data.name)
                if left_ms <= 0:
                    return None

        return await self._call("wait for a file", run)

    async def download(self, file: CameraFile) -> bytes:
        gp = _gp()

        def run() -> bytes:
            data = self._camera.file_get(file.folder, file.name, gp.GP_FILE_TYPE_NORMAL)
            return bytes(memoryview(data.get_data_and_size()))

        return await self._call(f"download {file.path}", run)

    async def capture(self) -> CameraFile:
        gp = _gp()

        def run() -> CameraFile:
            path = self._camera.capture(gp.GP_CAPTURE_IMAGE)
            return CameraFile(path.folder, path.name)

        return await self._call("capture", run)

    async def list_files(self, folder: str = "/") -> list[CameraFile]:
        def walk(path: str) -> list[CameraFile]:
            files = [CameraFile(path, name) for name, _ in self._camera.folder_list_files(path)]
            for name, _ in self._camera.folder_list_folders(path):
                files += walk(f"{path.rstrip('/')}/{name}")
            return files

        return await self._call(f"list files in {folder}", lambda: walk(folder))

    async def close(self) -> None:
        camera, self._camera = self._camera, None
        if camera is not None:
            async with self._lock:
                try:
                    await asyncio.to_thread(camera.exit)
                except _gp().GPhoto2Error:
                    pass  # already gone: nothing to release


class LibGphoto2Layer(Gphoto2Layer):
    """Cameras on this computer's USB bus, through python-gphoto2."""

    async def detect(self) -> list[DetectedCamera]:
        gp = _gp()

        def run() -> list[DetectedCamera]:
            return [DetectedCamera(str(model), str(port))
                    for model, port in gp.Camera.autodetect()]

        try:
            return await asyncio.to_thread(run)
        except gp.GPhoto2Error as exc:
            raise _error("detect cameras", exc) from None

    async def open(self, camera: DetectedCamera) -> CameraLink:
        gp = _gp()

        def run() -> Any:
            ports = gp.PortInfoList()
            ports.load()
            abilities = gp.CameraAbilitiesList()
            abilities.load()
            handle = gp.Camera()
            handle.set_port_info(ports[ports.lookup_path(camera.port)])
            handle.set_abilities(abilities[abilities.lookup_model(camera.model)])
            handle.init()
            return handle

        try:
            handle = await asyncio.to_thread(run)
        except gp.GPhoto2Error as exc:
            raise CameraGoneError(f"{camera.model} on {camera.port}: cannot open the camera "
                                  f"({exc})") from None
        return LibGphoto2Link(handle, camera)
