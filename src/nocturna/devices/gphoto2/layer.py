"""The gphoto2 layer nocturna owns: the few camera operations the DSLR driver uses.

Two implementations: :class:`~nocturna.devices.gphoto2.libgphoto2.LibGphoto2Layer`
(python-gphoto2, blocking calls in worker threads) and
:class:`~nocturna.devices.gphoto2.standin.ReplayLayer` (recorded Canon EOS responses,
a raw file served on release). The driver sees only this interface.

Config values are addressed by widget *name* (``iso``, ``eosremoterelease``), as
``gphoto2 --get-config NAME`` does; radio/menu widgets list their ``choices``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from nocturna.core.errors import InvalidValueError, NocturnaError

PRESS_FULL = "Press Full"
"""eosremoterelease choice 2: the shutter button fully down (a bulb exposure opens)."""
RELEASE_FULL = "Release Full"
"""eosremoterelease choice 4: the button released (the bulb exposure closes)."""


class CameraGoneError(NocturnaError):
    """The camera no longer answers (unplugged, switched off, port gone)."""


class Gphoto2Error(NocturnaError):
    """libgphoto2 refused an operation (the message names it and libgphoto2's reason)."""


@dataclass(frozen=True)
class DetectedCamera:
    """One camera as autodetection lists it."""

    model: str
    port: str  # e.g. "usb:001,005"


@dataclass(frozen=True)
class ConfigValue:
    """One config widget: its name, label, type (TEXT, RADIO, MENU, TOGGLE, RANGE,
    DATE), whether it is read-only, its current value and its choices (radio/menu)."""

    name: str
    label: str
    type: str
    readonly: bool
    value: str
    choices: tuple[str, ...] = ()

    def check_choice(self, value: str, owner: str) -> None:
        """Refuse ``value`` for a radio/menu widget that does not offer it."""
        if self.choices and value not in self.choices:
            raise InvalidValueError(
                f"{owner}: {self.name} {value!r} is not offered by the camera "
                f"(choices: {', '.join(self.choices)})")


@dataclass(frozen=True)
class CameraFile:
    """A file on the camera (folder, name) as a file-added event or capture names it."""

    folder: str
    name: str

    @property
    def path(self) -> str:
        return f"{self.folder.rstrip('/')}/{self.name}"


class CameraLink(ABC):
    """One opened camera. Every method may raise :class:`CameraGoneError`."""

    port: str
    model: str

    @abstractmethod
    async def config(self, name: str) -> ConfigValue:
        """The widget ``name`` (:class:`Gphoto2Error` if the camera has none)."""

    @abstractmethod
    async def set_config(self, name: str, value: str) -> None:
        """Set widget ``name`` to ``value`` (a choice's text for radio/menu widgets)."""

    @abstractmethod
    async def wait_for_file(self, timeout_s: float) -> CameraFile | None:
        """Wait for the camera's next file-added event; None after ``timeout_s``."""

    @abstractmethod
    async def download(self, file: CameraFile) -> bytes:
        """The file's bytes."""

    @abstractmethod
    async def capture(self) -> CameraFile:
        """Take a picture at the camera's current (fixed) shutter speed."""

    @abstractmethod
    async def list_files(self, folder: str = "/") -> list[CameraFile]:
        """Every file under ``folder``, recursively."""

    @abstractmethod
    async def close(self) -> None:
        """Release the camera (idempotent)."""

    async def has_config(self, name: str) -> bool:
        try:
            await self.config(name)
        except Gphoto2Error:
            return False
        return True


class Gphoto2Layer(ABC):
    """Finds and opens cameras."""

    @abstractmethod
    async def detect(self) -> list[DetectedCamera]:
        """Every camera on the bus (model, port)."""

    @abstractmethod
    async def open(self, camera: DetectedCamera) -> CameraLink:
        """Open ``camera`` (:class:`CameraGoneError` if it is not there)."""
