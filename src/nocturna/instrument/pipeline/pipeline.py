"""The frame pipeline: exposure id → header sources at the start → header → encoder →
file and database row.

One :class:`FramePipeline` serves one camera; the instrument's sequences, the azcam
exposure tool and ``nocturna camera expose`` all take their frames through it:

1. :meth:`FramePipeline.reserve_ids` reserves the exposure id (storage) and names the
   image after it;
2. :meth:`FramePipeline.read_at_start` reads the header sources as the shutter opens;
3. :meth:`FramePipeline.observe` hands the read-out image to the frame observers
   (guiding, tracking) before it is written;
4. :meth:`FramePipeline.describe` gathers the header from the readings and the frame's
   :class:`~nocturna.instrument.pipeline.identity.FrameIdentity` (built later, off the
   loop);
5. :meth:`FramePipeline.save` builds the header, has the encoder write the file
   atomically, then adds the row the identity gives, all in one worker thread. A row
   that cannot be added (the image id is taken) removes the file it was about to
   describe, so there is never a file of the pipeline's without its row, nor a row
   without its file.

:meth:`FramePipeline.check_free` refuses an image id or a path that is taken, before
anything moves.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from astropy.io import fits

from nocturna.core.errors import InvalidValueError, OperationCancelledError
from nocturna.devices.camera import CameraImage
from nocturna.images import header as h
from nocturna.images.encoders import Encoder, FitsEncoder
from nocturna.images.fits import WrittenImage
from nocturna.instrument.exposure_ids import ExposureIdSource
from nocturna.instrument.pipeline.context import FrameContext
from nocturna.instrument.pipeline.describe import FrameDescription, describe
from nocturna.instrument.pipeline.identity import ExposureIds, FrameIdentity
from nocturna.instrument.pipeline.record import FrameRow, row_values
from nocturna.instrument.pipeline.sources import StartReadings, read_at_start

log = logging.getLogger(__name__)


FrameObserver = Callable[[CameraImage], None]


class FramePipeline:
    """Exposure ids, header sources, frame observers, encoders and database rows of one
    camera."""

    def __init__(self, context: FrameContext | None, *, storage: Any | None = None,
                 exposure_ids: ExposureIdSource | None = None,
                 encoder: Encoder | None = None, name: str | None = None) -> None:
        self.context = context
        self.name = name  # the image ids' prefix (None: the exposure ids' stream)
        self.storage = storage
        self.exposure_ids = exposure_ids
        self.encoder: Encoder = encoder or FitsEncoder()
        # Given every frame as it is read out, before it is written (guiding, tracking).
        self.frame_observers: list[FrameObserver] = []

    async def reserve_ids(self) -> ExposureIds:
        """Reserve the next exposure id of the current observing day, and its image id."""
        if self.exposure_ids is None:
            raise InvalidValueError("this frame pipeline has no exposure ids (no storage)")
        exposure_id = await self.exposure_ids.next_id()
        return ExposureIds(exposure_id, self.image_id(exposure_id))

    def image_id(self, exposure_id: int) -> str:
        """The image id (file stem, database key) of one of this pipeline's exposures:
        the pipeline's name (default: the exposure ids' stream) and the exposure id."""
        if self.exposure_ids is None:
            raise InvalidValueError("this frame pipeline has no exposure ids (no storage)")
        return f"{self.name or self.exposure_ids.stream}_{exposure_id}"

    def observe(self, image: CameraImage) -> None:
        """Hand a frame just read out to every frame observer."""
        for observer in list(self.frame_observers):
            observer(image)

    async def read_at_start(self, when: datetime | None = None) -> StartReadings:
        """The header sources (mount, filter, focuser, weather, sky) read now."""
        return await read_at_start(self._context(), when)

    async def describe(self, image: CameraImage, readings: StartReadings | None = None,
                       *, identity: FrameIdentity | None = None,
                       sections: Sequence[h.CardSource | None] = (),
                       extra: dict[str, tuple[Any, str]] | None = None,
                       defaults: dict[str, tuple[Any, str]] | None = None,
                       ) -> FrameDescription:
        """The header of ``image``, the frame ``identity`` says (``readings``: taken at
        its start; default: now); see :func:`.describe.describe`."""
        if readings is None:
            readings = await self.read_at_start(image.start_time)
        return await describe(image, self._context(), readings, identity=identity,
                              sections=sections, extra=extra, defaults=defaults)

    def _context(self) -> FrameContext:
        if self.context is None:
            raise InvalidValueError("this frame pipeline only saves: it has no devices")
        return self.context

    def check_free(self, image_id: str | None, path: Path | None = None, *,
                   overwrite: bool = False) -> None:
        """Refuse an image id already recorded, or an existing ``path`` (unless
        ``overwrite``), before anything is exposed or written."""
        if path is not None and not overwrite and Path(path).exists():
            raise InvalidValueError(f"{path} already exists; pass overwrite=True to "
                                    "replace it")
        if image_id is not None and self.storage is not None and \
                self.storage.get_exposure(image_id) is not None:
            raise InvalidValueError(f"an exposure with image id {image_id!r} already exists")

    async def save(self, path: Path, pixels: Any, header: fits.Header | FrameDescription,
                   *, row: FrameRow | None = None, encoder: Encoder | None = None,
                   overwrite: bool = False,
                   adjust: Callable[[fits.Header], None] | None = None,
                   keep: Callable[[], bool] | None = None) -> WrittenImage:
        """Write ``pixels`` with ``header`` to ``path`` and add ``row`` (default: the one
        a :class:`FrameDescription` gives; see the module docstring), in one worker
        thread. ``adjust`` edits the built header first;
        ``keep`` is asked once the file is written: False (an abort meanwhile) removes
        it, adds no row and raises :class:`OperationCancelledError`."""
        return await asyncio.to_thread(self.save_now, Path(path), pixels, header, row=row,
                                       encoder=encoder, overwrite=overwrite, adjust=adjust,
                                       keep=keep)

    def save_now(self, path: Path, pixels: Any, header: fits.Header | FrameDescription, *,
                 row: FrameRow | None = None, encoder: Encoder | None = None,
                 overwrite: bool = False,
                 adjust: Callable[[fits.Header], None] | None = None,
                 keep: Callable[[], bool] | None = None) -> WrittenImage:
        """:meth:`save` in the calling thread."""
        built = isinstance(header, FrameDescription)
        if isinstance(header, FrameDescription):
            row = row or header.row()
            # cards the encoder lays out itself, unless ``adjust`` wants a Header
            header = header.header() if adjust is not None else header.cards()
        if adjust is not None:
            adjust(header)
        existed = overwrite and path.exists()
        written = (encoder or self.encoder).write(path, pixels, header, overwrite=overwrite,
                                                  check_header=not built)
        if keep is not None and not keep():
            written.path.unlink(missing_ok=True)
            raise OperationCancelledError(f"{path.name}: abandoned while it was written")
        if row is not None and self.storage is not None:
            try:
                self.storage.add_exposure(row.image_id, **row_values(
                    written.header, path=written.path, size_bytes=written.size_bytes,
                    checksum=written.checksum, camera=row.camera, image_type=row.image_type,
                    exposure_time_s=row.exposure_time_s, start_time=row.start_time,
                    observation_id=row.observation_id))
            except BaseException:
                if not existed:  # a file nothing records would be found as an orphan
                    written.path.unlink(missing_ok=True)
                raise
        return written
