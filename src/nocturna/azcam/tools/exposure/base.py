"""What every part of the exposure tool shares: the instrument and its camera, the
clock, the flag, and the tools it works with (small protocols, so tests can pass fakes)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from nocturna.azcam.tools.exposure.flags import ExposureFlag
from nocturna.azcam.tools.exposure.shot import Shot
from nocturna.core.clock import Clock
from nocturna.devices.camera import Camera
from nocturna.instrument.instrument import Instrument


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


class ExposureBase:
    """The state every part of the exposure tool reads (set by ``ExposureTool``)."""

    name = "exposure"

    instrument: Instrument
    camera: Camera
    _clock: Clock | None
    flag: ExposureFlag
    message: str
    last_error: BaseException | None
    _shot: Shot | None  # the exposure in progress

    @property
    def clock(self) -> Clock:
        return self._clock if self._clock is not None else self.instrument.clock
