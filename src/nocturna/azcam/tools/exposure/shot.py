"""One exposure in progress, from ``begin`` to ``end``: what it takes, where it goes,
which step is next, its open-time timer and its abort."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from nocturna.azcam.detector import DetectorGeometry, Readout, Roi
from nocturna.azcam.filetypes import FileType
from nocturna.core.errors import OperationCancelledError
from nocturna.devices.camera import CameraImage
from nocturna.images.fits import WrittenImage
from nocturna.instrument.image_types import ImageType
from nocturna.instrument.pipeline import ExposureIds, FrameIdentity, StartReadings

T = TypeVar("T")


@dataclass
class Shot:
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
    ids: ExposureIds | None = None  # reserved for a kept image (a test image has none)
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

    @property
    def exposure_id(self) -> int | None:
        return self.ids.exposure_id if self.ids is not None else None

    def identity(self) -> FrameIdentity:
        """What the image is, as its header and database row say it."""
        return FrameIdentity.of_exposure(self.ids, self.kind.name, self.group_id,
                                         title=self.title)

    # ------------------------------------------------------------- the timer
    def open_time(self, now: float) -> float:
        """Seconds of light (or dark) collected by clock timestamp ``now``."""
        if self.open_since is None:
            return self.open_s
        return self.open_s + max(0.0, now - self.open_since)

    def remaining(self, now: float) -> float:
        """Seconds of integration still to go at ``now``."""
        return max(0.0, self.exposure_time - self.open_time(now))

    def pause_at(self, now: float) -> None:
        self.open_s = self.open_time(now)
        self.open_since, self.paused_since = None, now
        self.changed.set()

    def resume_at(self, now: float) -> None:
        assert self.paused_since is not None
        self.paused_s += now - self.paused_since
        self.paused_since, self.open_since = None, now
        self.changed.set()

    # ------------------------------------------------------------- the abort
    def abort(self) -> None:
        self.aborted = True
        self.changed.set()

    def raise_if_aborted(self) -> None:
        if self.aborted:
            raise OperationCancelledError("exposure aborted")

    async def guard(self, awaitable: Awaitable[T]) -> T:
        """Await ``awaitable`` unless the exposure is aborted first."""
        task = asyncio.ensure_future(awaitable)
        while not task.done():
            self.changed.clear()
            if self.aborted:
                break
            await first(asyncio.shield(task), self.changed.wait())
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self.raise_if_aborted()
        return task.result()


async def first(*awaitables: Awaitable[Any]) -> None:
    """Wait until the first of ``awaitables`` finishes; cancel the others."""
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
